/**
 * Real-time end-to-end run of main.ts, worker shape: a queue fed at a stepping rate, the cooler
 * a consumer that drains while it runs (sim/e2e_queue.ts has the plant and bounds,
 * tests/support/e2e_shapes.ts the run).
 * @module
 */

import { WORKER_CONSUMER } from "../sim/e2e_queue.ts";
import { queueShape } from "./support/e2e_shapes.ts";

Deno.test({
  name: "worker shape: consumers that drain while they run hold a stepping queue near 0",
  async fn() {
    await queueShape("worker", WORKER_CONSUMER, (command) => command, false);
  },
});
