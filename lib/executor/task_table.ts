/**
 * The tasks of one executor, kept the same way for local processes and Mesos: ids, state
 * transitions, the listeners told of them, how long ended tasks stay visible, and the shutdown
 * sequence. What runs a task (a process, a Mesos offer) stays with the executor; this table
 * only records what happened to it.
 *
 * Invariants: a task id is `PREFIX-KIND-SERIAL-HEX` (serial counted per table, six random hex
 * digits so that ids of two runs of one framework do not meet); a task never leaves a terminal
 * state except through {@linkcode TaskTable.revive}; `startedAt` is set the first time a task
 * runs and `endedAt` when it ends; listeners get every change in order, and one that throws is
 * logged and does not stop the others; the waiting tasks come out of
 * {@linkcode TaskTable.pending} in launch order.
 * @module
 */

import type { Clock } from "../clock.ts";
import type { LogFn } from "../log.ts";
import {
  type ExitMode,
  type TaskEvent,
  type TaskKind,
  type TaskState,
  type TaskView,
  TERMINAL_STATES,
} from "./types.ts";

/** What the table keeps of every task; executors extend it with their own fields. */
export interface TaskRecord {
  readonly id: string;
  readonly kind: TaskKind;
  state: TaskState;
  readonly requestedAt: number;
  startedAt?: number;
  endedAt?: number;
  reason?: string;
}

/** Settings of {@linkcode TaskTable}. */
export interface TaskTableOptions {
  readonly clock: Clock;
  readonly log: LogFn;
  /** First part of task ids (default `relay`). */
  readonly idPrefix?: string;
  /** How long ended tasks stay in {@linkcode TaskTable.views} (default {@linkcode RETAIN_MS}). */
  readonly retainMs?: number;
}

/** What {@linkcode TaskTable.shutdown} asks of the executor. */
export interface ShutdownSteps<T extends TaskRecord> {
  /** Stops the given live tasks (SIGTERM, a KILL call); they end later through `transition`. */
  kill(tasks: readonly T[]): void;
  /** Lets go of the given live tasks for good (`--on-exit leave`). */
  leave?(tasks: readonly T[]): void;
  /** Waits `ms`, or until `signal` aborts (on whichever clock the executor keeps its waits). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Longest wait for killed tasks to end; unset: until they do. */
  killWaitMs?: number;
}

/** Ended tasks stay visible this long: the loop and the UI still see what just happened. */
export const RETAIN_MS = 60_000;
/** Random bytes in a task id: 16 million ids per serial, so that runs do not meet. */
const ID_RANDOM_BYTES = 3;

/**
 * One executor's tasks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "../clock.ts";
 * const table = new TaskTable({ clock: new VirtualClock(0), log: () => {} });
 * const seen: string[] = [];
 * table.onTaskEvent((e) => seen.push(`${e.previous ?? "new"}->${e.task.state}`));
 * const task = table.add({ id: table.newId("cooler"), kind: "cooler", state: "pending", requestedAt: 0 });
 * table.transition(task, "running");
 * table.transition(task, "finished");
 * assert.deepEqual(seen, ["new->pending", "pending->running", "running->finished"]);
 * assert.match(task.id, /^relay-cooler-000001-[0-9a-f]{6}$/);
 * ```
 */
export class TaskTable<T extends TaskRecord> {
  readonly #opts: TaskTableOptions;
  readonly #tasks = new Map<string, T>();
  readonly #pending = new Set<T>();
  readonly #listeners = new Set<(event: TaskEvent) => void>();
  /** Resolved when no task is live any more. */
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;
  #live = 0;
  #serial = 0;

  constructor(options: TaskTableOptions) {
    this.#opts = options;
  }

  /** A new task id of `kind`. */
  newId(kind: TaskKind): string {
    const serial = String(++this.#serial).padStart(6, "0");
    const hex = [...crypto.getRandomValues(new Uint8Array(ID_RANDOM_BYTES))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    return `${this.#opts.idPrefix ?? "relay"}-${kind}-${serial}-${hex}`;
  }

  /** Records a new task (asked for, or adopted from an earlier run) and tells the listeners. */
  add(task: T): T {
    this.#tasks.set(task.id, task);
    if (task.state === "pending") this.#pending.add(task);
    if (!TERMINAL_STATES.has(task.state)) this.#live++;
    this.#emit(task, undefined);
    return task;
  }

  get(id: string): T | undefined {
    return this.#tasks.get(id);
  }

  /** Every task still kept, ended ones included, in the order they were added. */
  all(): IterableIterator<T> {
    return this.#tasks.values();
  }

  /** The tasks that have not ended. */
  live(): T[] {
    return [...this.#tasks.values()].filter((t) => !TERMINAL_STATES.has(t.state));
  }

  /** The tasks waiting to start, in launch order (a live view: safe to change while iterating). */
  pending(): IterableIterator<T> {
    return this.#pending.values();
  }

  /** How many tasks wait to start. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Moves `task` to `state` and tells the listeners: `startedAt` is set when it first runs,
   * `endedAt` (and `reason`, if given) when it ends. A terminal task does not change.
   */
  transition(task: T, state: TaskState, reason?: string): void {
    const previous = task.state;
    if (TERMINAL_STATES.has(previous) || previous === state) return;
    task.state = state;
    if (previous === "pending") this.#pending.delete(task);
    const now = this.#opts.clock.now();
    if (state === "running" && task.startedAt === undefined) task.startedAt = now;
    if (TERMINAL_STATES.has(state)) {
      task.endedAt = now;
      if (reason !== undefined) task.reason = reason;
      this.#ended();
    }
    this.#emit(task, previous);
  }

  /**
   * Brings an ended task back to `state`: one counted lost whose launch turned out to have
   * happened after all (a Mesos ACCEPT whose answer was lost on the way back). It may end again
   * at once (`state` terminal, with `reason`).
   */
  revive(task: T, state: TaskState, reason?: string): void {
    const previous = task.state;
    if (!TERMINAL_STATES.has(previous) || previous === state) return;
    delete task.endedAt;
    delete task.reason;
    task.state = state;
    const now = this.#opts.clock.now();
    if (state === "running" && task.startedAt === undefined) task.startedAt = now;
    if (TERMINAL_STATES.has(state)) {
      task.endedAt = now;
      if (reason !== undefined) task.reason = reason;
    } else {
      this.#live++;
    }
    this.#emit(task, previous);
  }

  /** Subscribes to task changes; returns the unsubscribe function. */
  onTaskEvent(listener: (event: TaskEvent) => void): () => void {
    // Wrapped, so that one function subscribed twice gets two independent subscriptions.
    const wrapped = (event: TaskEvent) => listener(event);
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  /** Forgets tasks that ended more than the retention ago. */
  prune(): void {
    const cutoff = this.#opts.clock.now() - (this.#opts.retainMs ?? RETAIN_MS);
    for (const [id, t] of this.#tasks) {
      if (t.endedAt !== undefined && t.endedAt < cutoff) this.#tasks.delete(id);
    }
  }

  /** What the loop sees: every live task and the recently ended ones, as frozen views. */
  views(): TaskView[] {
    this.prune();
    return [...this.#tasks.values()].map(view);
  }

  /** Resolves once no task is live (at once if none is). */
  idle(): Promise<void> {
    if (this.#live === 0) return Promise.resolve();
    if (this.#idle === undefined) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => resolve = r);
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  /**
   * The shutdown both executors share: waiting tasks are cancelled; then per `mode`, `leave`
   * lets the live ones go, `wait` waits up to `graceMs` for them to end and kills the rest, and
   * `kill` kills them now. Resolves when the killed tasks have ended (or `killWaitMs` passed).
   */
  async shutdown(mode: ExitMode, graceMs: number, steps: ShutdownSteps<T>): Promise<void> {
    for (const task of [...this.#pending]) this.transition(task, "killed", "cancelled at shutdown");
    if (mode === "leave") {
      steps.leave?.(this.live());
      return;
    }
    if (mode === "wait" && graceMs > 0 && this.#live > 0) {
      this.#opts.log("info", "waiting for running tasks to end", { tasks: this.#live, graceMs });
      await this.#idleWithin(graceMs, steps);
    }
    const rest = this.live();
    if (rest.length === 0) return;
    steps.kill(rest);
    if (steps.killWaitMs === undefined) await this.idle();
    else await this.#idleWithin(steps.killWaitMs, steps);
  }

  /** Waits until no task is live or `ms` passed, whichever comes first; leaves no timer. */
  async #idleWithin(ms: number, steps: ShutdownSteps<T>): Promise<void> {
    const stop = new AbortController();
    await Promise.race([this.idle(), steps.sleep(ms, stop.signal)]);
    stop.abort();
  }

  #ended(): void {
    this.#live--;
    if (this.#live === 0 && this.#idle !== undefined) {
      this.#idle.resolve();
      this.#idle = undefined;
    }
  }

  #emit(task: T, previous: TaskState | undefined): void {
    if (this.#listeners.size === 0) return;
    const v = view(task);
    const event: TaskEvent = previous === undefined ? { task: v } : { task: v, previous };
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.#opts.log("error", "task event listener threw", {
          task: task.id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}

/** The executor-neutral, frozen view of a task: its own fields only. */
function view(task: TaskRecord): TaskView {
  const v: {
    id: string;
    kind: TaskKind;
    state: TaskState;
    requestedAt: number;
    startedAt?: number;
    endedAt?: number;
    reason?: string;
  } = { id: task.id, kind: task.kind, state: task.state, requestedAt: task.requestedAt };
  if (task.startedAt !== undefined) v.startedAt = task.startedAt;
  if (task.endedAt !== undefined) v.endedAt = task.endedAt;
  if (task.reason !== undefined) v.reason = task.reason;
  return Object.freeze(v);
}
