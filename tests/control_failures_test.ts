import assert from "node:assert/strict";
import { FailureWindow } from "../lib/control/failures.ts";

Deno.test("max failures within the window trips; older failures fall out", () => {
  const f = new FailureWindow(3, 10_000);
  assert.equal(f.record(0), false);
  assert.equal(f.record(5_000), false);
  assert.equal(f.record(10_500), false); // the first one fell out of the window
  assert.equal(f.count, 2);
  assert.equal(f.record(11_000), true);
});

Deno.test("max 0 never trips", () => {
  const f = new FailureWindow(0, 1000);
  for (let i = 0; i < 100; i++) assert.equal(f.record(i), false);
});
