/**
 * The queue plant of the end-to-end shape tests (tests/e2e_shape_*_test.ts), in one place for
 * the tests, which run it in real time, and the bench, which replays it on seeded draws: ticks,
 * run length, arrivals, the consumers of each shape and the bounds a run is held to.
 * @module
 */

/** Seconds between ticks: a run must stay within 45 s, and 0.5 s gives the law about 70 decisions. */
export const E2E_TICK_S = 0.5;
/** Length of each relay run, seconds. */
export const E2E_RUN_S = 36;

/**
 * Arrivals: 3 items/s, 9 items/s from 12 s, 3 items/s again from 24 s, so the consumers needed
 * change twice within a run (0.6 → 1.8 → 0.6 consumers' worth of work).
 */
export function steppingArrivals(tSeconds: number): number {
  return tSeconds < 12 ? 3 : tSeconds < 24 ? 9 : 3;
}

/** Worker shape: each consumer takes 5 items/s for 4 s (20 items) while its process runs. */
export const WORKER_CONSUMER = { rate: 5, life: 4 } as const;
/** Trigger shape: the detached consumer starts 1.5 s after the cooler exits... */
export const TRIGGER_DELAY_S = 1.5;
/** ...and takes 5 items/s for 6 s (30 items); the life limit also ends it if nothing else does. */
export const TRIGGER_CONSUMER = { rate: 5, life: 6 } as const;

/** Launches allowed, as a multiple of the fewest consumer lives that could take every item. */
export const LAUNCH_FACTOR = 2.5;
/**
 * Mean queue length allowed over the second half of a run, in items: the bound
 * tests/e2e_main_test.ts already holds a worker queue to (arrivals of 4 items/s there, a mean
 * of 5 items/s here); one consumer clears it in under 2 s.
 */
export const MEAN_QUEUE_MAX = 8;
