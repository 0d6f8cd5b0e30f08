/**
 * The goals our default law must meet in every scenario (issue #10), checked from the measured
 * scores against the causal reference so the goals table in RESULTS.md is computed, never
 * written by hand:
 * - IAE at most 2 × the causal reference's;
 * - task-seconds (process seconds, what the cluster pays) at most 1.5 × the causal reference's,
 *   2 × where the tasks saturate (a drain cap);
 * - consumer-count scenarios: the largest overshoot (`SimScore.maxOvershoot`) at most 2 tasks
 *   (overshoot ÷ one task's effect);
 * - after a starvation window: no burst beyond the current need: the most tasks engaged
 *   (pending, running, or with an effect on or to come) in the 30 s after the window ends at
 *   most the causal reference's most in the same span, or, on a consumer count, the need
 *   (target ÷ effect) + 1 if that is larger.
 * Each check also says whether the causal reference meets the same limit with its own numbers,
 * so a goal no law could meet on that plant shows as such. Pure.
 * @module
 */

import type { SimScore } from "./simulate.ts";

/** One goal in one scenario. */
export interface GoalCheck {
  readonly goal: string;
  /** Adaptive's measure and the causal reference's, in the goal's units. */
  readonly ours: number;
  readonly causal: number;
  /** What is compared with `limit`: a ratio to the causal reference, or a count. */
  readonly value: number;
  readonly limit: number;
  readonly met: boolean;
  /** The causal reference's own `value` for the same goal is within `limit`. */
  readonly causalMeets: boolean;
}

/** Seconds after a starvation window over which a burst is looked for. */
export const BURST_SPAN = 30;
/** The IAE limit, as a multiple of the causal reference's. */
export const IAE_LIMIT = 2;
/** The task-seconds limit, as a multiple of the causal reference's (saturating tasks: 2). */
export const TASK_SECONDS_LIMIT = 1.5;
export const TASK_SECONDS_LIMIT_SATURATED = 2;
/** Most overshoot on a consumer count, in tasks. */
export const OVERSHOOT_TASKS = 2;

/** What the goals need to know about a scenario. */
export interface GoalContext {
  /** The drain saturates: the task-seconds limit is looser. */
  readonly saturated?: boolean;
  /** A consumer count: one task's effect, in metric units (for the overshoot and need). */
  readonly countEffect?: number;
  /** End of the last starvation window, seconds. */
  readonly starvedUntil?: number;
}

/**
 * The most tasks engaged in [`from`, `from` + `span`) and, given `effect`, the largest need
 * round(target ÷ effect) over the same ticks.
 *
 * @example
 * ```ts
 * const { peak } = peakEngaged(score.series, 250);
 * ```
 */
export function peakEngaged(
  series: SimScore["series"],
  from: number,
  span = BURST_SPAN,
  effect?: number,
): { peak: number; need: number } {
  let peak = 0;
  let need = 0;
  for (const p of series) {
    if (p.t < from || p.t >= from + span) continue;
    peak = Math.max(peak, p.engaged);
    if (effect) need = Math.max(need, Math.round(p.target / effect));
  }
  return { peak, need };
}

/** `a` over the causal reference's `b`: 1 when both are 0, Infinity when only `b` is. */
export function ratioToCausal(a: number, b: number): number {
  return b === 0 ? (a === 0 ? 1 : Infinity) : a / b;
}
const ratio = ratioToCausal;

/**
 * Checks every goal that applies to a scenario.
 *
 * @example
 * ```ts
 * const checks = checkGoals(adaptive, causal, { countEffect: 1, starvedUntil: 250 });
 * checks.filter((g) => !g.met);
 * ```
 */
export function checkGoals(ours: SimScore, causal: SimScore, context: GoalContext): GoalCheck[] {
  const out: GoalCheck[] = [];
  out.push({
    goal: `IAE ≤ ${IAE_LIMIT} × causal`,
    ours: ours.iae,
    causal: causal.iae,
    value: ratio(ours.iae, causal.iae),
    limit: IAE_LIMIT,
    met: ratio(ours.iae, causal.iae) <= IAE_LIMIT,
    causalMeets: true,
  });
  const tsLimit = context.saturated ? TASK_SECONDS_LIMIT_SATURATED : TASK_SECONDS_LIMIT;
  out.push({
    goal: `task-seconds ≤ ${tsLimit} × causal`,
    ours: ours.taskSeconds,
    causal: causal.taskSeconds,
    value: ratio(ours.taskSeconds, causal.taskSeconds),
    limit: tsLimit,
    met: ratio(ours.taskSeconds, causal.taskSeconds) <= tsLimit,
    causalMeets: true,
  });
  if (context.countEffect) {
    const tasks = (s: SimScore) => s.maxOvershoot / context.countEffect!;
    out.push({
      goal: `overshoot ≤ ${OVERSHOOT_TASKS} tasks`,
      ours: tasks(ours),
      causal: tasks(causal),
      value: tasks(ours),
      limit: OVERSHOOT_TASKS,
      met: tasks(ours) <= OVERSHOOT_TASKS,
      causalMeets: tasks(causal) <= OVERSHOOT_TASKS,
    });
  }
  if (context.starvedUntil !== undefined) {
    const to = context.starvedUntil;
    const mine = peakEngaged(ours.series, to, BURST_SPAN, context.countEffect);
    const theirs = peakEngaged(causal.series, to, BURST_SPAN, context.countEffect);
    const allowed = Math.max(theirs.peak, context.countEffect ? mine.need + 1 : 0);
    out.push({
      goal: `no burst: most tasks in ${BURST_SPAN} s after starvation ≤ allowed`,
      ours: mine.peak,
      causal: theirs.peak,
      value: mine.peak,
      limit: allowed,
      met: mine.peak <= allowed,
      causalMeets: theirs.peak <= allowed,
    });
  }
  return out;
}
