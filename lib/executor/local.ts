/**
 * Runs warmer and cooler tasks as local shell commands. This is the executor for a single
 * machine (and for trying Relay out without a Mesos cluster): every task is `sh -c <command>`
 * in its own process group, with an environment built only from what the user asked for, so
 * that killing a task also kills whatever it started and nothing of Relay's own environment
 * leaks into it. `maxConcurrent` plays the role Mesos offers play on a cluster: extra requests
 * wait as `pending` until a slot frees, so the control loop sees the same kind of start delay.
 * A kind's launches can be held for a while (`holdLaunches`, the backoff after failures in a
 * row): its tasks wait as `pending` meanwhile, and the other kind goes on.
 * @module
 */

import type { Clock } from "../clock.ts";
import type { Level } from "../log.ts";
import {
  type Executor,
  type ExitMode,
  type TaskEvent,
  type TaskKind,
  type TaskState,
  type TaskView,
  TERMINAL_STATES,
} from "./types.ts";

/** Options of {@linkcode LocalExecutor}. */
export interface LocalExecutorOptions {
  /** Shell command of warmer tasks; launching warmers without it throws. */
  readonly warmer?: string;
  /** Shell command of cooler tasks; launching coolers without it throws. */
  readonly cooler?: string;
  /** The complete environment of a task (plus `RELAY_TASK_ID` and `RELAY_TASK_KIND`). */
  readonly env: Record<string, string>;
  /** Kill a task that runs longer than this; 0 means no limit. */
  readonly taskTimeoutMs: number;
  /** Source of timestamps for task views. */
  readonly clock: Clock;
  /** Receives task output lines and the executor's own notes. */
  readonly log: (level: Level, msg: string, fields?: Record<string, unknown>) => void;
  /** First part of task ids; default `relay`. */
  readonly idPrefix?: string;
  /** How long terminal tasks stay in {@linkcode LocalExecutor.tasks}; default 60000 ms. */
  readonly retainMs?: number;
  /** Most tasks running at once; 0 (default) means no limit. Extra tasks wait as `pending`. */
  readonly maxConcurrent?: number;
  /** How long a killed task gets between SIGTERM and SIGKILL (default {@linkcode KILL_GRACE_MS}). */
  readonly killGraceMs?: number;
}

/** How long a task gets between SIGTERM and SIGKILL, unless told (`--task-kill-grace`). */
export const KILL_GRACE_MS = 2000;
/** How long to keep reading output after the main process exited (a background child may
 * still hold the pipes open). */
const OUTPUT_DRAIN_MS = 250;
/** What a shell prints on stderr when a child it waits for dies of SIGTERM or SIGKILL. */
const SHELL_KILL_REPORT = /(^|\s)(Terminated|Killed)(\s|$)/;
/** Longest output line logged in one piece. */
const MAX_LINE_CHARS = 64 * 1024;

type StreamName = "stdout" | "stderr";
type Timer = ReturnType<typeof setTimeout>;

interface TaskRecord {
  readonly id: string;
  readonly kind: TaskKind;
  readonly requestedAt: number;
  state: TaskState;
  startedAt?: number;
  endedAt?: number;
  reason?: string;
  child?: Deno.ChildProcess;
  /** Set once we started terminating the task, with the reason to report. */
  stopping?: { readonly as: "killed" | "failed"; readonly reason: string };
  /** The main process has exited (the task may still be draining output). */
  exited: boolean;
  timeoutTimer?: Timer;
  killTimer?: Timer;
  readers: ReadableStreamDefaultReader<string>[];
  readersDone?: Promise<void>;
  readonly done: Promise<void>;
  resolveDone: () => void;
}

/**
 * An {@linkcode Executor} that runs tasks as local processes (`sh -c <command>`), each in its
 * own process group, and logs their output line by line.
 *
 * @example
 * ```ts
 * import { systemClock } from "../clock.ts";
 * const executor = new LocalExecutor({
 *   warmer: "sleep 5",
 *   env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
 *   taskTimeoutMs: 0,
 *   clock: systemClock,
 *   log: (level, msg, fields) => console.log(level, msg, fields),
 * });
 * executor.onTaskEvent((e) => console.log(e.task.id, e.previous, "->", e.task.state));
 * const [id] = executor.launch("warmer", 1); // "relay-warmer-000001-3f9a"
 * executor.kill([id]);
 * await executor.shutdown("kill", 0);
 * ```
 */
export class LocalExecutor implements Executor {
  readonly name = "local";
  readonly #opts: LocalExecutorOptions;
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #pending: TaskRecord[] = [];
  readonly #listeners = new Set<(event: TaskEvent) => void>();
  /** Kinds whose launches wait until then (clock ms), and the timer that ends the wait. */
  readonly #holds = new Map<TaskKind, { until: number; timer: Timer }>();
  #sequence = 0;
  #running = 0;
  #closed = false;
  #spawnScheduled = false;

  constructor(options: LocalExecutorOptions) {
    this.#opts = options;
  }

  /** Process id of a task's main process (also its process group id), while known. */
  pidOf(id: string): number | undefined {
    return this.#tasks.get(id)?.child?.pid;
  }

  launch(kind: TaskKind, count: number): string[] {
    if (this.#closed) throw new Error("executor is shut down; no more launches");
    const command = this.#command(kind);
    if (command === undefined) throw new Error(`no ${kind} command configured`);
    if (!Number.isInteger(count) || count < 0) {
      throw new Error(`task count must be a non-negative integer, got ${count}`);
    }
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const rec = this.#create(kind);
      this.#tasks.set(rec.id, rec);
      this.#pending.push(rec);
      ids.push(rec.id);
      this.#emit(rec, undefined);
    }
    this.#scheduleSpawn();
    return ids;
  }

  kill(ids: readonly string[]): void {
    for (const id of ids) {
      const rec = this.#tasks.get(id);
      if (rec) this.#stop(rec, "killed by request");
    }
  }

  holdLaunches(kind: TaskKind, untilMs: number): void {
    clearTimeout(this.#holds.get(kind)?.timer);
    const timer = setTimeout(() => {
      this.#holds.delete(kind);
      this.#scheduleSpawn();
    }, Math.max(0, untilMs - this.#opts.clock.now()));
    this.#holds.set(kind, { until: untilMs, timer });
  }

  tasks(): TaskView[] {
    this.#prune();
    return [...this.#tasks.values()].map(view);
  }

  onTaskEvent(listener: (event: TaskEvent) => void): () => void {
    // Wrap so that the same function subscribed twice gets two independent subscriptions.
    const wrapped = (event: TaskEvent) => listener(event);
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  async shutdown(mode: ExitMode, graceMs: number): Promise<void> {
    this.#closed = true;
    for (const hold of this.#holds.values()) clearTimeout(hold.timer);
    this.#holds.clear();
    for (const rec of [...this.#pending]) this.#stop(rec, "cancelled at shutdown");
    const live = () => [...this.#tasks.values()].filter((t) => !TERMINAL_STATES.has(t.state));
    const allDone = (tasks: TaskRecord[]) => Promise.all(tasks.map((t) => t.done)).then(() => {});

    if (mode === "leave") {
      for (const rec of live()) this.#abandon(rec);
      return;
    }
    if (mode === "wait" && graceMs > 0) {
      const running = live();
      if (running.length > 0) {
        this.#opts.log("info", "waiting for running tasks to end", {
          tasks: running.length,
          graceMs,
        });
        let timer: Timer | undefined;
        const expired = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        });
        await Promise.race([allDone(running), expired]);
        clearTimeout(timer);
      }
    }
    const rest = live();
    for (const rec of rest) this.#stop(rec, "killed at shutdown");
    await allDone(rest);
  }

  // ---------------------------------------------------------------------------------------

  #command(kind: TaskKind): string | undefined {
    const command = kind === "warmer" ? this.#opts.warmer : this.#opts.cooler;
    return command === undefined || command.trim() === "" ? undefined : command;
  }

  #create(kind: TaskKind): TaskRecord {
    this.#sequence += 1;
    const random = crypto.getRandomValues(new Uint8Array(2));
    const hex = [...random].map((b) => b.toString(16).padStart(2, "0")).join("");
    const seq = String(this.#sequence).padStart(6, "0");
    const id = `${this.#opts.idPrefix ?? "relay"}-${kind}-${seq}-${hex}`;
    let resolveDone = () => {};
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    return {
      id,
      kind,
      requestedAt: this.#opts.clock.now(),
      state: "pending",
      exited: false,
      readers: [],
      done,
      resolveDone,
    };
  }

  #scheduleSpawn(): void {
    if (this.#spawnScheduled) return;
    this.#spawnScheduled = true;
    queueMicrotask(() => {
      this.#spawnScheduled = false;
      this.#spawnPending();
    });
  }

  #spawnPending(): void {
    const max = this.#opts.maxConcurrent ?? 0;
    let i = 0;
    while (i < this.#pending.length && (max <= 0 || this.#running < max)) {
      const rec = this.#pending[i];
      if (rec.state === "pending" && this.#holds.has(rec.kind)) {
        i++; // Its kind is backed off: it waits, the other kind may go on.
        continue;
      }
      this.#pending.splice(i, 1);
      if (rec.state === "pending") this.#spawn(rec);
    }
  }

  #spawn(rec: TaskRecord): void {
    const command = this.#command(rec.kind)!;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("sh", {
        args: ["-c", command],
        clearEnv: true,
        env: { ...this.#opts.env, RELAY_TASK_ID: rec.id, RELAY_TASK_KIND: rec.kind },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (err) {
      const reason = `spawn error: ${err instanceof Error ? err.message : String(err)}`;
      this.#opts.log("error", "task could not start", { task: rec.id, reason });
      this.#end(rec, "failed", reason);
      return;
    }
    rec.child = child;
    this.#running += 1;
    this.#transition(rec, "running", { startedAt: this.#opts.clock.now() });
    this.#opts.log("debug", "task started", { task: rec.id, kind: rec.kind, pid: child.pid });

    rec.readersDone = Promise.all([
      this.#readLines(rec, child.stdout, "stdout"),
      this.#readLines(rec, child.stderr, "stderr"),
    ]).then(() => {});

    const timeoutMs = this.#opts.taskTimeoutMs;
    if (timeoutMs > 0) {
      rec.timeoutTimer = setTimeout(() => {
        rec.timeoutTimer = undefined;
        if (rec.exited || rec.stopping) return;
        const reason = `timed out after ${formatSeconds(timeoutMs)} s`;
        this.#opts.log("warn", "task timed out", { task: rec.id, timeoutMs });
        this.#terminate(rec, { as: "failed", reason });
      }, timeoutMs);
    }

    child.status.then(
      (status) => this.#exited(rec, status),
      (err) => this.#exited(rec, undefined, err),
    );
  }

  async #readLines(
    rec: TaskRecord,
    stream: ReadableStream<Uint8Array>,
    name: StreamName,
  ): Promise<void> {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    rec.readers.push(reader);
    const level: Level = name === "stdout" ? "info" : "warn";
    const emit = (line: string) => {
      const text = line.endsWith("\r") ? line.slice(0, -1) : line;
      // A shell's report that the kill we sent worked is not a warning.
      const ours = name === "stderr" && rec.stopping?.as === "killed" &&
        SHELL_KILL_REPORT.test(text);
      this.#opts.log(ours ? "debug" : level, text, { task: rec.id, stream: name });
    };
    let carry = "";
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        carry += value;
        let nl: number;
        while ((nl = carry.indexOf("\n")) >= 0) {
          emit(carry.slice(0, nl));
          carry = carry.slice(nl + 1);
        }
        if (carry.length > MAX_LINE_CHARS) {
          emit(carry);
          carry = "";
        }
      }
    } catch {
      // Cancelled (output no longer wanted) or the pipe broke; either way stop reading.
    }
    if (carry !== "") emit(carry);
  }

  async #exited(rec: TaskRecord, status?: Deno.CommandStatus, error?: unknown): Promise<void> {
    rec.exited = true;
    clearTimeout(rec.timeoutTimer);
    clearTimeout(rec.killTimer);
    rec.timeoutTimer = rec.killTimer = undefined;

    let state: TaskState;
    let reason: string | undefined;
    const how = status === undefined
      ? `wait error: ${error instanceof Error ? error.message : String(error)}`
      : status.signal
      ? `signal ${status.signal}`
      : `exit code ${status.code}`;
    if (rec.stopping) {
      state = rec.stopping.as;
      reason = rec.stopping.as === "failed"
        ? rec.stopping.reason
        : `${rec.stopping.reason} (${how})`;
    } else if (status?.success) {
      state = "finished";
    } else {
      state = "failed";
      reason = how;
    }

    // Let the last output lines arrive, but not forever: a background child of the task may
    // hold the pipes open long after the task itself ended.
    if (rec.readersDone) {
      let timer: Timer | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), OUTPUT_DRAIN_MS);
      });
      const outcome = await Promise.race([rec.readersDone, late]);
      clearTimeout(timer);
      if (outcome === "late") {
        this.#cancelReaders(rec);
        await rec.readersDone;
      }
    }

    this.#running -= 1;
    this.#end(rec, state, reason);
    this.#scheduleSpawn();
  }

  /** Cancels a pending task, or starts terminating a running one. */
  #stop(rec: TaskRecord, reason: string): void {
    if (rec.state === "pending") {
      const i = this.#pending.indexOf(rec);
      if (i >= 0) this.#pending.splice(i, 1);
      this.#end(rec, "killed", reason === "killed by request" ? "cancelled before start" : reason);
      return;
    }
    if (rec.state !== "running" || rec.exited || rec.stopping) return;
    this.#terminate(rec, { as: "killed", reason });
  }

  /** SIGTERM to the task's process group now, SIGKILL if the task is still alive later. */
  #terminate(rec: TaskRecord, stopping: NonNullable<TaskRecord["stopping"]>): void {
    rec.stopping = stopping;
    clearTimeout(rec.timeoutTimer);
    rec.timeoutTimer = undefined;
    this.#signal(rec, "SIGTERM");
    rec.killTimer = setTimeout(() => {
      rec.killTimer = undefined;
      if (rec.exited) return;
      this.#opts.log("warn", "task ignored SIGTERM; sending SIGKILL", { task: rec.id });
      this.#signal(rec, "SIGKILL");
    }, this.#opts.killGraceMs ?? KILL_GRACE_MS);
  }

  #signal(rec: TaskRecord, signal: Deno.Signal): void {
    const child = rec.child;
    if (!child) return;
    try {
      Deno.kill(-child.pid, signal);
      return;
    } catch {
      // The group may be gone or not ours; try the main process alone.
    }
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** Leaves a running task alone for good: no output reading, no timers, no hold on exit. */
  #abandon(rec: TaskRecord): void {
    clearTimeout(rec.timeoutTimer);
    rec.timeoutTimer = undefined;
    this.#cancelReaders(rec);
    try {
      rec.child?.unref();
    } catch {
      // Nothing to release.
    }
    this.#opts.log("info", "leaving task running", { task: rec.id, pid: rec.child?.pid });
  }

  #cancelReaders(rec: TaskRecord): void {
    for (const reader of rec.readers) reader.cancel().catch(() => {});
  }

  #end(rec: TaskRecord, state: TaskState, reason?: string): void {
    this.#transition(rec, state, { endedAt: this.#opts.clock.now(), reason });
    // The task event (logged by the caller's bus) is what says a task failed; this is detail.
    this.#opts.log("debug", `task ${state}`, { task: rec.id, ...(reason ? { reason } : {}) });
    rec.resolveDone();
  }

  #transition(
    rec: TaskRecord,
    state: TaskState,
    extra: { startedAt?: number; endedAt?: number; reason?: string },
  ): void {
    const previous = rec.state;
    rec.state = state;
    if (extra.startedAt !== undefined) rec.startedAt = extra.startedAt;
    if (extra.endedAt !== undefined) rec.endedAt = extra.endedAt;
    if (extra.reason !== undefined) rec.reason = extra.reason;
    this.#emit(rec, previous);
  }

  #emit(rec: TaskRecord, previous: TaskState | undefined): void {
    const event: TaskEvent = previous === undefined
      ? { task: view(rec) }
      : { task: view(rec), previous };
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.#opts.log("error", "task event listener threw", {
          task: rec.id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  #prune(): void {
    const cutoff = this.#opts.clock.now() - (this.#opts.retainMs ?? 60_000);
    for (const [id, rec] of this.#tasks) {
      if (TERMINAL_STATES.has(rec.state) && (rec.endedAt ?? 0) < cutoff) this.#tasks.delete(id);
    }
  }
}

function view(rec: TaskRecord): TaskView {
  const v: {
    id: string;
    kind: TaskKind;
    state: TaskState;
    requestedAt: number;
    startedAt?: number;
    endedAt?: number;
    reason?: string;
  } = { id: rec.id, kind: rec.kind, state: rec.state, requestedAt: rec.requestedAt };
  if (rec.startedAt !== undefined) v.startedAt = rec.startedAt;
  if (rec.endedAt !== undefined) v.endedAt = rec.endedAt;
  if (rec.reason !== undefined) v.reason = rec.reason;
  return Object.freeze(v);
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}
