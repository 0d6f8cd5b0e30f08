/**
 * The law's record of the starts it asked for, per kind: when and how many. This, not the
 * executor's running counts, is the general evidence of what a task does (a trigger's process
 * is gone long before its effect is). Cancelled or killed starts that never ran are taken off
 * the newest end, as the loop takes them. Invariants: entries are in time order, counts are
 * positive, nothing older than the ledger's span is kept; the totals count every start recorded
 * and not withdrawn, pruned or not. Pure: the caller passes the times.
 * @module
 */

import type { TaskKind } from "../executor/types.ts";
import { StartIndex } from "./response.ts";

/** Starts asked for at one time. */
export interface StartEntry {
  readonly t: number;
  n: number;
}

/**
 * Starts per kind over the last `span` seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const ledger = new StartLedger(150);
 * ledger.record("cooler", 10, 3);
 * ledger.withdraw("cooler", 1); // one of them was cancelled before it ran
 * assert.deepEqual(ledger.entries("cooler"), [{ t: 10, n: 2 }]);
 * ```
 */
export class StartLedger {
  readonly #entries: Record<TaskKind, StartEntry[]> = { warmer: [], cooler: [] };
  readonly #total: Record<TaskKind, number> = { warmer: 0, cooler: 0 };
  /** Each kind's index of its entries as they are, built when first asked for since a change. */
  readonly #index: Partial<Record<TaskKind, StartIndex>> = {};
  constructor(readonly span: number) {}

  /** Records `n` starts of `kind` asked for at `t`. */
  record(kind: TaskKind, t: number, n: number): void {
    if (n <= 0) return;
    this.#entries[kind].push({ t, n });
    this.#total[kind] += n;
    this.#index[kind] = undefined;
  }

  /**
   * A {@linkcode StartIndex} of the kind's entries, kept until they change: identification and
   * the plan ask it for every candidate input every tick, and most ticks start nothing.
   */
  index(kind: TaskKind): StartIndex {
    return this.#index[kind] ??= new StartIndex(this.#entries[kind]);
  }

  /** Takes `n` starts off the newest end (cancelled or killed before they ran). */
  withdraw(kind: TaskKind, n: number): void {
    const list = this.#entries[kind];
    while (n > 0 && list.length > 0) {
      const last = list[list.length - 1];
      const take = Math.min(n, last.n);
      last.n -= take;
      this.#total[kind] -= take;
      n -= take;
      if (last.n === 0) list.pop();
      this.#index[kind] = undefined;
    }
  }

  /** Drops entries older than the span before `t`. */
  prune(t: number): void {
    for (const kind of ["warmer", "cooler"] as const) {
      const list = this.#entries[kind];
      let drop = 0;
      while (drop < list.length && list[drop].t < t - this.span) drop++;
      if (drop > 0) {
        list.splice(0, drop);
        this.#index[kind] = undefined;
      }
    }
  }

  entries(kind: TaskKind): readonly StartEntry[] {
    return this.#entries[kind];
  }

  /** Starts of `kind` recorded since the ledger began, pruned ones included. */
  total(kind: TaskKind): number {
    return this.#total[kind];
  }

  /** Starts of `kind` asked for after `since`. */
  countSince(kind: TaskKind, since: number): number {
    let n = 0;
    for (const e of this.#entries[kind]) if (e.t > since) n += e.n;
    return n;
  }

  /** Request times of the newest `count` starts of `kind`, newest first (fewer if unknown). */
  newest(kind: TaskKind, count: number): number[] {
    const out: number[] = [];
    const list = this.#entries[kind];
    for (let i = list.length - 1; i >= 0 && out.length < count; i--) {
      for (let k = 0; k < list[i].n && out.length < count; k++) out.push(list[i].t);
    }
    return out;
  }
}
