/**
 * The embedded executor: runs warmer and cooler commands as local processes (`sh -c COMMAND`),
 * each in its own process group so a kill reaches everything the command started. Used when no
 * Mesos master is given, so Relay is useful on one machine.
 * @module
 */

import type { Clock } from "../clock.ts";
import type { LogFn } from "../log.ts";
import {
  type ExitMode,
  type Executor,
  TERMINAL_STATES,
  type TaskEvent,
  type TaskKind,
  type TaskState,
  type TaskView,
} from "./types.ts";

/** Settings of {@linkcode LocalExecutor}. */
export interface LocalExecutorOptions {
  readonly warmer?: string;
  readonly cooler?: string;
  /** The tasks' whole environment (PATH included); RELAY_TASK_ID and RELAY_TASK_KIND are added. */
  readonly env: Readonly<Record<string, string>>;
  /** Kill a task that runs longer than this (0 = no limit). */
  readonly taskTimeoutMs: number;
  readonly clock: Clock;
  readonly log: LogFn;
  /** Prefix of task ids (default `relay`). */
  readonly idPrefix?: string;
  /** How long ended tasks stay visible in `tasks()` (default 60 s). */
  readonly retainMs?: number;
  /** Most processes at once (0 = no limit); more requests wait as pending. */
  readonly maxConcurrent?: number;
}

interface LocalTask {
  id: string;
  kind: TaskKind;
  state: TaskState;
  requestedAt: number;
  startedAt?: number;
  endedAt?: number;
  reason?: string;
  child?: Deno.ChildProcess;
  killRequested?: boolean;
  timers: ReturnType<typeof setTimeout>[];
  exited?: Promise<void>;
}

/** Seconds between SIGTERM and SIGKILL when stopping a task. */
const KILL_GRACE_MS = 2000;

/**
 * Runs tasks as local processes.
 *
 * @example
 * ```ts
 * const ex = new LocalExecutor({ cooler: "./consume.sh", env: { PATH: "/usr/bin:/bin" },
 *   taskTimeoutMs: 0, clock: systemClock, log: console.log });
 * const [id] = ex.launch("cooler", 1);
 * ex.onTaskEvent((e) => console.log(e.task.id, e.task.state));
 * ```
 */
export class LocalExecutor implements Executor {
  readonly name = "local";
  readonly #opts: LocalExecutorOptions;
  readonly #tasks = new Map<string, LocalTask>();
  readonly #listeners = new Set<(e: TaskEvent) => void>();
  #counter = 0;
  #closed = false;
  #leaving = false;

  constructor(options: LocalExecutorOptions) {
    this.#opts = options;
  }

  launch(kind: TaskKind, count: number): string[] {
    if (this.#closed) throw new Error("executor is shutting down");
    const command = kind === "warmer" ? this.#opts.warmer : this.#opts.cooler;
    if (command === undefined) throw new Error(`no ${kind} command configured`);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const serial = String(++this.#counter).padStart(6, "0");
      const suffix = crypto.getRandomValues(new Uint8Array(2));
      const hex = [...suffix].map((b) => b.toString(16).padStart(2, "0")).join("");
      const id = `${this.#opts.idPrefix ?? "relay"}-${kind}-${serial}-${hex}`;
      const task: LocalTask = {
        id,
        kind,
        state: "pending",
        requestedAt: this.#opts.clock.now(),
        timers: [],
      };
      this.#tasks.set(id, task);
      this.#emit(task);
      ids.push(id);
    }
    this.#startWaiting();
    return ids;
  }

  kill(ids: readonly string[]): void {
    for (const id of ids) {
      const task = this.#tasks.get(id);
      if (!task || TERMINAL_STATES.has(task.state)) continue;
      if (task.state === "pending") {
        this.#finish(task, "killed", "cancelled before start");
      } else {
        this.#terminate(task);
      }
    }
    this.#startWaiting();
  }

  tasks(): TaskView[] {
    const cutoff = this.#opts.clock.now() - (this.#opts.retainMs ?? 60_000);
    const out: TaskView[] = [];
    for (const [id, task] of this.#tasks) {
      if (task.endedAt !== undefined && task.endedAt < cutoff) {
        this.#tasks.delete(id);
        continue;
      }
      out.push(view(task));
    }
    return out;
  }

  onTaskEvent(listener: (event: TaskEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async shutdown(mode: ExitMode, graceMs: number): Promise<void> {
    this.#closed = true;
    for (const task of this.#tasks.values()) {
      if (task.state === "pending") this.#finish(task, "killed", "cancelled at shutdown");
    }
    const live = () => [...this.#tasks.values()].filter((t) => t.state === "running");
    if (mode === "leave") {
      this.#leaving = true;
      for (const task of live()) {
        task.timers.forEach(clearTimeout);
        task.child?.unref();
      }
      return;
    }
    if (mode === "wait" && live().length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(live().map((t) => t.exited)),
        new Promise((r) => (timer = setTimeout(r, graceMs))),
      ]);
      clearTimeout(timer);
    }
    const rest = live();
    rest.forEach((t) => this.#terminate(t));
    await Promise.all(rest.map((t) => t.exited));
  }

  #startWaiting(): void {
    const max = this.#opts.maxConcurrent ?? 0;
    for (const task of this.#tasks.values()) {
      if (task.state !== "pending") continue;
      if (max > 0 && this.#running() >= max) break;
      this.#spawn(task);
    }
  }

  #running(): number {
    let n = 0;
    for (const t of this.#tasks.values()) if (t.state === "running") n++;
    return n;
  }

  #spawn(task: LocalTask): void {
    const command = task.kind === "warmer" ? this.#opts.warmer! : this.#opts.cooler!;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("sh", {
        args: ["-c", command],
        clearEnv: true,
        env: { ...this.#opts.env, RELAY_TASK_ID: task.id, RELAY_TASK_KIND: task.kind },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (err) {
      this.#finish(task, "failed", `could not start: ${(err as Error).message}`);
      return;
    }
    task.child = child;
    task.startedAt = this.#opts.clock.now();
    this.#set(task, "running");
    const output = Promise.all([
      this.#pipe(task, child.stdout, "stdout"),
      this.#pipe(task, child.stderr, "stderr"),
    ]);
    if (this.#opts.taskTimeoutMs > 0) {
      task.timers.push(setTimeout(() => {
        task.reason = `timed out after ${this.#opts.taskTimeoutMs / 1000} s`;
        this.#terminate(task, "failed");
      }, this.#opts.taskTimeoutMs));
    }
    task.exited = child.status.then(async (status) => {
      task.timers.forEach(clearTimeout);
      task.timers = [];
      // The task's group may hold children still writing to our pipes.
      signalGroup(child.pid, "SIGKILL");
      if (!this.#leaving) await output.catch(() => {});
      if (task.killRequested) {
        this.#finish(task, task.reason?.startsWith("timed out") ? "failed" : "killed", task.reason);
      } else if (status.success) {
        this.#finish(task, "finished");
      } else {
        this.#finish(
          task,
          "failed",
          status.signal ? `signal ${status.signal}` : `exit code ${status.code}`,
        );
      }
      this.#startWaiting();
    });
  }

  async #pipe(task: LocalTask, stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") {
    let buffered = "";
    const level = name === "stdout" ? "info" : "warn";
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        if (this.#leaving) break;
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          this.#opts.log(level, `task ${task.id} ${name}: ${line}`);
        }
      }
    } catch {
      // The process went away; what was read has been logged.
    }
    if (buffered !== "" && !this.#leaving) {
      this.#opts.log(level, `task ${task.id} ${name}: ${buffered}`);
    }
  }

  /** SIGTERM to the task's process group, SIGKILL after a grace period. */
  #terminate(task: LocalTask, as: "killed" | "failed" = "killed"): void {
    if (!task.child || TERMINAL_STATES.has(task.state)) return;
    task.killRequested = true;
    if (as === "killed") task.reason ??= "killed by relay";
    signalGroup(task.child.pid, "SIGTERM");
    const pid = task.child.pid;
    task.timers.push(setTimeout(() => signalGroup(pid, "SIGKILL"), KILL_GRACE_MS));
  }

  #finish(task: LocalTask, state: TaskState, reason?: string): void {
    task.endedAt = this.#opts.clock.now();
    if (reason !== undefined) task.reason = reason;
    task.timers.forEach(clearTimeout);
    task.timers = [];
    this.#set(task, state);
  }

  #set(task: LocalTask, state: TaskState): void {
    const previous = task.state;
    task.state = state;
    this.#emit(task, previous);
  }

  #emit(task: LocalTask, previous?: TaskState): void {
    const event: TaskEvent = previous === undefined
      ? { task: view(task) }
      : { task: view(task), previous };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#opts.log("error", `task listener failed: ${(err as Error).message}`);
      }
    }
  }
}

function view(task: LocalTask): TaskView {
  return {
    id: task.id,
    kind: task.kind,
    state: task.state,
    requestedAt: task.requestedAt,
    ...(task.startedAt !== undefined && { startedAt: task.startedAt }),
    ...(task.endedAt !== undefined && { endedAt: task.endedAt }),
    ...(task.reason !== undefined && { reason: task.reason }),
  };
}

function signalGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
