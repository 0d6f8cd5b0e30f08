/**
 * Retry delays for reconnecting (the scheduler client to a master, leader detection and the HA
 * election to ZooKeeper). Pure: the caller passes the random source and does the waiting.
 * @module
 */

/** Bounds of a backoff in ms: the first cap and the largest. */
export interface BackoffBounds {
  readonly initial: number;
  readonly max: number;
}

/** Attempts past this no longer double the cap (2^30 × any initial is past every `max`). */
const MAX_DOUBLINGS = 30;

/**
 * The wait before retry number `attempt` (0 for the first): capped exponential backoff with
 * "equal jitter". The cap is `min(max, initial × 2^attempt)` and the delay is drawn uniformly from
 * `[cap / 2, cap]`: never less than half the cap (so retries do spread out as the cap grows),
 * never more than `max`.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * backoffDelay(0, { initial: 500, max: 15_000 }, () => 0); // 250
 * backoffDelay(3, { initial: 500, max: 15_000 }, () => 0); // 2000: half of 500 × 2^3
 * backoffDelay(9, { initial: 500, max: 15_000 }, () => 0.999); // 14993: just under the max
 * ```
 */
export function backoffDelay(
  attempt: number,
  bounds: BackoffBounds,
  random: () => number = Math.random,
): number {
  const cap = Math.min(bounds.max, bounds.initial * 2 ** Math.min(attempt, MAX_DOUBLINGS));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
