/**
 * Real-time end-to-end run of main.ts, trigger shape: the cooler starts a detached consumer
 * 1.5 s later and exits at once, like the original README's `./start-worker.sh`
 * (sim/e2e_queue.ts has the plant and bounds, tests/support/e2e_shapes.ts the run).
 * @module
 */

import { TRIGGER_CONSUMER, TRIGGER_DELAY_S } from "../sim/e2e_queue.ts";
import { queueShape, START_DETACHED } from "./support/e2e_shapes.ts";

// The consumers' start-ups differ from one to the next (each is its own process), which smears
// the effect the law learns as one box; at an empty queue a box too short or arrivals learned too
// high are never contradicted. This test was ignored as a known miss of control law v2 before
// its eleventh step and again from the twelfth to the fifteenth (docs/control-law.md, "History"):
// 12 to 19 launches, 9 of 26 runs over the bound of 15. With candidate effect delays half a
// second apart (fifteenth step) it launched 11-14 in every run since: 12 runs alone and 16 full
// suites of that step's code, and 20 full suites of the sixteenth's.
Deno.test({
  name: "trigger shape: a cooler that starts a detached consumer and exits holds the queue near 0",
  async fn() {
    await queueShape(
      "trigger",
      TRIGGER_CONSUMER,
      (command) => `'${START_DETACHED}' ${TRIGGER_DELAY_S} ${command}`,
      true,
    );
  },
});
