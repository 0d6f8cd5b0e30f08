/**
 * Real-time end-to-end run of main.ts, trigger shape: the cooler starts a detached consumer
 * 1.5 s later and exits at once, like the original README's `./start-worker.sh`
 * (sim/e2e_queue.ts has the plant and bounds, tests/support/e2e_shapes.ts the run).
 * @module
 */

import { TRIGGER_CONSUMER, TRIGGER_DELAY_S } from "../sim/e2e_queue.ts";
import { queueShape, START_DETACHED } from "./support/e2e_shapes.ts";

// Known miss of control law v2 (issue #10, left open): the launches are not reliably within the
// bound of 15. Back in the suite with the eleventh step (docs/control-law.md, "History"), it then
// launched 12, 17, 16, 11, 13, 14 and 18 in seven more full suites: three over. The consumers'
// start-ups differ from one to the next (each is its own process), which smears the effect the law
// learns as one box; at the empty queue a box too short or arrivals learned too high are never
// contradicted. The seeded replay draws that start-up per consumer since the twelfth step: 97
// and 83 of 100 plants within the bounds (idle and loaded start-ups). With the thirteenth step's
// code, run alone on an idle machine: 14, 17, 14, 19, 14 and 15 launches (two over), and 13 more
// runs in the fourteenth step 13-19 (four over). The replay's row with the start-up measured here
// (0.03-0.07 s over the 1.5 s delay) has 67 of 100 plants within the bounds, where the causal
// reference is within in 100 of 100 (bench/RESULTS.md, "Seeded plants"). With delays half a
// second apart (fifteenth step) that row has 99 of 100 within, 12 runs alone launched 11-13 and 6
// full suites 12-14: kept ignored until many more suites show it within. Ignored so that the
// suite does not fail at random; take the ignore out to run it.
Deno.test({
  name: "trigger shape: a cooler that starts a detached consumer and exits holds the queue near 0",
  ignore: true,
  async fn() {
    await queueShape(
      "trigger",
      TRIGGER_CONSUMER,
      (command) => `'${START_DETACHED}' ${TRIGGER_DELAY_S} ${command}`,
      true,
    );
  },
});
