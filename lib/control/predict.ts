/**
 * Looks ahead over the dead time for a rate response (a queue drained by consumers): where the
 * metric will be when a task started now begins to act, given the outside drift and the tasks
 * already running or on their way, each active over a known window. The law then acts on that
 * prediction instead of on the present error, as a Smith predictor does, so dead time neither
 * hides a need that is coming nor makes it launch twice. Pure arithmetic.
 * @module
 */

/** One group of tasks and when (seconds from now) its effect is on. */
export interface Activity {
  /** Effect on the metric's slope while active, metric units per second (all tasks of the group). */
  readonly slope: number;
  readonly from: number;
  readonly until: number;
}

/**
 * Integrates the metric from `metric` over `[0, horizon]` seconds: drift plus the slopes of the
 * activities on at each moment, held at or above `floor` when one is given (an empty queue
 * stays empty however much is drained).
 *
 * @example
 * ```ts
 * // Queue of 10, 2/s arriving, one consumer (−5/s) that stops in 1 s: 3 s ahead it is 11.
 * predictMetric(10, 2, [{ slope: -5, from: -Infinity, until: 1 }], 3, 0); // 11
 * ```
 */
export function predictMetric(
  metric: number,
  drift: number,
  activities: readonly Activity[],
  horizon: number,
  floor?: number,
): number {
  if (!(horizon > 0)) return metric;
  // Between two consecutive activity edges the slope is constant: integrate piece by piece.
  const edges = new Set<number>([0, horizon]);
  for (const a of activities) {
    if (a.from > 0 && a.from < horizon) edges.add(a.from);
    if (a.until > 0 && a.until < horizon) edges.add(a.until);
  }
  const points = [...edges].sort((a, b) => a - b);
  let m = metric;
  for (let i = 0; i + 1 < points.length; i++) {
    const mid = (points[i] + points[i + 1]) / 2;
    let slope = drift;
    for (const a of activities) if (a.from <= mid && mid < a.until) slope += a.slope;
    m += slope * (points[i + 1] - points[i]);
    if (floor !== undefined && m < floor) m = floor;
  }
  return m;
}
