/**
 * The goals our default law must meet in every scenario (issue #5), checked from the measured
 * scores so the goals table in RESULTS.md is computed, never written by hand:
 * IAE no worse than the classic law's, with at most a quarter of its task-seconds; IAE at most
 * 0.8 × the HPA law's; after a starvation window, overshoot under 10 % of the step. Pure.
 * @module
 */

import type { SimScore } from "./simulate.ts";

/** One goal in one scenario. */
export interface GoalCheck {
  readonly goal: string;
  /** Ours ÷ reference, compared with `limit`. */
  readonly ratio: number;
  readonly limit: number;
  /** `≤` or `<`. */
  readonly strict: boolean;
  readonly met: boolean;
  /** The two numbers behind the ratio, for the table. */
  readonly ours: number;
  readonly reference: number;
}

/** How far the metric went past the target after the starvation window ended. */
export interface StarvationOvershoot {
  /** |target − metric| on the last tick before tasks could start again. */
  readonly step: number;
  /** Largest excursion past the target after that, until the target next changes. */
  readonly overshoot: number;
}

/**
 * Measures the overshoot after a starvation window ending at `to` (seconds).
 *
 * @example
 * ```ts
 * const { step, overshoot } = starvationOvershoot(score.series, 250);
 * ```
 */
export function starvationOvershoot(
  series: SimScore["series"],
  to: number,
): StarvationOvershoot {
  const i = series.findIndex((p) => p.t >= to);
  const before = series[Math.max(0, i - 1)];
  const error = before.target - before.metric;
  const direction = Math.sign(error);
  let overshoot = 0;
  for (let k = Math.max(0, i); k < series.length; k++) {
    const p = series[k];
    if (p.target !== before.target) break;
    const past = -direction * (p.target - p.metric);
    if (direction !== 0 && past > overshoot) overshoot = past;
  }
  return { step: Math.abs(error), overshoot };
}

/**
 * Checks every goal that applies: the classic and HPA comparisons when those scores exist, the
 * starvation goal when a window end is given.
 */
export function checkGoals(
  scores: { adaptive: SimScore; classic?: SimScore; hpa?: SimScore },
  starvedUntil?: number,
): GoalCheck[] {
  const out: GoalCheck[] = [];
  const add = (goal: string, ours: number, reference: number, limit: number, strict: boolean) => {
    const ratio = reference === 0 ? (ours === 0 ? 0 : Infinity) : ours / reference;
    out.push({
      goal,
      ours,
      reference,
      ratio,
      limit,
      strict,
      met: strict ? ratio < limit : ratio <= limit,
    });
  };
  const { adaptive, classic, hpa } = scores;
  if (classic) {
    add("IAE ≤ classic IAE", adaptive.iae, classic.iae, 1, false);
    add("task-seconds ≤ ¼ classic", adaptive.taskSeconds, classic.taskSeconds, 0.25, false);
  }
  if (hpa) add("IAE ≤ 0.8 × HPA IAE", adaptive.iae, hpa.iae, 0.8, false);
  if (starvedUntil !== undefined) {
    const { step, overshoot } = starvationOvershoot(adaptive.series, starvedUntil);
    add("overshoot after starvation < 10 % of step", overshoot, step, 0.1, true);
  }
  return out;
}
