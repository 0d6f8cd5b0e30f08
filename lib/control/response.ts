/**
 * The candidate inputs of identification: how tasks become an effect on the metric. Each turns
 * what is known of the tasks into a number of "acting tasks" at a time, or on average over an
 * interval:
 *
 * - `running` (warm-up w): tasks the executor reports running for at least w seconds: the
 *   worker shape (w = 0) and the warm-up shape (w > 0). Kills and deaths are seen as they happen.
 * - `box` (delay D, duration L): each start acts from D to D + L seconds after it was asked
 *   for, whatever its process does: the trigger shape (and a worker of fixed life).
 * - `decay` (delay D, time constant τ): each start acts from D on, fading as e^(−(u−D)/τ): a
 *   trigger or worker whose effect ends at random times.
 *
 * Pure functions of their arguments.
 * @module
 */

import type { StartEntry } from "./ledger.ts";
import { TUNING } from "./tuning.ts";

/** One candidate input. Times in seconds. */
export type Input =
  | { readonly type: "running"; readonly warmup: number }
  | { readonly type: "box"; readonly delay: number; readonly duration: number }
  | { readonly type: "decay"; readonly delay: number; readonly tau: number };

/**
 * Every candidate input of the tuning table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TUNING } from "./tuning.ts";
 * const { warmups, delays, durations, decays } = TUNING;
 * assert.equal(
 *   candidateInputs().length,
 *   warmups.length + delays.length * (durations.length + decays.length),
 * );
 * ```
 */
export function candidateInputs(): Input[] {
  const out: Input[] = TUNING.warmups.map((warmup) => ({ type: "running", warmup }));
  for (const delay of TUNING.delays) {
    for (const duration of TUNING.durations) out.push({ type: "box", delay, duration });
    for (const tau of TUNING.decays) out.push({ type: "decay", delay, tau });
  }
  return out;
}

/** A person's words for an input: `running`, `running after 3 s`, `from 2 s for 10 s after a start`. */
export function describeInput(input: Input): string {
  switch (input.type) {
    case "running":
      return input.warmup === 0 ? "while running" : `after ${input.warmup} s of running`;
    case "box":
      return `from ${input.delay} s after a start${
        Number.isFinite(input.duration) ? ` for ${input.duration} s` : ""
      }`;
    case "decay":
      return `from ${input.delay} s after a start, fading over ${input.tau} s`;
  }
}

/**
 * How much of one start acts `u` seconds after it was asked for (0..1), for a start-history
 * input. Running inputs have no fixed profile (see the planner).
 */
export function startProfile(input: Input, u: number): number {
  switch (input.type) {
    case "box":
      return u >= input.delay && u < input.delay + input.duration ? 1 : 0;
    case "decay":
      return u >= input.delay ? Math.exp(-(u - input.delay) / input.tau) : 0;
    case "running":
      return 0;
  }
}

/** ∫ of {@linkcode startProfile} over [u0, u1], for a start-history input. */
export function startProfileIntegral(input: Input, u0: number, u1: number): number {
  if (!(u1 > u0)) return 0;
  switch (input.type) {
    case "box": {
      const lo = Math.max(u0, input.delay);
      const hi = Math.min(u1, input.delay + input.duration);
      return hi > lo ? hi - lo : 0;
    }
    case "decay": {
      const lo = Math.max(u0, input.delay);
      if (!(u1 > lo)) return 0;
      const tau = input.tau;
      return tau * (Math.exp(-(lo - input.delay) / tau) - Math.exp(-(u1 - input.delay) / tau));
    }
    case "running":
      return 0;
  }
}

/** Acting starts at `t` (instantaneous) from a start history. */
export function startsActing(entries: readonly StartEntry[], input: Input, t: number): number {
  let x = 0;
  for (const e of entries) if (e.t < t) x += e.n * startProfile(input, t - e.t);
  return x;
}

/** Acting starts on average over (t0, t1] from a start history. */
export function startsActingAverage(
  entries: readonly StartEntry[],
  input: Input,
  t0: number,
  t1: number,
): number {
  if (!(t1 > t0)) return 0;
  let x = 0;
  for (const e of entries) {
    if (e.t < t1) x += e.n * startProfileIntegral(input, t0 - e.t, t1 - e.t);
  }
  return x / (t1 - t0);
}

/** Running tasks that have run at least `warmup` seconds, from their ages (any order). */
export function runningActing(ages: readonly number[], warmup: number): number {
  let x = 0;
  for (const a of ages) if (a >= warmup) x++;
  return x;
}

/**
 * Running tasks acting on average over the last `dt` seconds, from their ages now and the
 * count that acted at the interval's start (`before`): a task that began acting within the
 * interval counts for the part it acted, one that ended (or was killed) for half.
 */
export function runningActingAverage(
  ages: readonly number[],
  warmup: number,
  dt: number,
  before: number,
): number {
  if (!(dt > 0)) return runningActing(ages, warmup);
  let x = 0;
  let stillActing = 0;
  for (const a of ages) {
    if (a < warmup) continue;
    x += Math.min(a - warmup, dt) / dt;
    if (a - warmup >= dt) stillActing++;
  }
  return x + 0.5 * Math.max(0, before - stillActing);
}

/**
 * Acting starts from a start history in O(log n) per query: prefix sums of counts, of count ×
 * time and, per decay constant, of count × e^(t/τ), over the entries (in time order). Built once
 * per tick per kind; the identifier asks it for every candidate input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const index = new StartIndex([{ t: 0, n: 2 }, { t: 5, n: 1 }]);
 * assert.equal(index.acting({ type: "box", delay: 1, duration: 10 }, 6), 3); // both act at 6
 * ```
 */
export class StartIndex {
  readonly #times: Float64Array;
  /** C[i]: starts among the first i entries; W[i]: their count × time. */
  readonly #count: Float64Array;
  readonly #weighted: Float64Array;
  readonly #ref: number;
  readonly #decay = new Map<number, Float64Array>();
  readonly #entries: readonly StartEntry[];

  constructor(entries: readonly StartEntry[]) {
    this.#entries = entries;
    const k = entries.length;
    this.#times = new Float64Array(k);
    this.#count = new Float64Array(k + 1);
    this.#weighted = new Float64Array(k + 1);
    for (let i = 0; i < k; i++) {
      this.#times[i] = entries[i].t;
      this.#count[i + 1] = this.#count[i] + entries[i].n;
      this.#weighted[i + 1] = this.#weighted[i] + entries[i].n * entries[i].t;
    }
    this.#ref = k > 0 ? entries[k - 1].t : 0;
  }

  /** Entries with time ≤ x. */
  #upTo(x: number): number {
    let lo = 0;
    let hi = this.#times.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.#times[m] <= x) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  #expSums(tau: number): Float64Array {
    let e = this.#decay.get(tau);
    if (!e) {
      e = new Float64Array(this.#times.length + 1);
      for (let i = 0; i < this.#times.length; i++) {
        e[i + 1] = e[i] + this.#entries[i].n * Math.exp((this.#times[i] - this.#ref) / tau);
      }
      this.#decay.set(tau, e);
    }
    return e;
  }

  /** C(x): starts asked for at or before x. */
  #c(x: number): number {
    return x === -Infinity ? 0 : this.#count[this.#upTo(x)];
  }

  /** G(x) = ∫ C: Σ over starts at or before x of (x − time). */
  #g(x: number): number {
    if (x === -Infinity) return 0;
    const i = this.#upTo(x);
    return x * this.#count[i] - this.#weighted[i];
  }

  /** Acting starts at `t`. */
  acting(input: Input, t: number): number {
    switch (input.type) {
      case "box":
        // A start asked for at t itself is not acting yet at t (as in startsActing).
        return this.#c(t - Math.max(input.delay, 1e-9)) -
          this.#c(t - input.delay - input.duration);
      case "decay": {
        const x = t - input.delay;
        const e = this.#expSums(input.tau);
        return Math.exp(-(x - this.#ref) / input.tau) *
          e[this.#upTo(t - Math.max(input.delay, 1e-9))];
      }
      case "running":
        return 0;
    }
  }

  /** Acting starts on average over (t0, t1]. */
  average(input: Input, t0: number, t1: number): number {
    if (!(t1 > t0)) return this.acting(input, t1);
    switch (input.type) {
      case "box": {
        const d = input.delay;
        const far = input.duration === Infinity ? -Infinity : d + input.duration;
        const near = this.#g(t1 - d) - this.#g(t0 - d);
        const gone = far === -Infinity ? 0 : this.#g(t1 - far) - this.#g(t0 - far);
        return (near - gone) / (t1 - t0);
      }
      case "decay": {
        const tau = input.tau;
        const x0 = t0 - input.delay;
        const x1 = t1 - input.delay;
        const e = this.#expSums(tau);
        const i0 = this.#upTo(x0);
        const i1 = this.#upTo(x1);
        const ref = this.#ref;
        // Starts acting since before t0, and starts that began acting within the interval.
        const old = tau * (Math.exp(-(x0 - ref) / tau) - Math.exp(-(x1 - ref) / tau)) * e[i0];
        const fresh = tau * ((this.#count[i1] - this.#count[i0]) -
          Math.exp(-(x1 - ref) / tau) * (e[i1] - e[i0]));
        return (old + fresh) / (t1 - t0);
      }
      case "running":
        return 0;
    }
  }
}
