/**
 * Task failures, two ways: a sliding-window count for `--max-failures`/`--failure-window` (a run
 * whose tasks keep failing stops with a clear reason instead of launching forever), and a capped
 * exponential backoff of one kind's launches after its tasks fail in a row (so that a warmer
 * that does not exist is not relaunched every tick). Pure: the caller passes the times.
 * @module
 */

/**
 * A sliding-window failure counter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const f = new FailureWindow(3, 60_000);
 * f.record(0);
 * f.record(1000);
 * assert.equal(f.record(2000), true); // three failures within a minute
 * ```
 */
export class FailureWindow {
  readonly #times: number[] = [];
  constructor(readonly max: number, readonly windowMs: number) {}

  /** Records a failure at `atMs`; true when `max` (> 0) failures fall within the window. */
  record(atMs: number): boolean {
    this.#times.push(atMs);
    while (this.#times.length > 0 && this.#times[0] <= atMs - this.windowMs) this.#times.shift();
    return this.max > 0 && this.#times.length >= this.max;
  }

  /** Failures currently inside the window. */
  get count(): number {
    return this.#times.length;
  }
}

/** First pause of a kind's launches after a task of it failed; doubles with each failure. */
export const FAILURE_BACKOFF_INITIAL_MS = 1000;
/**
 * Longest pause: a command that keeps failing (not installed, a broken image) still gets one
 * try a minute, so that fixing it on the machine is noticed within a minute.
 */
export const FAILURE_BACKOFF_MAX_MS = 60_000;

/** Where one kind's launches stand after its latest task ends. */
export interface BackoffState {
  /** Failures in a row, each of a task asked for after the previous counted failure. */
  readonly failures: number;
  /** No launch of this kind before then (ms, the caller's clock); 0 when not held. */
  readonly until: number;
  /** The current pause in ms (0 when not held). */
  readonly pauseMs: number;
}

/**
 * Capped exponential backoff of one kind's launches after consecutive task failures: the first
 * failure holds that kind's launches for {@linkcode FAILURE_BACKOFF_INITIAL_MS}, each further
 * one doubles the pause up to {@linkcode FAILURE_BACKOFF_MAX_MS}; a task that finishes, or is
 * stopped on purpose after it ran, ends the streak. Failures of tasks asked for before the last
 * counted failure do not add up, so a batch that fails at once counts once. Pure: the caller
 * passes the times.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const b = new LaunchBackoff();
 * assert.deepEqual(b.failed("warmer", 0, 10), { failures: 1, until: 1010, pauseMs: 1000 });
 * assert.deepEqual(b.failed("warmer", 20, 1500), { failures: 2, until: 3500, pauseMs: 2000 });
 * assert.equal(b.succeeded("warmer"), true); // the streak ended
 * ```
 */
export class LaunchBackoff {
  readonly #kinds = new Map<string, { failures: number; lastAt: number; until: number }>();
  readonly #initialMs: number;
  readonly #maxMs: number;

  /** The first pause and the longest, in ms (default the task-failure ones). */
  constructor(
    bounds: { readonly initialMs: number; readonly maxMs: number } = {
      initialMs: FAILURE_BACKOFF_INITIAL_MS,
      maxMs: FAILURE_BACKOFF_MAX_MS,
    },
  ) {
    this.#initialMs = bounds.initialMs;
    this.#maxMs = bounds.maxMs;
  }

  /**
   * A task of `kind`, asked for at `requestedAt`, failed at `atMs`. Returns the kind's state, or
   * undefined when this failure did not count (its task was asked for before the last one).
   */
  failed(kind: string, requestedAt: number, atMs: number): BackoffState | undefined {
    const b = this.#kinds.get(kind) ?? { failures: 0, lastAt: -Infinity, until: 0 };
    if (requestedAt <= b.lastAt) return undefined;
    b.failures++;
    b.lastAt = atMs;
    const pauseMs = this.#pause(b.failures);
    b.until = atMs + pauseMs;
    this.#kinds.set(kind, b);
    return { failures: b.failures, until: b.until, pauseMs };
  }

  /** A task of `kind` finished or ran until stopped: true when that ended a streak. */
  succeeded(kind: string): boolean {
    return this.#kinds.delete(kind);
  }

  /** The state of `kind` at `nowMs` (pause 0 once it has passed). */
  state(kind: string, nowMs: number): BackoffState {
    const b = this.#kinds.get(kind);
    if (b === undefined) return { failures: 0, until: 0, pauseMs: 0 };
    const held = nowMs < b.until;
    return {
      failures: b.failures,
      until: held ? b.until : 0,
      pauseMs: held ? this.#pause(b.failures) : 0,
    };
  }

  #pause(failures: number): number {
    return Math.min(this.#maxMs, this.#initialMs * 2 ** (failures - 1));
  }
}
