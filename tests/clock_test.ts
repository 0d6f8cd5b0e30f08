import assert from "node:assert/strict";
import { systemClock } from "../lib/clock.ts";

Deno.test("systemClock.sleep: 30 days does not fire at once (timers overflow past 2^31 ms)", async () => {
  const ac = new AbortController();
  let woke = false;
  const sleeping = systemClock.sleep(30 * 86_400_000, ac.signal).then(() => (woke = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(woke, false);
  ac.abort();
  await sleeping;
  assert.equal(woke, true);
});

Deno.test("systemClock.sleep: short sleeps keep their length", async () => {
  const started = performance.now();
  await systemClock.sleep(50);
  assert.ok(performance.now() - started >= 45);
});
