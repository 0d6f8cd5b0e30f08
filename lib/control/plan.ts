/**
 * Planning over a horizon: predicts the metric from everything already started, in flight or
 * running (as the identified model says each acts), and picks the whole number of starts, kills
 * or cancels now that minimises
 *
 *   Σ weight · |target − predicted| · Δt  +  price · task-seconds,
 *
 * then leaves later ticks to decide again (receding horizon). On a level (a count, a load) the
 * error counts where only this decision can act (up to one tick after a start now would begin
 * to act) and where no later move could undo it (too much cooling from coolers that cannot be
 * stopped); an error later ticks could still remove by starting (or killing) tasks is theirs,
 * and a start is billed only for that first tick of acting (a needed task pays its start-up
 * anyway). A kill acts at once, so for a removal a level too high is the next tick's from its
 * reading on. On a rate (a queue) every error counts, since it piles up whatever is done later,
 * and a start is billed for its whole life. Of the starts wanted, only those that would be
 * missed if they started a tick later are started now (deferral). The price of a task-second
 * is `taskCost` times what one task's effect is worth for a second (its gain), so the option
 * means the same for any metric's units.
 * A target known as a function of time is followed over the horizon; others are held.
 * Pure arithmetic: no I/O, no clock.
 * @module
 */

import type { TaskKind } from "../executor/types.ts";
import type { ResponseModel } from "./identify.ts";
import type { StartLedger } from "./ledger.ts";
import { type Input, startProfile, startProfileIntegral } from "./response.ts";
import type { TaskFacts } from "./types.ts";
import { TUNING } from "./tuning.ts";

/** One move the plan may choose. */
export type Move =
  | { readonly type: "start"; readonly kind: TaskKind; readonly n: number }
  | { readonly type: "kill"; readonly n: number }
  | { readonly type: "cancel"; readonly kind: TaskKind; readonly n: number }
  | { readonly type: "wait" };

/** What the plan is given. */
export interface PlanInput {
  readonly t: number;
  /** Seconds between ticks. */
  readonly dt: number;
  readonly metric: number;
  readonly targetAt: (t: number) => number;
  readonly model: ResponseModel;
  readonly tasks: TaskFacts;
  readonly ledger: StartLedger;
  /** Gain per acting task to plan with, per kind (the model's, made optimistic when unsure). */
  readonly gain: Readonly<Record<TaskKind, number>>;
  /** Price of a task-second relative to its effect (`--task-cost`). */
  readonly taskCost: number;
  /** Kinds that may be started now, with the most starts of each. */
  readonly startable: Readonly<Partial<Record<TaskKind, number>>>;
  /** Warmers may be killed (`--cooler-mode kill`). */
  readonly canKill: boolean;
}

/** The plan's choice and the numbers behind it. */
export interface PlanResult {
  readonly move: Move;
  /** Objective of the chosen move and of doing nothing. */
  readonly cost: number;
  readonly costWait: number;
  /** Look-ahead in seconds. */
  readonly horizon: number;
  /** Seconds until a start now would act. */
  readonly actsAfter: number;
  /** Seconds from request to running the plan took for a start (the recent starts' median). */
  readonly startDelay: number;
  /** Metric predicted one tick after a start now would act: with the move, and without. */
  readonly predicted: number;
  readonly predictedWait: number;
  /** Per kind, the tasks acting now, as the model sees them. */
  readonly engaged: Readonly<Record<TaskKind, number>>;
}

/** How one task (existing, in flight or new) acts over the horizon. */
interface TaskPlan {
  /** Acting fraction at each step's midpoint. */
  readonly acting: Float64Array;
  /** Seconds it runs (or acts, for a start-history model) within the horizon. */
  readonly seconds: number;
}

interface Grid {
  readonly h: number;
  readonly steps: number;
  readonly mid: Float64Array;
  /**
   * Task-seconds are billed up to here: on a rate the whole horizon, on a level only the first
   * tick of acting (later ticks start or kill for their own windows).
   */
  readonly billUntil: number;
  /** …and from here: on a level, a start-up a needed task pays anyway is not this tick's. */
  readonly billFrom: number;
}

/**
 * Plans one tick.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyFacts } from "./facts.ts";
 * import { StartLedger } from "./ledger.ts";
 * // A count that one warmer raises by 1 while it runs, 3 below its target of 5.
 * const r = plan({
 *   t: 0, dt: 1, metric: 2, targetAt: () => 5, tasks: emptyFacts(), ledger: new StartLedger(150),
 *   model: {
 *     shape: "level", input: { type: "running", warmup: 0 }, drift: 0,
 *     gain: { warmer: 1, cooler: -1 }, sd: { drift: 0, warmer: 0.1, cooler: 0.1 },
 *     noise: 0.1, samples: 50, score: 0,
 *   },
 *   gain: { warmer: 1, cooler: -1 }, taskCost: 0.25, startable: { warmer: 100 }, canKill: true,
 * });
 * assert.deepEqual(r.move, { type: "start", kind: "warmer", n: 3 });
 * ```
 */
export function plan(input: PlanInput): PlanResult {
  const { model, dt } = input;
  const timing = taskTiming(input.tasks);
  const actsAfter = actsAfterOf(model.input, timing.startDelay);
  const lasts = model.input.type === "running"
    ? (timing.life ?? Infinity)
    : model.input.type === "box"
    ? model.input.duration
    : 3 * model.input.tau;
  const horizon = Math.min(
    TUNING.horizonMax,
    Math.max(TUNING.horizonMinTicks * dt, actsAfter + Math.min(lasts, TUNING.horizonMax) + dt),
  );
  const h = dt / TUNING.stepsPerTick;
  const steps = Math.max(1, Math.ceil(horizon / h));
  const mid = new Float64Array(steps);
  for (let j = 0; j < steps; j++) mid[j] = (j + 0.5) * h;
  const firstUntil = actsAfter + dt;
  // On a level, only this tick's window is this decision's alone: a later shortfall that a
  // later start (or kill) could still remove is left to that tick, and only this window is
  // billed; an excess no later move can undo (coolers that cannot be stopped) counts in
  // full. On a rate (a queue) every error piles up whatever is done later, and a start is
  // billed for its whole life.
  const isLevel = model.shape === "level";
  const grid: Grid = {
    h,
    steps,
    mid,
    billUntil: isLevel ? firstUntil : steps * h,
    billFrom: isLevel ? actsAfter : 0,
  };
  const fixable = fixableFrom(input, actsAfter, h);

  // What acts without a move: every kind's existing and in-flight tasks.
  const base = new Float64Array(steps);
  let baseNow = 0;
  const engaged: Record<TaskKind, number> = { warmer: 0, cooler: 0 };
  const buffers = { acting: new Float64Array(steps), diff: new Float64Array(steps + 1) };
  for (const kind of ["warmer", "cooler"] as const) {
    const existing = existingActing(input, kind, grid, timing, buffers);
    engaged[kind] = existing.now;
    const g = model.gain[kind];
    if (g === 0) continue;
    for (let j = 0; j < steps; j++) base[j] += g * existing.acting[j];
    baseNow += g * existing.now;
  }
  const targets = new Float64Array(steps);
  for (let j = 0; j < steps; j++) targets[j] = input.targetAt(input.t + mid[j]);

  /**
   * The objective with `extra` acting (gain-weighted) on top of what is there, plus `billed`.
   * For a removal, a level too high is left to the next tick's kill; for a start, only from
   * when the next tick's start would act (an overshoot a kill then removes wasted the start).
   */
  const fixStart = { up: fixable.up, down: Math.max(fixable.down, firstUntil) };
  const evaluate = (extra: Float64Array | undefined, billed: number, removal = false) => {
    const fix = removal ? fixable : fixStart;
    let queue = input.metric;
    let cost = 0;
    let atFirst = input.metric;
    for (let j = 0; j < steps; j++) {
      const acting = base[j] + (extra ? extra[j] : 0);
      let y: number;
      if (isLevel) {
        y = input.metric + acting - baseNow;
      } else {
        queue = queue + (model.drift + acting) * h;
        if (model.floor !== undefined && queue < model.floor) queue = model.floor;
        y = queue;
      }
      const e = targets[j] - y;
      const w = isLevel && mid[j] >= (e > 0 ? fix.up : fix.down) ? 0 : 1;
      cost += w * Math.abs(e) * h;
      if (mid[j] < firstUntil) atFirst = y;
    }
    return { cost: cost + billed, error: cost, atFirst };
  };
  const scratch = new Float64Array(steps);
  /** `now` tasks started now and `later` one tick later, each acting as `one`/`next`. */
  const mix = (one: Float64Array, now: number, next: Float64Array, later: number) => {
    for (let j = 0; j < steps; j++) scratch[j] = now * one[j] + later * next[j];
    return scratch;
  };
  /** `now` tasks started now, each acting as `one`. */
  const times = (one: Float64Array, now: number) => {
    for (let j = 0; j < steps; j++) scratch[j] = now * one[j];
    return scratch;
  };

  // What a task's effect is worth for a second: its gain; on a rate, no more than what there
  // is for it to do (the drift it absorbs, and the error spread over the look-ahead): a
  // consumer ten times stronger than the arrivals is not worth ten times the arrivals.
  const horizonSeconds = steps * h;
  const worth = (g: number) =>
    isLevel
      ? g
      : Math.min(g, Math.abs(model.drift) + Math.abs(targets[0] - input.metric) / horizonSeconds);

  const wait = evaluate(undefined, 0);
  let best: { move: Move; cost: number; error: number; atFirst: number } = {
    move: { type: "wait" },
    ...wait,
  };

  // Starts: the objective is convex in the number started; search by doubling, then bisect.
  for (const kind of ["warmer", "cooler"] as const) {
    const most = input.startable[kind] ?? 0;
    if (most <= 0) continue;
    const g = input.gain[kind];
    const one = newTask(input, grid, timing, 0);
    // The new task's own profile, scaled in place by its gain (nothing else holds it).
    const deltaNow = one.acting;
    for (let j = 0; j < steps; j++) deltaNow[j] = g * deltaNow[j];
    const price = input.taskCost * worth(Math.abs(g)) * one.seconds;
    const at = (n: number) => evaluate(times(deltaNow, n), price * n);
    let lo = 0;
    let hi = 1;
    let costLo = wait.cost;
    while (hi <= most && at(hi).cost < costLo) {
      lo = hi;
      costLo = at(hi).cost;
      hi *= 2;
    }
    hi = Math.min(hi, most);
    // The minimum lies in [lo, hi]: bisect on the slope.
    let a = lo;
    let b = hi;
    while (b - a > 1) {
      const m = Math.floor((a + b) / 2);
      if (at(m + 1).cost < at(m).cost) a = m;
      else b = m;
    }
    let n = at(b).cost < at(a).cost ? b : a;
    if (n <= 0) continue;
    // Deferral: of the n wanted, start now only those that would be missed if they started a
    // tick later; the rest are for the next tick to decide (it will know more).
    const next = newTask(input, grid, timing, dt);
    const deltaLater = next.acting;
    for (let j = 0; j < steps; j++) deltaLater[j] = g * deltaLater[j];
    const split = (k: number) => evaluate(mix(deltaNow, k, deltaLater, n - k), price * n).cost;
    let k0 = 0;
    let k1 = n;
    while (k1 - k0 > 1) {
      const m = Math.floor((k0 + k1) / 2);
      if (split(m + 1) < split(m) - 1e-9) k0 = m;
      else k1 = m;
    }
    const k = split(k1) < split(k0) - 1e-9 ? k1 : k0;
    n = k;
    if (n <= 0) continue;
    const r = at(n);
    if (r.cost < best.cost - 1e-9) best = { move: { type: "start", kind, n }, ...r };
  }

  // Removals: kills of warmers (newest first) or cancels of waiting tasks (newest first).
  const removals = removable(input, grid, timing);
  // Removals are weighed against waiting under their own weights, and compared with the best
  // so far by what they save over waiting.
  const waitRemoval = removals.length > 0 ? evaluate(undefined, 0, true) : wait;
  for (const r of removals) {
    const delta = new Float64Array(steps);
    let seconds = 0;
    let n = 0;
    // The newest first; the objective is weighed at 1..8 removals, then every half again.
    let next = 1;
    for (const victim of r.victims.slice(0, TUNING.maxRemovalsWeighed)) {
      n++;
      for (let j = 0; j < steps; j++) delta[j] -= r.gain * victim.acting[j];
      seconds += victim.seconds;
      if (n < next) continue;
      next = n < 8 ? n + 1 : Math.ceil(n * 1.5);
      const out = evaluate(delta, -input.taskCost * worth(Math.abs(r.gain)) * seconds, true);
      // A waiting task is cancelled only when it would make the error worse, not merely to
      // save its price: it was asked for, and may show what such tasks do.
      const worse = r.kind === "cancel" && out.error >= waitRemoval.error - 1e-9;
      const cost = wait.cost + out.cost - waitRemoval.cost;
      if (!worse && cost < best.cost - 1e-9) {
        const move: Move = r.kind === "kill"
          ? { type: "kill", n }
          : { type: "cancel", kind: r.cancelKind, n };
        best = {
          move,
          cost,
          error: wait.error + out.error - waitRemoval.error,
          atFirst: out.atFirst,
        };
      }
    }
  }
  return {
    move: best.move,
    cost: best.cost,
    costWait: wait.cost,
    horizon: steps * h,
    actsAfter,
    startDelay: timing.startDelay,
    predicted: best.atFirst,
    predictedWait: wait.atFirst,
    engaged,
  };
}

/**
 * From when (seconds from now) a move at the next tick could remove an error too cold (up) or
 * too warm (down), Infinity when nothing can: a start acts `actsAfter` after it is asked for, a
 * kill at once, but after that tick's reading, which is still this decision's (one grid step
 * `h` past the tick).
 */
function fixableFrom(
  input: PlanInput,
  actsAfter: number,
  h: number,
): { up: number; down: number } {
  const gw = input.gain.warmer;
  const gc = input.gain.cooler;
  const warmers = (input.startable.warmer ?? 0) > 0;
  const coolers = (input.startable.cooler ?? 0) > 0;
  const byStart = input.dt + actsAfter;
  const byKill = input.dt + h;
  return {
    up: (warmers && gw > 0) || (coolers && gc > 0) ? byStart : Infinity,
    down: input.canKill && gw > 0
      ? byKill
      : (coolers && gc < 0) || (warmers && gw < 0)
      ? byStart
      : Infinity,
  };
}

interface Timing {
  /** Seconds from request to running (median of recent ones). */
  readonly startDelay: number;
  /** Fixed task life, when recent lives agree; undefined when random or unknown. */
  readonly life?: number;
}

/**
 * Seconds until a start now would act through `input`, when a start takes `startDelay` seconds
 * to run (the plan's `actsAfter` for the model it is given, with its `startDelay`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(actsAfterOf({ type: "running", warmup: 3 }, 0.5), 3.5);
 * assert.equal(actsAfterOf({ type: "box", delay: 2, duration: 6 }, 0.5), 2); // from the request
 * ```
 */
export function actsAfterOf(input: Input, startDelay: number): number {
  return input.type === "running" ? startDelay + input.warmup : input.delay;
}

/**
 * The executor's recent start delays and lives, summarised. Run every tick over every recent
 * task: it copies a list only where both kinds have entries, and sorts in a kept buffer.
 */
function taskTiming(tasks: TaskFacts): Timing {
  const { warmer, cooler } = tasks;
  const delays = joined(warmer.startDelays, cooler.startDelays);
  const lives = joined(warmer.lifetimes, cooler.lifetimes);
  // Ages are youngest first.
  const oldest = Math.max(0, warmer.runningAges.at(-1) ?? 0, cooler.runningAges.at(-1) ?? 0);
  const startDelay = delays.length > 0 ? median(delays) : 0;
  // A fixed life when recent lives agree; with only one or two seen, their mean is a better
  // guess than "forever" (a start that would run forever commits every future error).
  const guess = lives.length > 0 && lives.length < 3 ? mean(lives) : undefined;
  const life = fixedLife(lives) ?? guess;
  // A task still running past that life says lives are not all one length: the first lives
  // seen of random ones are the short ones, and a plan that took them for every task's would
  // replace tasks that go on running.
  return { startDelay, life: life !== undefined && outlived(life, oldest) ? undefined : life };
}

/** Two lists as one: either one alone when the other is empty, else a copy of both. */
function joined(a: readonly number[], b: readonly number[]): readonly number[] {
  return b.length === 0 ? a : a.length === 0 ? b : [...a, ...b];
}

function mean(xs: readonly number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/**
 * A task life shared by recent tasks (within 10 % of their mean, at least three), or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(fixedLife([10, 10.1, 9.9]), 10);
 * assert.equal(fixedLife([3, 40, 120]), undefined);
 * ```
 */
export function fixedLife(lives: readonly number[]): number | undefined {
  if (lives.length < 3) return undefined;
  const m = mean(lives);
  for (const x of lives) if (!(Math.abs(x - m) <= TUNING.fixedLifeSpread * m)) return undefined;
  return m;
}

/** A running task of age `oldest` has outlived `life`, beyond the spread fixedLife allows. */
function outlived(life: number, oldest: number): boolean {
  return oldest > (1 + TUNING.fixedLifeSpread) * life;
}

/** Room to sort numbers in for {@linkcode median}, grown as needed. */
let sorting = new Float64Array(64);

function median(xs: readonly number[]): number {
  if (sorting.length < xs.length) sorting = new Float64Array(2 * xs.length);
  const s = sorting.subarray(0, xs.length);
  s.set(xs);
  s.sort();
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A running-count task that runs from `runsFrom` (seconds from now; negative if already). */
function runningTask(
  warmup: number,
  runsFrom: number,
  life: number | undefined,
  grid: Grid,
): TaskPlan {
  const acting = new Float64Array(grid.steps);
  const [lo, hi] = runningSpan(warmup, runsFrom, life, grid);
  acting.fill(1, lo, hi);
  return { acting, seconds: runningSeconds(runsFrom, life, grid) };
}

/** Grid steps [lo, hi) whose midpoint a running-count task acts in. */
function runningSpan(
  warmup: number,
  runsFrom: number,
  life: number | undefined,
  grid: Grid,
): [number, number] {
  const end = life === undefined ? Infinity : runsFrom + life;
  const index = (u: number) =>
    Math.min(grid.steps, Math.max(0, Math.ceil(u / grid.h - 0.5 - 1e-9)));
  const lo = index(runsFrom + warmup);
  const hi = end === Infinity ? grid.steps : index(end);
  return [lo, Math.max(lo, hi)];
}

function runningSeconds(runsFrom: number, life: number | undefined, grid: Grid): number {
  const end = life === undefined ? Infinity : runsFrom + life;
  return Math.max(0, Math.min(grid.billUntil, end) - Math.max(grid.billFrom, runsFrom));
}

/** A start-history task asked for at `askedAt` (seconds from now, ≤ 0 for past starts). */
function startedTask(input: PlanInput, askedAt: number, grid: Grid): TaskPlan {
  const acting = new Float64Array(grid.steps);
  for (let j = 0; j < grid.steps; j++) {
    acting[j] = startProfile(input.model.input, grid.mid[j] - askedAt);
  }
  const seconds = startProfileIntegral(
    input.model.input,
    grid.billFrom - askedAt,
    grid.billUntil - askedAt,
  );
  return { acting, seconds };
}

/** A task started `after` seconds from now (0: now; a tick: the deferral test). */
function newTask(input: PlanInput, grid: Grid, timing: Timing, after: number): TaskPlan {
  const m = input.model.input;
  return m.type === "running"
    ? runningTask(m.warmup, after + timing.startDelay, timing.life, grid)
    : startedTask(input, after, grid);
}

/** In-flight tasks of a kind, newest first: when each will run (seconds from now). */
function inflightStarts(input: PlanInput, kind: TaskKind, timing: Timing): number[] {
  const count = input.tasks[kind].inflight;
  const asked = input.ledger.newest(kind, count);
  const out = asked.map((t) => Math.max(0, t + timing.startDelay - input.t));
  while (out.length < count) out.push(timing.startDelay / 2);
  return out;
}

/**
 * What a kind's existing and in-flight tasks act at each step, and now. Written into
 * `buffers.acting` (steps long), with `buffers.diff` (one longer) as room: the caller reads the
 * result before it asks for another kind's.
 */
function existingActing(
  input: PlanInput,
  kind: TaskKind,
  grid: Grid,
  timing: Timing,
  buffers: { acting: Float64Array; diff: Float64Array },
): { acting: Float64Array; now: number } {
  const m = input.model.input;
  const acting = buffers.acting.fill(0);
  let now = 0;
  if (m.type === "running") {
    // Each task acts over one span of steps: add them as a difference array.
    const diff = buffers.diff.fill(0);
    const addFor = (from: number, life: number | undefined) => {
      const [lo, hi] = runningSpan(m.warmup, from, life, grid);
      diff[lo] += 1;
      diff[hi] -= 1;
    };
    const add = (from: number) => addFor(from, timing.life);
    for (const age of input.tasks[kind].runningAges) {
      // A task older than the usual life does not have the usual life: it goes on.
      if (timing.life !== undefined && age >= timing.life) addFor(-age, undefined);
      else add(-age);
      if (age >= m.warmup) now++;
    }
    for (const from of inflightStarts(input, kind, timing)) add(from);
    let level = 0;
    for (let j = 0; j < grid.steps; j++) {
      level += diff[j];
      acting[j] = level;
    }
  } else {
    const index = input.ledger.index(kind);
    for (let j = 0; j < grid.steps; j++) acting[j] = index.acting(m, input.t + grid.mid[j]);
    now = index.acting(m, input.t);
  }
  return { acting, now };
}

interface Removal {
  readonly kind: "kill" | "cancel";
  readonly cancelKind: TaskKind;
  readonly gain: number;
  readonly victims: readonly TaskPlan[];
}

/** The tasks that may be stopped, newest first, as the loop picks them. */
function removable(input: PlanInput, grid: Grid, timing: Timing): Removal[] {
  const m = input.model.input;
  const out: Removal[] = [];
  const profiles = (kind: TaskKind, withRunning: boolean): TaskPlan[] => {
    const victims: TaskPlan[] = [];
    const asked = input.ledger.newest(kind, input.tasks[kind].inflight);
    for (let i = 0; i < input.tasks[kind].inflight; i++) {
      const t = asked[i];
      if (m.type === "running") {
        const from = t === undefined
          ? timing.startDelay / 2
          : Math.max(0, t + timing.startDelay - input.t);
        victims.push(runningTask(m.warmup, from, timing.life, grid));
      } else {
        victims.push(startedTask(input, t === undefined ? 0 : t - input.t, grid));
      }
    }
    if (withRunning && m.type === "running") {
      for (const age of input.tasks[kind].runningAges) {
        victims.push(runningTask(m.warmup, -age, timing.life, grid));
      }
    }
    return victims;
  };
  if (input.canKill && input.model.gain.warmer !== 0) {
    out.push({
      kind: "kill",
      cancelKind: "warmer",
      gain: input.model.gain.warmer,
      victims: profiles("warmer", true),
    });
  } else {
    for (const kind of ["warmer", "cooler"] as const) {
      const waiting = input.tasks[kind].waiting;
      if (waiting === 0 || input.model.gain[kind] === 0) continue;
      out.push({
        kind: "cancel",
        cancelKind: kind,
        gain: input.model.gain[kind],
        victims: profiles(kind, false).slice(0, waiting),
      });
    }
  }
  return out;
}
