/**
 * Real-time end-to-end run of main.ts, trigger shape: the cooler starts a detached consumer
 * 1.5 s later and exits at once, like the original README's `./start-worker.sh`
 * (sim/e2e_queue.ts has the plant and bounds, tests/support/e2e_shapes.ts the run).
 * @module
 */

import { TRIGGER_CONSUMER, TRIGGER_DELAY_S } from "../sim/e2e_queue.ts";
import { queueShape, START_DETACHED } from "./support/e2e_shapes.ts";

// The tightest of the three shape tests. Since the tenth step of control law v2 (the
// `disputed` guard; docs/control-law.md, "History") it passed in 6 of 6 full suites (12, 11, 14,
// 15, 12 and 12 launches for a bound of 15, once 17), where the ninth step's code launched 18, 15
// and 12; the seeded replay of this plant (bench/RESULTS.md) has 95 of 100 plants within its
// bounds, so a run over them is possible, and its report says where the launches went.
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
