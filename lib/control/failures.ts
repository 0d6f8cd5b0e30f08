/**
 * Counts task failures in a sliding window, for `--max-failures`/`--failure-window`: a run whose
 * tasks keep failing (a warmer command that does not exist, a broken image) stops with a clear
 * reason instead of launching forever. Pure: the caller passes the times.
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
