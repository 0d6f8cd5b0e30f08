/**
 * A clock for tests of code that waits on timers while doing real I/O (the scheduler client, the
 * ZooKeeper client): `sleep` waits until the test moves time past its deadline, so a 10 s timeout
 * or a 15 s backoff passes in a few milliseconds of real time, and nothing fires before the test
 * says so. (`VirtualClock` in lib/clock.ts instead returns from `sleep` at once, which suits a
 * loop with no I/O.)
 *
 * Invariants: time only moves forward; sleepers wake in deadline order, each at its own deadline;
 * an aborted sleep resolves at once and is forgotten.
 * @module
 */

import type { Clock } from "../../lib/clock.ts";

interface Sleeper {
  readonly at: number;
  readonly ms: number;
  readonly wake: () => void;
}

/** Lets real I/O and the code woken by a timer run before time moves on. */
export function realTick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A {@linkcode Clock} that only moves when the test advances it. */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: Sleeper[] = [];
  /** Every sleep asked for, in ms, in order (aborted ones too). */
  readonly asked: number[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.asked.push(ms);
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        at: this.#now + Math.max(0, ms),
        ms,
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
      this.#sleepers.sort((a, b) => a.at - b.at);
    });
  }

  /** The durations of the sleeps now pending, soonest deadline first. */
  pending(): number[] {
    return this.#sleepers.map((s) => s.ms);
  }

  /**
   * Moves time forward by `ms`, waking each sleeper due on the way at its deadline and letting
   * real I/O run after each wake.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + Math.max(0, ms);
    while (this.#sleepers.length > 0 && this.#sleepers[0].at <= end) {
      const next = this.#sleepers.shift()!;
      this.#now = Math.max(this.#now, next.at);
      next.wake();
      await realTick();
    }
    this.#now = end;
    await realTick();
  }

  /**
   * Waits in real time (up to `realMs`) until a sleep of exactly `ms` is pending, then moves time
   * to its deadline. Returns the clock time it woke at.
   */
  async fire(ms: number, realMs = 5000): Promise<number> {
    const deadline = Date.now() + realMs;
    while (true) {
      const sleeper = this.#sleepers.find((s) => s.ms === ms);
      if (sleeper) {
        await this.advance(sleeper.at - this.#now);
        return this.#now;
      }
      if (Date.now() > deadline) {
        throw new Error(`no ${ms} ms sleep within ${realMs} ms (pending: ${this.pending()})`);
      }
      await realTick(5);
    }
  }
}

/** Waits in real time until `ok()` holds; throws naming `what` after `realMs`. */
export async function until(what: string, ok: () => boolean, realMs = 5000): Promise<void> {
  const deadline = Date.now() + realMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await realTick(5);
  }
}
