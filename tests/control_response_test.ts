/**
 * Direct tests of the candidate inputs (lib/control/response.ts): the candidate table, the
 * words for an input, one start's profile and its integral (box and decay, partial overlaps),
 * acting starts from a ledger (instantaneous and averaged, checked against a numerical
 * integral), and acting running tasks from their ages.
 * @module
 */

import assert from "node:assert/strict";
import type { StartEntry } from "../lib/control/ledger.ts";
import {
  candidateInputs,
  describeInput,
  type Input,
  runningActing,
  runningActingAverage,
  StartIndex,
  startProfile,
  startProfileIntegral,
  startsActing,
  startsActingAverage,
} from "../lib/control/response.ts";
import { TUNING } from "../lib/control/tuning.ts";
import { seededRandom } from "../sim/plants.ts";

const box = (delay: number, duration: number): Input => ({ type: "box", delay, duration });
const decay = (delay: number, tau: number): Input => ({ type: "decay", delay, tau });
const running = (warmup: number): Input => ({ type: "running", warmup });

function near(actual: number, expected: number, tol = 1e-9, what = ""): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} ≠ ${expected} (±${tol})`);
}

/** Midpoint rule over [a, b] with n steps. */
function integrate(f: (u: number) => number, a: number, b: number, n = 20000): number {
  const h = (b - a) / n;
  let s = 0;
  for (let i = 0; i < n; i++) s += f(a + (i + 0.5) * h);
  return s * h;
}

Deno.test("candidateInputs: every warm-up, and every delay with every duration and decay", () => {
  const all = candidateInputs();
  assert.equal(
    all.length,
    TUNING.warmups.length + TUNING.delays.length * (TUNING.durations.length + TUNING.decays.length),
  );
  assert.deepEqual(all.filter((i) => i.type === "running").map((i) => i.warmup), [
    ...TUNING.warmups,
  ]);
  for (const delay of TUNING.delays) {
    for (const duration of TUNING.durations) {
      assert.ok(all.some((i) => i.type === "box" && i.delay === delay && i.duration === duration));
    }
    for (const tau of TUNING.decays) {
      assert.ok(all.some((i) => i.type === "decay" && i.delay === delay && i.tau === tau));
    }
  }
  // No duplicates.
  assert.equal(new Set(all.map((i) => JSON.stringify(i))).size, all.length);
});

Deno.test("describeInput: a person's words for each input", () => {
  assert.equal(describeInput(running(0)), "while running");
  assert.equal(describeInput(running(3)), "after 3 s of running");
  assert.equal(describeInput(box(2, 10)), "from 2 s after a start for 10 s");
  assert.equal(describeInput(box(4, Infinity)), "from 4 s after a start");
  assert.equal(describeInput(decay(1, 16)), "from 1 s after a start, fading over 16 s");
});

Deno.test("startProfile: a box acts on [delay, delay + duration), a decay fades from its delay", () => {
  const b = box(2, 3);
  assert.equal(startProfile(b, 0), 0);
  assert.equal(startProfile(b, 1.999), 0);
  assert.equal(startProfile(b, 2), 1);
  assert.equal(startProfile(b, 4.999), 1);
  assert.equal(startProfile(b, 5), 0);
  assert.equal(startProfile(box(0, Infinity), 1e6), 1);
  const d = decay(1, 8);
  assert.equal(startProfile(d, 0.5), 0);
  assert.equal(startProfile(d, 1), 1);
  near(startProfile(d, 9), Math.exp(-1));
  near(startProfile(d, 17), Math.exp(-2));
  assert.equal(startProfile(running(0), 3), 0);
});

Deno.test("startProfileIntegral: boxes, full and partial overlaps, empty intervals", () => {
  const b = box(2, 3); // acts on [2, 5)
  const cases: [number, number, number][] = [
    [0, 10, 3], // covers it
    [0, 2, 0], // ends where it begins
    [5, 9, 0], // begins where it ends
    [1, 3, 1], // overlaps its start
    [4, 7, 1], // overlaps its end
    [2.5, 3.5, 1], // inside
    [-10, -1, 0], // before the start was asked for
    [3, 3, 0], // empty
    [4, 3, 0], // reversed
  ];
  for (const [u0, u1, want] of cases) {
    near(startProfileIntegral(b, u0, u1), want, 1e-12, `box [${u0}, ${u1}]`);
  }
  near(startProfileIntegral(box(1, Infinity), 0, 11), 10);
  near(startProfileIntegral(box(1, Infinity), 5, 6), 1);
  assert.equal(startProfileIntegral(running(0), 0, 10), 0);
});

Deno.test("startProfileIntegral: decays, full and partial overlaps, against a numeric integral", () => {
  const d = decay(2, 5);
  // All of it: τ.
  near(startProfileIntegral(d, 0, Infinity), 5, 1e-12, "whole decay");
  near(startProfileIntegral(d, -3, 1e9), 5, 1e-9, "whole decay, finite end");
  assert.equal(startProfileIntegral(d, 0, 2), 0);
  assert.equal(startProfileIntegral(d, 5, 5), 0);
  for (const [u0, u1] of [[0, 3], [1, 10], [2, 4], [3, 7], [10, 30], [-5, 2.5]]) {
    near(
      startProfileIntegral(d, u0, u1),
      integrate((u) => startProfile(d, u), u0, u1),
      1e-3, // the midpoint rule across the step at the delay
      `decay [${u0}, ${u1}]`,
    );
  }
  // The integral is additive over adjacent intervals.
  near(
    startProfileIntegral(d, 0, 4) + startProfileIntegral(d, 4, 9),
    startProfileIntegral(d, 0, 9),
    1e-12,
  );
});

Deno.test("startsActing: counts only starts asked for before t, weighted by their profile", () => {
  const entries: StartEntry[] = [{ t: 0, n: 2 }, { t: 3, n: 1 }, { t: 10, n: 4 }];
  const b = box(1, 4); // each acts on [t + 1, t + 5)
  assert.equal(startsActing(entries, b, 0), 0);
  assert.equal(startsActing(entries, b, 1), 2);
  assert.equal(startsActing(entries, b, 4), 3);
  assert.equal(startsActing(entries, b, 5), 1);
  assert.equal(startsActing(entries, b, 8), 0);
  // A start asked for exactly at t is not counted even with no delay (it cannot have acted).
  assert.equal(startsActing(entries, box(0, 2), 10), 0);
  assert.equal(startsActing(entries, box(0, 2), 10.5), 4);
  const d = decay(0, 10);
  near(startsActing(entries, d, 13), 2 * Math.exp(-1.3) + Math.exp(-1) + 4 * Math.exp(-0.3));
  assert.equal(startsActing([], b, 5), 0);
});

Deno.test("startsActingAverage: the mean of startsActing over (t0, t1]", () => {
  const entries: StartEntry[] = [{ t: 0, n: 2 }, { t: 3, n: 1 }, { t: 3.5, n: 3 }, { t: 10, n: 4 }];
  const inputs = [box(1, 4), box(0, 2), box(2, Infinity), decay(0, 4), decay(3, 16)];
  for (const input of inputs) {
    for (const [t0, t1] of [[0, 1], [1, 2], [3, 4], [4.2, 5.7], [0, 20], [9, 12], [11, 11.5]]) {
      const numeric = integrate((t) => startsActing(entries, input, t), t0, t1) / (t1 - t0);
      near(
        startsActingAverage(entries, input, t0, t1),
        numeric,
        1e-3,
        `${describeInput(input)} over (${t0}, ${t1}]`,
      );
    }
  }
  assert.equal(startsActingAverage(entries, box(0, 2), 5, 5), 0);
  assert.equal(startsActingAverage(entries, box(0, 2), 6, 5), 0);
});

Deno.test("runningActing: running tasks that have run at least the warm-up", () => {
  const ages = [0, 0.5, 2, 3, 10];
  assert.equal(runningActing(ages, 0), 5);
  assert.equal(runningActing(ages, 1), 3);
  assert.equal(runningActing(ages, 3), 2);
  assert.equal(runningActing(ages, 12), 0);
  assert.equal(runningActing([], 0), 0);
  // Order does not matter.
  assert.equal(runningActing([10, 0, 3, 2, 0.5], 3), 2);
});

Deno.test("runningActingAverage: partial ticks for tasks that began acting, half for those gone", () => {
  const dt = 2;
  // Acted all of the tick (age − warm-up ≥ dt): 1 each.
  assert.equal(runningActingAverage([5, 9], 0, dt, 2), 2);
  // Began acting within the tick: the share it acted.
  near(runningActingAverage([0.5], 0, dt, 0), 0.25);
  near(runningActingAverage([3.5], 3, dt, 0), 0.25);
  // Not acting yet: nothing.
  assert.equal(runningActingAverage([2.9], 3, dt, 0), 0);
  // Three acted at the start; one is gone (ended or killed): it counts for half.
  near(runningActingAverage([5, 9], 0, dt, 3), 2.5);
  // A task that began acting within the tick was not acting before: it does not hide one gone.
  near(runningActingAverage([5, 1], 0, dt, 2), 1 + 0.5 + 0.5);
  // Mixed: ages [0.5, 4, 7] with warm-up 3: 0 + 0.5 + 1; before 2, still acting 1 → +0.5.
  near(runningActingAverage([0.5, 4, 7], 3, dt, 2), 2);
  // More still acting than before (the count came back): no negative share.
  near(runningActingAverage([5, 9, 12], 0, dt, 1), 3);
  // No interval: the instantaneous count.
  assert.equal(runningActingAverage([0.5, 4, 7], 3, 0, 9), 2);
});

/** A seeded start history: entries in time order at fractional times, 1..4 starts each. */
function randomEntries(seed: number, count: number): StartEntry[] {
  const random = seededRandom(seed);
  const out: StartEntry[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    t += 0.3 + 3 * random();
    out.push({ t: Math.round(t * 100) / 100, n: 1 + Math.floor(4 * random()) });
  }
  return out;
}

Deno.test("StartIndex: agrees with startsActing and startsActingAverage for every candidate", () => {
  const entries = randomEntries(17, 80);
  const index = new StartIndex(entries);
  const end = entries[entries.length - 1].t;
  const random = seededRandom(23);
  // Query times off the entries' grid (boundaries are tested on their own below).
  const times = Array.from(
    { length: 40 },
    () => Math.round((end + 40) * random() * 1000) / 1000 + 1e-4,
  );
  let checked = 0;
  for (const input of candidateInputs().filter((i) => i.type !== "running")) {
    for (const t of times) {
      const want = startsActing(entries, input, t);
      near(
        index.acting(input, t),
        want,
        1e-6 * Math.max(1, want),
        `${describeInput(input)} at ${t}`,
      );
      for (const dt of [0.5, 1, 2.5]) {
        const avg = startsActingAverage(entries, input, t - dt, t);
        near(
          index.average(input, t - dt, t),
          avg,
          1e-6 * Math.max(1, avg),
          `${describeInput(input)} over (${t - dt}, ${t}]`,
        );
      }
      checked++;
    }
  }
  assert.ok(checked > 1000);
});

Deno.test("StartIndex: empty history and a history far in the past", () => {
  const empty = new StartIndex([]);
  assert.equal(empty.acting(box(0, 5), 10), 0);
  assert.equal(empty.average(decay(1, 8), 0, 1), 0);
  const old = new StartIndex([{ t: 0, n: 3 }]);
  assert.equal(old.acting(box(1, 10), 500), 0);
  near(old.acting(decay(0, 4), 200), 3 * Math.exp(-50), 1e-25);
  assert.ok(Number.isFinite(old.average(decay(0, 4), 0, 1e4)));
});

// A sample is taken before the tick's starts (the ledger's meaning, and startsActing's): with
// delay 0, a start asked for exactly at t does not act at t yet. The identifier asks
// `acting(input, prev.t)` while the ledger already holds the starts made right after that
// sample: counted there, the step a start causes by the next sample would be missed.
Deno.test({
  name: "StartIndex: a start asked for at t does not act at t (delay 0), as startsActing says",
  fn() {
    const entries: StartEntry[] = [{ t: 5, n: 2 }, { t: 10, n: 4 }];
    const index = new StartIndex(entries);
    for (const input of [box(0, 3), box(0, Infinity), decay(0, 8)]) {
      assert.equal(index.acting(input, 10), startsActing(entries, input, 10), describeInput(input));
      assert.equal(index.acting(input, 5), startsActing(entries, input, 5), describeInput(input));
    }
  },
});
