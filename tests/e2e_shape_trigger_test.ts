/**
 * Real-time end-to-end run of main.ts, trigger shape: the cooler starts a detached consumer
 * 1.5 s later and exits at once, like the original README's `./start-worker.sh`
 * (sim/e2e_queue.ts has the plant and bounds, tests/support/e2e_shapes.ts the run).
 * @module
 */

import { TRIGGER_CONSUMER, TRIGGER_DELAY_S } from "../sim/e2e_queue.ts";
import { queueShape, START_DETACHED } from "./support/e2e_shapes.ts";

// In the suite since the eleventh step of control law v2 (running counts blind to triggers ranked
// down; docs/control-law.md, "History"): 7 full suites launched 12-15 for its bound of 15.
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
