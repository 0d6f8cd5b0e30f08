import assert from "node:assert/strict";
import { FAILURE_BACKOFF_MAX_MS, FailureWindow, LaunchBackoff } from "../lib/control/failures.ts";

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

Deno.test("launch backoff: doubles with each failure in a row up to 60 s; a batch counts once", () => {
  const b = new LaunchBackoff();
  assert.deepEqual(b.failed("warmer", 0, 100), { failures: 1, until: 1100, pauseMs: 1000 });
  // Asked for before the failure just counted: the same batch, no extra pause.
  assert.equal(b.failed("warmer", 50, 120), undefined);
  assert.deepEqual(b.failed("warmer", 1200, 1300), { failures: 2, until: 3300, pauseMs: 2000 });
  let last = b.failed("warmer", 3400, 3500)!;
  assert.equal(last.pauseMs, 4000);
  for (let t = 10_000; t < 200_000; t += 10_000) last = b.failed("warmer", t, t + 1)!;
  assert.equal(last.pauseMs, FAILURE_BACKOFF_MAX_MS);
  assert.deepEqual(b.state("cooler", 0), { failures: 0, until: 0, pauseMs: 0 }, "kinds are apart");
});

Deno.test("launch backoff: a success ends the streak; a hold that passed reads as not held", () => {
  const b = new LaunchBackoff();
  b.failed("cooler", 0, 0);
  b.failed("cooler", 10, 1000);
  assert.deepEqual(b.state("cooler", 2500), { failures: 2, until: 3000, pauseMs: 2000 });
  assert.deepEqual(b.state("cooler", 3000), { failures: 2, until: 0, pauseMs: 0 });
  assert.equal(b.succeeded("cooler"), true);
  assert.equal(b.succeeded("cooler"), false, "nothing left to end");
  assert.deepEqual(b.failed("cooler", 4000, 4000), { failures: 1, until: 5000, pauseMs: 1000 });
});
