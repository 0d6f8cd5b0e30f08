import assert from "node:assert/strict";
import { exploreCap, SaturationGuard, waitingForRoom } from "../lib/control/guards.ts";
import { TUNING } from "../lib/control/tuning.ts";
import { emptyFacts } from "../lib/control/facts.ts";
import type { KindFacts, Move } from "../lib/control/types.ts";

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

const oneWarmer: Move = { type: "start", kind: "warmer", n: 1 };
/** Warmer facts with `waiting` tasks, the longest waiting `longestWait` s, and past delays. */
function waitingWarmers(waiting: number, longestWait: number, startDelays: number[]): KindFacts {
  return { ...emptyFacts().warmer, inflight: waiting, waiting, longestWait, startDelays };
}

Deno.test("no room: no start while a task has waited past twice the quickest start and a tick", () => {
  // Starts took 0.1-0.3 s; one has waited 0.5 s at 0.2 s ticks (limit 2 × 0.1 + 0.2 = 0.4 s).
  const held = waitingForRoom(oneWarmer, waitingWarmers(1, 0.5, [0.1, 0.3]), 0.2);
  assert.equal(held.code, "no-room");
  assert.deepEqual(held.move, { type: "wait" });
  // At 0.3 s it is within what a start may take: starts go on.
  const free = waitingForRoom(oneWarmer, waitingWarmers(1, 0.3, [0.1, 0.3]), 0.2);
  assert.equal(free.code, undefined);
  assert.deepEqual(free.move, oneWarmer);
});

Deno.test("no room: in a cluster with room for one, the last start's long wait holds the next", () => {
  // The last warmer waited 1.8 s for the one before it to end; one asked for a tick ago waits.
  const held = waitingForRoom(oneWarmer, waitingWarmers(1, 0.2, [0.1, 1.8]), 0.2);
  assert.equal(held.code, "no-room");
  assert.match(held.note!, /last warmer waited 1\.8 s/);
  // With none waiting, the need may ask for one: it takes the room of the one that ends.
  const none = waitingForRoom(oneWarmer, waitingWarmers(0, 0, [0.1, 1.8]), 0.2);
  assert.deepEqual(none.move, oneWarmer);
});

Deno.test("no room: with no start seen yet, a wait of more than a tick holds the next", () => {
  assert.equal(waitingForRoom(oneWarmer, waitingWarmers(1, 1.5, []), 1).code, "no-room");
  assert.equal(waitingForRoom(oneWarmer, waitingWarmers(1, 0.5, []), 1).code, undefined);
});

/**
 * A queue too warm by `queue(t, n)` items with `tasks(t)` coolers running at each 1 s sample, of a
 * rate model that first learned 5 items/s per cooler, then 0.05 (their effect collapsed): the
 * guard holds them, and is asked every second about a plan for 1000 more. Returns whether it
 * still holds, the most coolers its last answer allows, and how often it said "saturated".
 */
function saturatedQueue(
  tasks: (t: number) => number,
  queue: (t: number, n: number) => number,
  seconds: number,
): { held: boolean; allowed: number; warned: number } {
  const guard = new SaturationGuard();
  guard.observe("cooler", 0, "rate", 5, true, 4, -100);
  const ask = { type: "start", kind: "cooler", n: 1000 } as const;
  let warned = 0;
  let allowed = 0;
  for (let t = 1; t <= seconds; t++) {
    const n = tasks(t);
    if (guard.observe("cooler", t, "rate", 0.05, true, n, -queue(t, n))) warned++;
    const cut = guard.check(ask, t, () => n);
    allowed = n + (cut.move.type === "start" ? cut.move.n : 0);
  }
  return { held: guard.holding("cooler"), allowed, warned };
}

Deno.test("saturation: a hold whose probe helps is raised a probe's worth, step by step", () => {
  // Arrivals of 80/s; each cooler takes 5/s (no cap any more): 4 running, 6 from a probe at 31 s.
  let q = 100;
  const tasks = (t: number) => (t > 30 ? 6 : 4);
  const r = saturatedQueue(
    tasks,
    (_t, n) => (q += 80 - 5 * n),
    31 + 2 * TUNING.saturationEvidenceSamples,
  );
  assert.equal(r.warned, 1);
  assert.ok(r.held, "still held: the model has not learned the gain back");
  assert.ok(r.allowed >= Math.ceil(6 * TUNING.probeFactor), `allowed ${r.allowed}`);
});

Deno.test("saturation: a hold whose probes do not help stays at its count", () => {
  // A drain capped at 30/s: 4 coolers or 6, the queue grows by 50/s, with a little noise.
  let q = 100;
  const tasks = (t: number) => (t > 30 && t <= 45 ? 6 : 4);
  const noise = (t: number) => 2 * Math.sin(t * 1.7);
  const r = saturatedQueue(tasks, (t) => (q += 50 + noise(t)), 55);
  assert.equal(r.warned, 1);
  assert.ok(r.held);
  assert.equal(r.allowed, 4);
});

Deno.test("saturation: a newly chosen model that knows nothing of the gain does not end a hold", () => {
  const guard = new SaturationGuard();
  guard.observe("cooler", 0, "rate", 5, true, 4, -100);
  assert.equal(guard.observe("cooler", 1, "rate", 0.05, true, 40, -200), true);
  // A fit that knows nothing of the gain (a mean of 2 within its doubt): not a gain that came
  // back, though it is over the quarter of the strongest (5) that saturation is judged by.
  guard.observe("cooler", 2, "rate", 2, false, 40, -300);
  assert.ok(guard.holding("cooler"));
  // A known gain of a third of the strongest one does end it.
  guard.observe("cooler", 3, "rate", 1.7, true, 40, -300);
  assert.ok(!guard.holding("cooler"));
});
