/**
 * Time, for everything that waits: the loop's ticks and the Mesos client's timeouts, watchdogs
 * and backoffs all go through a `Clock`, so production code uses {@linkcode systemClock} and tests
 * inject a virtual one instead of waiting in real time or faking timers.
 * @module
 */

/** A source of time and a way to wait for it. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Longest wait one `setTimeout` holds (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The wall clock, with `setTimeout` for sleeping (in pieces, so that any length is safe). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || !(ms > 0)) return resolve();
      const until = Date.now() + ms;
      let timer: ReturnType<typeof setTimeout>;
      const arm = () => {
        const left = until - Date.now();
        if (left <= 0) return done();
        timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
      arm();
    });
  },
};

/**
 * A clock that only moves when told to. `sleep` advances time instantly, which lets a test run
 * thousands of ticks in milliseconds.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock(0);
 * await clock.sleep(1000);
 * clock.now(); // 1000
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += Math.max(0, ms);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal?.aborted) this.advance(ms);
    return Promise.resolve();
  }
}
