/**
 * Direct tests of `plan()` (lib/control/plan.ts) on hand-built models (no identification): a
 * level gain and an error give the starts that remove it, fewer or none when task-seconds are
 * dear; a rate queue with arrivals and a floor is drained in a few ticks and left alone at 0
 * when the running tasks cover the arrivals; kills in kill mode; cancels of waiting tasks; a
 * previewed target changes the plan only where a start now acts; tasks in flight or started
 * but not yet acting are counted (no repeat starts).
 * @module
 */

import assert from "node:assert/strict";
import type { TaskKind } from "../lib/executor/types.ts";
import type { ResponseModel, Shape } from "../lib/control/identify.ts";
import { StartLedger } from "../lib/control/ledger.ts";
import { fixedLife, plan, type PlanInput, type PlanResult } from "../lib/control/plan.ts";
import type { Input } from "../lib/control/response.ts";
import type { KindFacts } from "../lib/control/types.ts";
import { TUNING } from "../lib/control/tuning.ts";

const WORKER: Input = { type: "running", warmup: 0 };

function model(
  shape: Shape,
  gain: Partial<Record<TaskKind, number>>,
  extra: Partial<ResponseModel> = {},
): ResponseModel {
  return {
    shape,
    input: WORKER,
    drift: 0,
    gain: { warmer: gain.warmer ?? 0, cooler: gain.cooler ?? 0 },
    sd: { drift: 0, warmer: 0, cooler: 0 },
    noise: 0.1,
    samples: 100,
    score: 0,
    ...extra,
  };
}

function facts(f: Partial<KindFacts> = {}): KindFacts {
  const runningAges = f.runningAges ?? [];
  return {
    inflight: 0,
    waiting: 0,
    longestWait: 0,
    running: runningAges.length,
    runningAges,
    startDelays: [],
    lifetimes: [],
    recentFailures: 0,
    ...f,
  };
}

interface Case {
  readonly model: ResponseModel;
  readonly metric: number;
  readonly target?: number;
  readonly targetAt?: (t: number) => number;
  readonly warmer?: Partial<KindFacts>;
  readonly cooler?: Partial<KindFacts>;
  readonly ledger?: StartLedger;
  readonly taskCost?: number;
  readonly startable?: Partial<Record<TaskKind, number>>;
  readonly canKill?: boolean;
}

const T = 1000;

function run(c: Case): PlanResult {
  const m = c.model;
  const input: PlanInput = {
    t: T,
    dt: 1,
    metric: c.metric,
    targetAt: c.targetAt ?? (() => c.target ?? 0),
    model: m,
    tasks: { warmer: facts(c.warmer), cooler: facts(c.cooler) },
    ledger: c.ledger ?? new StartLedger(TUNING.ledgerSeconds),
    gain: m.gain,
    taskCost: c.taskCost ?? 0,
    startable: c.startable ??
      {
        ...(m.gain.warmer !== 0 ? { warmer: TUNING.maxStartsPerTick } : {}),
        ...(m.gain.cooler !== 0 ? { cooler: TUNING.maxStartsPerTick } : {}),
      },
    canKill: c.canKill ?? false,
  };
  return plan(input);
}

function starts(r: PlanResult, kind: TaskKind): number {
  return r.move.type === "start" && r.move.kind === kind ? r.move.n : 0;
}

function ages(n: number, age = 30): number[] {
  return Array.from({ length: n }, () => age);
}

// --- level ----------------------------------------------------------------------------------

Deno.test("plan (level): gain 2 and error 10 starts 5 at no cost, none when task-seconds are dear", () => {
  const m = model("level", { warmer: 2 });
  const free = run({ model: m, metric: 0, target: 10, taskCost: 0 });
  assert.deepEqual(free.move, { type: "start", kind: "warmer", n: 5 });
  assert.ok(Math.abs(free.predicted - 10) < 1e-9, `predicted ${free.predicted}`);
  assert.equal(free.predictedWait, 0);
  assert.ok(free.cost < free.costWait);
  // The default price still buys the error away (each task removes its whole effect).
  assert.equal(starts(run({ model: m, metric: 0, target: 10, taskCost: 0.25 }), "warmer"), 5);
  // A task-second dearer than its effect is worth: nothing.
  const dear = run({ model: m, metric: 0, target: 10, taskCost: 2 });
  assert.deepEqual(dear.move, { type: "wait" });
});

Deno.test("plan (level): an error smaller than one task's effect is not overshot by a lasting task", () => {
  // Gain 4, error 3: one warmer overshoots by 1 for as long as it runs, and with neither
  // kills nor coolers nothing could undo that.
  const m = model("level", { warmer: 4 });
  const r = run({ model: m, metric: 0, target: 3, taskCost: 0.25 });
  // Overshoot 1 for the whole horizon against an error of 3 for one tick: wait.
  assert.deepEqual(r.move, { type: "wait" });
  // Error 3.5 with kills allowed (the overshoot can be removed later): start one.
  const kill = run({ model: m, metric: 0, target: 3.5, taskCost: 0.25, canKill: true });
  assert.deepEqual(kill.move, { type: "start", kind: "warmer", n: 1 });
});

Deno.test("plan (level): coolers with a negative gain for a metric above target", () => {
  const m = model("level", { cooler: -1.5 });
  const r = run({ model: m, metric: 20, target: 8, taskCost: 0 });
  assert.deepEqual(r.move, { type: "start", kind: "cooler", n: 8 });
});

Deno.test("plan (level): kills warmers in kill mode when the level is above target", () => {
  const m = model("level", { warmer: 1 });
  const r = run({
    model: m,
    metric: 10,
    target: 6,
    warmer: { runningAges: ages(10) },
    taskCost: 0.25,
    canKill: true,
  });
  assert.deepEqual(r.move, { type: "kill", n: 4 });
  assert.ok(Math.abs(r.predicted - 6) < 1e-9, `predicted ${r.predicted}`);
  // Not in kill mode: nothing can cool, so it waits.
  const noKill = run({ model: m, metric: 10, target: 6, warmer: { runningAges: ages(10) } });
  assert.deepEqual(noKill.move, { type: "wait" });
  // On target with warmers running: no kill.
  const on = run({
    model: m,
    metric: 10,
    target: 10,
    warmer: { runningAges: ages(10) },
    taskCost: 0.25,
    canKill: true,
  });
  assert.deepEqual(on.move, { type: "wait" });
});

Deno.test("plan (level): cancels waiting tasks that would overshoot", () => {
  const m = model("level", { warmer: 1 });
  const ledger = new StartLedger(TUNING.ledgerSeconds);
  ledger.record("warmer", T - 1, 10);
  const r = run({
    model: m,
    metric: 0,
    target: 4,
    warmer: { inflight: 10, waiting: 10, startDelays: [2, 2, 2] },
    ledger,
    taskCost: 0.25,
  });
  assert.deepEqual(r.move, { type: "cancel", kind: "warmer", n: 6 });
  // Only waiting tasks can be cancelled: 10 in flight, 3 still waiting → at most 3.
  const few = run({
    model: m,
    metric: 0,
    target: 4,
    warmer: { inflight: 10, waiting: 3, startDelays: [2, 2, 2] },
    ledger,
    taskCost: 0.25,
  });
  assert.deepEqual(few.move, { type: "cancel", kind: "warmer", n: 3 });
});

Deno.test("plan (level): tasks in flight are counted: no repeat starts", () => {
  const m = model("level", { warmer: 1 });
  const ledger = new StartLedger(TUNING.ledgerSeconds);
  ledger.record("warmer", T - 1, 5);
  const r = run({
    model: m,
    metric: 0,
    target: 5,
    warmer: { inflight: 5, startDelays: [4, 4, 4] },
    ledger,
    taskCost: 0,
  });
  assert.deepEqual(r.move, { type: "wait" });
  // Three in flight for a need of five: two more.
  const ledger3 = new StartLedger(TUNING.ledgerSeconds);
  ledger3.record("warmer", T - 1, 3);
  const r3 = run({
    model: m,
    metric: 0,
    target: 5,
    warmer: { inflight: 3, startDelays: [4, 4, 4] },
    ledger: ledger3,
    taskCost: 0,
  });
  assert.deepEqual(r3.move, { type: "start", kind: "warmer", n: 2 });
});

Deno.test("plan (level): starts not yet acting (a trigger's delay) are counted: no repeat starts", () => {
  const m = model("level", { warmer: 1 }, { input: { type: "box", delay: 6, duration: 20 } });
  const ledger = new StartLedger(TUNING.ledgerSeconds);
  ledger.record("warmer", T - 2, 5);
  const r = run({ model: m, metric: 0, target: 5, ledger, taskCost: 0 });
  assert.deepEqual(r.move, { type: "wait" });
  assert.equal(r.actsAfter, 6);
  // The same starts 30 s ago have stopped acting: start again.
  const old = new StartLedger(TUNING.ledgerSeconds);
  old.record("warmer", T - 30, 5);
  assert.equal(
    starts(run({ model: m, metric: 0, target: 5, ledger: old, taskCost: 0 }), "warmer"),
    5,
  );
});

Deno.test("plan (level): a previewed target changes the plan only where a start now acts", () => {
  // A trigger that acts from 5 s after a start, for good.
  const m = model("level", { warmer: 1 }, { input: { type: "box", delay: 5, duration: Infinity } });
  const base = { model: m, metric: 0, taskCost: 0.25 };
  const held = run({ ...base, target: 0 });
  assert.deepEqual(held.move, { type: "wait" });
  // The target steps to 10 three seconds from now: a start now acts at 5 s, so start now.
  const soon = run({ ...base, targetAt: (t) => (t < T + 3 ? 0 : 10) });
  assert.deepEqual(soon.move, { type: "start", kind: "warmer", n: 10 });
  // A step 100 s away is for a later tick to meet: nothing now.
  const late = run({ ...base, targetAt: (t) => (t < T + 100 ? 0 : 10) });
  assert.deepEqual(late.move, { type: "wait" });
  // The target is 10 now but falls to 0 before a start now could act: nothing now.
  const falling = run({ ...base, targetAt: (t) => (t < T + 3 ? 10 : 0) });
  assert.deepEqual(falling.move, { type: "wait" });
  const constant = run({ ...base, target: 10 });
  assert.deepEqual(constant.move, { type: "start", kind: "warmer", n: 10 });
});

Deno.test("plan (level): a kill waits for a previewed fall until the tick it comes in", () => {
  // Warmers that act once running for 3 s: a start now acts in 3 s, a kill at once. The target
  // falls from 6 to 2: killing before the tick it falls in leaves the level short until then,
  // and a kill at the next tick would still be in time.
  const m = model("level", { warmer: 1 }, { input: { type: "running", warmup: 3 } });
  const base = {
    model: m,
    metric: 6,
    warmer: { runningAges: ages(6) },
    taskCost: 0.25,
    canKill: true,
    startable: { warmer: 100 },
  };
  for (const fallsIn of [2.5, 1.5]) {
    const early = run({ ...base, targetAt: (t) => (t < T + fallsIn ? 6 : 2) });
    assert.deepEqual(early.move, { type: "wait" }, `the fall ${fallsIn} s away`);
  }
  // Falling within this tick (dt 1 s), or fallen: kill the 4 now.
  const within = run({ ...base, targetAt: (t) => (t < T + 0.25 ? 6 : 2) });
  assert.deepEqual(within.move, { type: "kill", n: 4 });
  const fallen = run({ ...base, target: 2 });
  assert.deepEqual(fallen.move, { type: "kill", n: 4 });
});

// --- rate -----------------------------------------------------------------------------------

/** A queue fed at 3/s, drained 1/s per cooler, resting on 0. */
const QUEUE = model("rate", { cooler: -1 }, { drift: 3, floor: 0 });

/** Seconds until the queue is empty with `running` coolers acting plus `n` started now. */
function drainSeconds(queue: number, running: number, n: number, drift = 3): number {
  const net = running + n - drift;
  return net > 0 ? queue / net : Infinity;
}

Deno.test("plan (rate): a backlog is drained within a few ticks by workers of fixed life", () => {
  const r = run({
    model: QUEUE,
    metric: 20,
    target: 0,
    cooler: { runningAges: ages(3, 1), lifetimes: [10, 10, 10] },
    taskCost: 0.25,
  });
  const n = starts(r, "cooler");
  const secs = drainSeconds(20, 3, n);
  assert.ok(secs <= 4, `start ${n} coolers: drains in ${secs} s`);
  // …and not by a cooler per item: the drain is faster than a tick's worth is worth.
  assert.ok(n <= 20, `start ${n} coolers`);
});

Deno.test("plan (rate): a backlog is drained within a few ticks by lasting workers", () => {
  const r = run({
    model: QUEUE,
    metric: 20,
    target: 0,
    cooler: { runningAges: ages(3) },
    taskCost: 0.25,
  });
  const n = starts(r, "cooler");
  const secs = drainSeconds(20, 3, n);
  // A lasting cooler is billed for the whole horizon (120 s × 0.25 = 30 item-seconds each)
  // against the backlog's area (20² / 2n): about 3, draining in about 7 s.
  assert.ok(secs <= 8, `start ${n} coolers: drains in ${secs} s`);
  // A cheaper task-second drains faster.
  const cheap = starts(
    run({ model: QUEUE, metric: 20, target: 0, cooler: { runningAges: ages(3) }, taskCost: 0.02 }),
    "cooler",
  );
  assert.ok(drainSeconds(20, 3, cheap) <= 3, `cost 0.02: start ${cheap} coolers`);
  assert.ok(cheap > n);
});

Deno.test("plan (rate): a trigger's backlog is drained within a few ticks of its delay", () => {
  const m = model("rate", { cooler: -1 }, {
    drift: 3,
    floor: 0,
    input: { type: "box", delay: 2, duration: 10 },
  });
  // Three coolers started 5 s ago are acting (until 7 s from now).
  const ledger = new StartLedger(TUNING.ledgerSeconds);
  ledger.record("cooler", T - 5, 3);
  const r = run({ model: m, metric: 20, target: 0, ledger, taskCost: 0.25 });
  const n = starts(r, "cooler");
  // Queue at 2 s (when they act): 20; then it falls at n/s.
  const secs = n > 0 ? 2 + 20 / n : Infinity;
  assert.ok(secs <= 6, `start ${n} coolers: empty after ${secs} s`);
  assert.ok(n <= 20, `start ${n}`);
});

Deno.test("plan (rate): an empty queue with the arrivals covered: nothing; uncovered: the shortfall", () => {
  const covered = run({
    model: QUEUE,
    metric: 0,
    target: 0,
    cooler: { runningAges: ages(3) },
    taskCost: 0.25,
  });
  assert.deepEqual(covered.move, { type: "wait" });
  // More than cover them: still nothing (coolers cannot be stopped, but none is started).
  const more = run({
    model: QUEUE,
    metric: 0,
    target: 0,
    cooler: { runningAges: ages(5) },
    taskCost: 0.25,
  });
  assert.deepEqual(more.move, { type: "wait" });
  // Two running for arrivals of three: one more.
  const short = run({
    model: QUEUE,
    metric: 0,
    target: 0,
    cooler: { runningAges: ages(2) },
    taskCost: 0.25,
  });
  assert.deepEqual(short.move, { type: "start", kind: "cooler", n: 1 });
});

Deno.test("plan (rate): coolers in flight are counted against a backlog", () => {
  const ledger = new StartLedger(TUNING.ledgerSeconds);
  ledger.record("cooler", T - 1, 6);
  const base: Case = {
    model: QUEUE,
    metric: 20,
    target: 0,
    cooler: { runningAges: ages(3, 1), lifetimes: [10, 10, 10], startDelays: [2, 2, 2] },
    taskCost: 0.25,
  };
  const none = starts(run(base), "cooler");
  const withInflight = starts(
    run({ ...base, ledger, cooler: { ...base.cooler, inflight: 6 } }),
    "cooler",
  );
  assert.ok(none >= 6, `without coolers in flight: start ${none}`);
  assert.ok(withInflight <= none - 6 + 1, `with 6 in flight: start ${withInflight} (vs ${none})`);
});

Deno.test("plan (level): workers of a fixed life are replaced as they end", () => {
  const m = model("level", { warmer: 1 });
  const base: Case = { model: m, metric: 5, target: 5, taskCost: 0.25, canKill: true };
  const young = run({ ...base, warmer: { runningAges: ages(5, 5), lifetimes: [10, 10, 10] } });
  assert.deepEqual(young.move, { type: "wait" });
  // They end 0.2 s from now, before the next tick: replace them now.
  const ending = run({ ...base, warmer: { runningAges: ages(5, 9.8), lifetimes: [10, 10, 10] } });
  assert.deepEqual(ending.move, { type: "start", kind: "warmer", n: 5 });
});

// A running task older than the life recent tasks shared (or the first one or two lives seen)
// shows that lives are not all that long: it is not predicted to have ended already. Before,
// 5 warmers running at age 20 with lives of 10 seen, on target, started 5 more.
Deno.test("plan (level): running tasks past the usual life are not predicted gone", () => {
  const m = model("level", { warmer: 1 });
  const r = run({
    model: m,
    metric: 5,
    target: 5,
    taskCost: 0.25,
    canKill: true,
    warmer: { runningAges: ages(5, 20), lifetimes: [10, 10, 10] },
  });
  assert.deepEqual(r.move, { type: "wait" });
  assert.equal(r.predictedWait, 5);
});

Deno.test("plan (level): lives are not taken for every task's once a task outlives them", () => {
  // Random lives: the first task to end lived 10 s while two others have run 25 and 30 s. Two
  // at 9.8 s are then not predicted to end within the tick (before, 2 were started for them).
  const m = model("level", { warmer: 1 });
  const base: Case = { model: m, metric: 5, target: 5, taskCost: 0.25, canKill: true };
  const random = run({ ...base, warmer: { runningAges: [2, 9.8, 9.8, 25, 30], lifetimes: [10] } });
  assert.deepEqual(random.move, { type: "wait" });
  assert.equal(random.predictedWait, 5);
  // The same with three lives of 10 seen: one task at 20 s shows they are not one length.
  const three = run({
    ...base,
    warmer: { runningAges: [2, 5, 9.8, 9.8, 20], lifetimes: [10, 10, 10] },
  });
  assert.deepEqual(three.move, { type: "wait" });
  // None has outlived the one life seen: it is still the guess, and those about to end are
  // replaced as they end.
  const ending = run({ ...base, warmer: { runningAges: ages(5, 9.8), lifetimes: [10] } });
  assert.deepEqual(ending.move, { type: "start", kind: "warmer", n: 5 });
});

Deno.test("plan: only startable kinds, at most their allowance", () => {
  const m = model("level", { warmer: 1, cooler: -1 });
  const r = run({ model: m, metric: 0, target: 10, startable: { warmer: 3 } });
  assert.deepEqual(r.move, { type: "start", kind: "warmer", n: 3 });
  const none = run({ model: m, metric: 0, target: 10, startable: { cooler: 5 } });
  assert.deepEqual(none.move, { type: "wait" });
});

Deno.test("fixedLife: a life shared by recent tasks, else undefined", () => {
  assert.equal(fixedLife([10, 10, 10]), 10);
  assert.ok(Math.abs(fixedLife([10, 10.5, 9.6])! - 10.033333) < 1e-5);
  assert.equal(fixedLife([10, 10]), undefined);
  assert.equal(fixedLife([3, 40, 120]), undefined);
});
