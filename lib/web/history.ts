/**
 * What the web UI shows of the past: a bounded ring of tick points (a missing sample is kept as a
 * gap, so the chart breaks its lines there) and the last decisions with their reasons. Memory is
 * constant once `historyPoints` ticks have been seen: the ring reuses its slots.
 * @module
 */

import type { Decision } from "../control/types.ts";
import type { RelayEvent } from "../events.ts";

/** One tick as the chart draws it. Times are epoch milliseconds from the loop's clock. */
export interface HistoryPoint {
  readonly t: number;
  readonly tick: number;
  /** `null` on a gap (a tick without a valid sample). */
  readonly target: number | null;
  readonly metric: number | null;
  /** What the law decided this tick (also in dry-run, where nothing is launched). */
  readonly warmers: number;
  readonly coolers: number;
  readonly kills: number;
  /** Task counts after the tick; `null` on a gap. */
  readonly running: number | null;
  readonly pending: number | null;
  /** Set on a gap: which signal had no valid sample. */
  readonly missing?: "metric" | "target";
}

/** What a decision does, in one word. */
export type DecisionAction = "warm" | "cool" | "kill" | "cancel" | "wait";

/**
 * One entry of the decision list. Consecutive ticks that decide nothing for the same reason are
 * merged into one entry (its `repeat` grows and `t`/`tick` move on), so a long quiet spell does
 * not push the interesting decisions out of the list.
 */
export interface DecisionEntry {
  /** Increases with every new entry; a merged tick keeps the entry's id. */
  readonly id: number;
  /** Time of the latest tick this entry stands for. */
  readonly t: number;
  /** Time of the first tick this entry stands for. */
  readonly since: number;
  readonly tick: number;
  readonly action: DecisionAction;
  /** Tasks to start (warm/cool), to stop (kill) or to cancel (cancel); 0 for wait. */
  readonly count: number;
  readonly reason: string;
  readonly detail: Readonly<Record<string, number | string | boolean>>;
  /** Tasks actually started and stopped (0 in dry-run, or when the executor refused). */
  readonly launched: number;
  readonly killed: number;
  readonly dryRun: boolean;
  /** Ticks this entry stands for. */
  readonly repeat: number;
}

/** Decisions kept by default. */
export const DECISIONS_KEPT = 50;

/** The action and task count of a decision. */
export function decisionAction(d: Decision): { action: DecisionAction; count: number } {
  if (d.warmers > 0) return { action: "warm", count: d.warmers };
  if (d.coolers > 0) return { action: "cool", count: d.coolers };
  if (d.kills > 0) return { action: "kill", count: d.kills };
  if (d.cancel && d.cancel.count > 0) return { action: "cancel", count: d.cancel.count };
  return { action: "wait", count: 0 };
}

/**
 * A fixed-capacity ring: pushing past capacity overwrites the oldest item. The backing array is
 * allocated once, so memory does not grow with the number of pushes.
 */
export class Ring<T> {
  readonly #slots: (T | undefined)[];
  #start = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    }
    this.#slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** Items held now (at most `capacity`). */
  get size(): number {
    return this.#size;
  }

  /** Length of the backing array; always `capacity` (for tests of the memory bound). */
  get slots(): number {
    return this.#slots.length;
  }

  push(item: T): void {
    if (this.#size < this.capacity) {
      this.#slots[(this.#start + this.#size) % this.capacity] = item;
      this.#size++;
    } else {
      this.#slots[this.#start] = item;
      this.#start = (this.#start + 1) % this.capacity;
    }
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.#size === 0
      ? undefined
      : this.#slots[(this.#start + this.#size - 1) % this.capacity];
  }

  /** Replaces the newest item (no-op on an empty ring). */
  replaceLast(item: T): void {
    if (this.#size > 0) this.#slots[(this.#start + this.#size - 1) % this.capacity] = item;
  }

  /** Items oldest first, as a new array. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.#slots[(this.#start + i) % this.capacity]!);
    return out;
  }
}

/** What one event changed in a {@linkcode History}, for live clients. */
export interface HistoryChange {
  readonly point?: HistoryPoint;
  readonly decision?: DecisionEntry;
}

/**
 * The kept past of a run, fed with bus events.
 *
 * @example
 * ```ts
 * import { EventBus } from "../events.ts";
 * const bus = new EventBus();
 * const history = new History(3600);
 * bus.on((e) => history.record(e));
 * history.points(); // oldest first, at most 3600
 * ```
 */
export class History {
  readonly #points: Ring<HistoryPoint>;
  readonly #decisions: Ring<DecisionEntry>;
  #nextId = 1;

  constructor(historyPoints: number, decisionsKept: number = DECISIONS_KEPT) {
    this.#points = new Ring(historyPoints);
    this.#decisions = new Ring(decisionsKept);
  }

  /** Capacity of the point ring. */
  get capacity(): number {
    return this.#points.capacity;
  }

  /** Records `tick` and `missing` events; other events change nothing. */
  record(event: RelayEvent): HistoryChange {
    if (event.type === "missing") {
      const point: HistoryPoint = {
        t: event.at,
        tick: event.tick,
        target: null,
        metric: null,
        warmers: 0,
        coolers: 0,
        kills: 0,
        running: null,
        pending: null,
        missing: event.signal,
      };
      this.#points.push(point);
      return { point };
    }
    if (event.type !== "tick") return {};
    const d = event.decision;
    const point: HistoryPoint = {
      t: event.at,
      tick: event.tick,
      target: event.target,
      metric: event.metric,
      warmers: d.warmers,
      coolers: d.coolers,
      kills: d.kills,
      running: event.running,
      pending: event.pending,
    };
    this.#points.push(point);
    return { point, decision: this.#recordDecision(event) };
  }

  #recordDecision(event: Extract<RelayEvent, { type: "tick" }>): DecisionEntry {
    const { action, count } = decisionAction(event.decision);
    const last = this.#decisions.last();
    if (
      action === "wait" && last && last.action === "wait" &&
      last.reason === event.decision.reason && last.dryRun === event.dryRun
    ) {
      const merged: DecisionEntry = {
        ...last,
        t: event.at,
        tick: event.tick,
        detail: event.decision.detail,
        repeat: last.repeat + 1,
      };
      this.#decisions.replaceLast(merged);
      return merged;
    }
    const entry: DecisionEntry = {
      id: this.#nextId++,
      t: event.at,
      since: event.at,
      tick: event.tick,
      action,
      count,
      reason: event.decision.reason,
      detail: event.decision.detail,
      launched: event.launched.length,
      killed: event.killed.length,
      dryRun: event.dryRun,
      repeat: 1,
    };
    this.#decisions.push(entry);
    return entry;
  }

  /** Kept points, oldest first. */
  points(): HistoryPoint[] {
    return this.#points.toArray();
  }

  /** Kept decisions, oldest first. */
  decisions(): DecisionEntry[] {
    return this.#decisions.toArray();
  }

  /** The newest point, if any. */
  lastPoint(): HistoryPoint | undefined {
    return this.#points.last();
  }

  /** Sizes, for tests of the memory bound. */
  stats(): { points: number; pointSlots: number; decisions: number; decisionSlots: number } {
    return {
      points: this.#points.size,
      pointSlots: this.#points.slots,
      decisions: this.#decisions.size,
      decisionSlots: this.#decisions.slots,
    };
  }
}
