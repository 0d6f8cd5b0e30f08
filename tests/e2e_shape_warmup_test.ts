/**
 * Real-time end-to-end run of main.ts, warm-up shape: warmers register as consumers 3 s after
 * they start, steered to a square consumer target, cooled by kill
 * (tests/support/e2e_shapes.ts has the plant and bounds).
 * @module
 */

import { warmUpShape } from "./support/e2e_shapes.ts";

Deno.test({
  name: "warm-up shape: warmers useful 3 s after start follow a square consumer target",
  async fn() {
    await warmUpShape();
  },
});
