/**
 * Runs warmer and cooler tasks as local shell commands. This is the executor for a single
 * machine (and for trying Relay out without a Mesos cluster): every task is `sh -c <command>`
 * in its own process group, with an environment built only from what the user asked for, so
 * that killing a task also kills whatever it started and nothing of Relay's own environment
 * leaks into it. `maxConcurrent` plays the role Mesos offers play on a cluster: extra requests
 * wait as `pending` until a slot frees, so the control loop sees the same kind of start delay.
 * A kind's launches can be held for a while (`holdLaunches`, the backoff after failures in a
 * row): its tasks wait as `pending` meanwhile, and the other kind goes on.
 * Bounds: a task's logged output is limited per line, per second and in all (see output.ts), the
 * rest counted; processes are spawned a few per event-loop turn; an ended task keeps only a few
 * fields (no process handle, no streams); on exit, the process groups that ended tasks left
 * behind are stopped too.
 * @module
 */

import { type LeftGroup, leftInGroup, signalOurGroups } from "../process_groups.ts";
import { type Clock, systemClock } from "../clock.ts";
import type { Level } from "../log.ts";
import {
  DEFAULT_OUTPUT_LIMITS,
  LineSplitter,
  type OutputLimits,
  TaskOutputBudget,
} from "./output.ts";
import { type TaskRecord, TaskTable } from "./task_table.ts";
import type { Executor, ExitMode, TaskEvent, TaskKind, TaskState, TaskView } from "./types.ts";

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
  /** Bounds on each task's logged output (default {@linkcode DEFAULT_OUTPUT_LIMITS}). */
  readonly outputLimits?: OutputLimits;
}

/** How long a task gets between SIGTERM and SIGKILL, unless told (`--task-kill-grace`). */
export const KILL_GRACE_MS = 2000;
/** How long to keep reading output after the main process exited (a background child may
 * still hold the pipes open). */
const OUTPUT_DRAIN_MS = 250;
/** What a shell prints on stderr when a child it waits for dies of SIGTERM or SIGKILL. */
const SHELL_KILL_REPORT = /(^|\s)(Terminated|Killed)(\s|$)/;
/** Pause after reading a chunk of which lines were dropped: a flood is read (and the task,
 * blocked on its full pipe, slowed) at about 20 chunks a second instead of flat out. */
const FLOOD_PACE_MS = 50;
/** Least time between two "dropped output" notes of one task while it floods. */
const DROP_NOTE_EVERY_MS = 5000;
/** Bytes read from a task's pipe at once (the buffer each of its two pipes keeps). */
const READ_BUFFER_BYTES = 8 * 1024;
/** Processes spawned in one turn of the event loop; the next batch waits for the next turn. */
const SPAWN_BATCH = 8;
/** Process groups of ended tasks still remembered for the sweep at exit (the newest ones). */
const MAX_LINGERING_GROUPS = 10_000;

type StreamName = "stdout" | "stderr";
type Timer = ReturnType<typeof setTimeout>;

/** A task of the table, with its process. */
interface LocalTask extends TaskRecord {
  child?: Deno.ChildProcess;
  /** The main process's id (its group's id too), kept after `child` is let go. */
  pid?: number;
  /** Set once we started terminating the task, with the reason to report. */
  stopping?: { readonly as: "killed" | "failed"; readonly reason: string };
  /** The main process has exited (the task may still be draining output). */
  exited: boolean;
  timeoutTimer?: Timer;
  killTimer?: Timer;
  readers: ReadableStreamBYOBReader[];
  /** The task's output budget (both streams), set when it starts. */
  output?: TaskOutputBudget;
  readersDone?: Promise<void>;
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
 * const [id] = executor.launch("warmer", 1); // "relay-warmer-000001-3f9a0c"
 * executor.kill([id]);
 * await executor.shutdown("kill", 0);
 * ```
 */
export class LocalExecutor implements Executor {
  readonly name = "local";
  readonly #opts: LocalExecutorOptions;
  readonly #table: TaskTable<LocalTask>;
  /** Kinds whose launches wait until then (clock ms), and the timer that ends the wait. */
  readonly #holds = new Map<TaskKind, { until: number; timer: Timer }>();
  #running = 0;
  #closed = false;
  #spawnScheduled = false;
  /** Groups ended tasks left processes in, with those processes where /proc tells them. */
  readonly #lingering = new Map<number, LeftGroup>();

  constructor(options: LocalExecutorOptions) {
    this.#opts = options;
    this.#table = new TaskTable({
      clock: options.clock,
      log: options.log,
      ...(options.idPrefix !== undefined ? { idPrefix: options.idPrefix } : {}),
      ...(options.retainMs !== undefined ? { retainMs: options.retainMs } : {}),
    });
  }

  /** Process id of a task's main process (also its process group id), while known. */
  pidOf(id: string): number | undefined {
    return this.#table.get(id)?.pid;
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
      ids.push(this.#table.add(this.#create(kind)).id);
    }
    this.#scheduleSpawn();
    return ids;
  }

  kill(ids: readonly string[]): void {
    for (const id of ids) {
      const rec = this.#table.get(id);
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
    return this.#table.views();
  }

  onTaskEvent(listener: (event: TaskEvent) => void): () => void {
    return this.#table.onTaskEvent(listener);
  }

  async shutdown(mode: ExitMode, graceMs: number): Promise<void> {
    this.#closed = true;
    for (const hold of this.#holds.values()) clearTimeout(hold.timer);
    this.#holds.clear();
    await this.#table.shutdown(mode, graceMs, {
      kill: (tasks) => {
        for (const rec of tasks) this.#stop(rec, "killed at shutdown");
      },
      leave: (tasks) => {
        for (const rec of tasks) this.#abandon(rec);
      },
      // Task timers are the wall clock's (setTimeout), and so is the grace.
      sleep: (ms, signal) => systemClock.sleep(ms, signal),
    });
    if (mode === "leave") return;
    await this.#sweepLingering();
  }

  /**
   * Ends what ended tasks left behind in their process groups: SIGTERM, then SIGKILL after the
   * kill grace for groups not yet empty.
   */
  async #sweepLingering(): Promise<void> {
    const lingering = [...this.#lingering.values()];
    this.#lingering.clear();
    // Checked before every signal: a group that emptied meanwhile may have been given to
    // someone else.
    let left = signalOurGroups(lingering, "SIGTERM");
    if (left.length === 0) return;
    this.#opts.log("info", "stopping processes that ended tasks left behind", {
      groups: left.length,
    });
    const deadline = Date.now() + (this.#opts.killGraceMs ?? KILL_GRACE_MS);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = signalOurGroups(left, "SIGCONT");
    }
    signalOurGroups(left, "SIGKILL");
  }

  // ---------------------------------------------------------------------------------------

  #command(kind: TaskKind): string | undefined {
    const command = kind === "warmer" ? this.#opts.warmer : this.#opts.cooler;
    return command === undefined || command.trim() === "" ? undefined : command;
  }

  #create(kind: TaskKind): LocalTask {
    return {
      id: this.#table.newId(kind),
      kind,
      requestedAt: this.#opts.clock.now(),
      state: "pending",
      exited: false,
      readers: [],
    };
  }

  /** Spawns waiting tasks soon: in a microtask, or (`later`) after other events had a turn. */
  #scheduleSpawn(later = false): void {
    if (this.#spawnScheduled) return;
    this.#spawnScheduled = true;
    const run = () => {
      this.#spawnScheduled = false;
      this.#spawnPending();
    };
    if (later) setTimeout(run, 0);
    else queueMicrotask(run);
  }

  /** Spawns up to SPAWN_BATCH waiting tasks; more wait for the next turn (the loop stays live). */
  #spawnPending(): void {
    const max = this.#opts.maxConcurrent ?? 0;
    let spawned = 0;
    for (const rec of this.#table.pending()) {
      if (max > 0 && this.#running >= max) return;
      // Its kind is backed off: it waits, the other kind may go on.
      if (this.#holds.has(rec.kind)) continue;
      if (spawned >= SPAWN_BATCH) {
        this.#scheduleSpawn(true);
        return;
      }
      this.#spawn(rec);
      spawned++;
    }
  }

  #spawn(rec: LocalTask): void {
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
    rec.pid = child.pid;
    this.#running += 1;
    this.#table.transition(rec, "running");
    this.#opts.log("debug", "task started", { task: rec.id, kind: rec.kind, pid: child.pid });

    rec.output = new TaskOutputBudget(
      this.#opts.outputLimits ?? DEFAULT_OUTPUT_LIMITS,
      () => performance.now(),
    );
    rec.readersDone = Promise.all([
      this.#readLines(rec, child.stdout, "stdout"),
      this.#readLines(rec, child.stderr, "stderr"),
    ]).then(() => this.#noteDropped(rec));

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
    rec: LocalTask,
    stream: ReadableStream<Uint8Array>,
    name: StreamName,
  ): Promise<void> {
    // A reader that brings its own small buffer: the default one allocates 64 KiB per pending
    // read, which a thousand quiet tasks (two pipes each) turn into 130 MB.
    const reader = stream.getReader({ mode: "byob" });
    rec.readers.push(reader);
    let buffer = new Uint8Array(READ_BUFFER_BYTES);
    const level: Level = name === "stdout" ? "info" : "warn";
    const budget = rec.output!;
    const split = new LineSplitter((this.#opts.outputLimits ?? DEFAULT_OUTPUT_LIMITS).maxLineBytes);
    const decoder = new TextDecoder();
    const emit = (line: { bytes: Uint8Array; cut: number }) => {
      if (!budget.admit(line.bytes.length + line.cut)) return false;
      let text = decoder.decode(line.bytes);
      if (text.endsWith("\r")) text = text.slice(0, -1);
      if (line.cut > 0) text += ` … (${line.cut} more bytes cut)`;
      // A shell's report that the kill we sent worked is not a warning.
      const ours = name === "stderr" && rec.stopping?.as === "killed" &&
        SHELL_KILL_REPORT.test(text);
      this.#opts.log(ours ? "debug" : level, text, { task: rec.id, stream: name });
      return true;
    };
    let notedAt = performance.now();
    try {
      while (true) {
        const { value, done } = await reader.read(buffer);
        if (done || value === undefined) break;
        // The read handed the buffer over and back; the next read reuses it.
        buffer = new Uint8Array(value.buffer);
        let dropped = false;
        if (budget.exhausted) {
          budget.dropped(countLines(value), value.length);
          dropped = true;
        } else {
          const skipped = split.push(value, (line) => {
            if (emit(line)) return true;
            dropped = true;
            return false;
          });
          budget.dropped(skipped.lines, skipped.bytes);
        }
        if (dropped) {
          if (performance.now() - notedAt >= DROP_NOTE_EVERY_MS) {
            notedAt = performance.now();
            this.#noteDropped(rec);
          }
          await new Promise((r) => setTimeout(r, FLOOD_PACE_MS));
        }
      }
    } catch {
      // Cancelled (output no longer wanted) or the pipe broke; either way stop reading.
    }
    const last = split.flush();
    if (last) emit(last);
  }

  /** Logs how much of the task's output was dropped since the last note, if any. */
  #noteDropped(rec: LocalTask): void {
    const note = rec.output?.dropNote();
    if (note) this.#opts.log("warn", `task output ${note}`, { task: rec.id });
  }

  async #exited(rec: LocalTask, status?: Deno.CommandStatus, error?: unknown): Promise<void> {
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
    // Something the task started may live on in its group; remember it for the sweep at exit.
    const left = rec.pid === undefined ? undefined : leftInGroup(rec.pid);
    if (left) {
      if (this.#lingering.size >= MAX_LINGERING_GROUPS) {
        this.#lingering.delete(this.#lingering.keys().next().value!);
      }
      this.#lingering.set(left.pgid, left);
    }

    this.#running -= 1;
    this.#end(rec, state, reason);
    this.#scheduleSpawn();
  }

  /** Cancels a pending task, or starts terminating a running one. */
  #stop(rec: LocalTask, reason: string): void {
    if (rec.state === "pending") {
      this.#end(rec, "killed", reason === "killed by request" ? "cancelled before start" : reason);
      return;
    }
    if (rec.state !== "running" || rec.exited || rec.stopping) return;
    this.#terminate(rec, { as: "killed", reason });
  }

  /** SIGTERM to the task's process group now, SIGKILL if the task is still alive later. */
  #terminate(rec: LocalTask, stopping: NonNullable<LocalTask["stopping"]>): void {
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

  #signal(rec: LocalTask, signal: Deno.Signal): void {
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
  #abandon(rec: LocalTask): void {
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

  #cancelReaders(rec: LocalTask): void {
    for (const reader of rec.readers) reader.cancel().catch(() => {});
  }

  #end(rec: LocalTask, state: TaskState, reason?: string): void {
    // An ended task is kept (retainMs) as a few fields only: its process handle and streams hold
    // about 128 KiB of read buffers, which 60 s of short tasks would pile up by the hundred MB.
    rec.child = undefined;
    rec.readers = [];
    rec.readersDone = undefined;
    rec.output = undefined;
    this.#table.transition(rec, state, reason);
    // The task event (logged by the caller's bus) is what says a task failed; this is detail.
    this.#opts.log("debug", `task ${state}`, { task: rec.id, ...(reason ? { reason } : {}) });
  }
}

function countLines(chunk: Uint8Array): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}
