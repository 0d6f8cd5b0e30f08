/**
 * The quantile the benchmark scripts report (p50, p90, p99): the value at index
 * ⌊q·n⌋ of an ascending list, the last one for q = 1. Pure.
 * @module
 */

/**
 * The `q`-quantile (0 ≤ q ≤ 1) of `sorted`, which must be in ascending order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(quantileOfSorted([1, 2, 3, 4], 0.5), 3);
 * assert.equal(quantileOfSorted([1, 2, 3, 4], 0.99), 4);
 * ```
 */
export function quantileOfSorted(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
