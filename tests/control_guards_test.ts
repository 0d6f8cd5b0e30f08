import assert from "node:assert/strict";
import { exploreCap } from "../lib/control/guards.ts";

Deno.test("exploration cap: one start while nothing was started, half as many again per second", () => {
  assert.equal(exploreCap(0, 1), 1);
  assert.equal(exploreCap(3, 1), 2);
  assert.equal(exploreCap(20, 1), 10);
});

Deno.test("exploration cap: half-second ticks explore no faster in time than one-second ticks", () => {
  // Two half-second ticks from 20 starts: 20 → 25 → 31, against 20 → 30 in one one-second tick
  // (whole starts round up, so a little faster, never twice as fast).
  const first = exploreCap(20, 0.5);
  const second = exploreCap(20 + first, 0.5);
  assert.equal(first + second, 11);
  assert.ok(first < exploreCap(20, 1));
});
