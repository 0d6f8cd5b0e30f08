/**
 * The contract between the control loop and whatever runs tasks (local processes or Mesos).
 * The loop only sees these facts, so the control law cannot tell which executor it drives.
 * @module
 */

/** Warmers raise the metric, coolers lower it. */
export type TaskKind = "warmer" | "cooler";

/**
 * Where a task is in its life. `pending` means requested but not yet started (waiting for a
 * slot, a process spawn, or a Mesos offer); `starting` means handed to the runtime but not yet
 * confirmed running. The last four states are terminal.
 */
export type TaskState =
  | "pending"
  | "starting"
  | "running"
  | "finished"
  | "failed"
  | "killed"
  | "lost";

/** States after which a task never changes again. */
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  "finished",
  "failed",
  "killed",
  "lost",
]);

/** What the executor knows about one task. Times are epoch milliseconds from the loop's clock. */
export interface TaskView {
  readonly id: string;
  readonly kind: TaskKind;
  readonly state: TaskState;
  /** When the loop asked for the task. */
  readonly requestedAt: number;
  /** When the task was first seen running, if it was. */
  readonly startedAt?: number;
  /** When the task reached a terminal state, if it did. */
  readonly endedAt?: number;
  /** Why it ended, for failed/killed/lost tasks (exit code, signal, timeout, spawn error). */
  readonly reason?: string;
}

/** A change of one task's state, as delivered to listeners. */
export interface TaskEvent {
  readonly task: TaskView;
  readonly previous?: TaskState;
}

/** What a cluster backend (Mesos) says about itself; the local executor has none. */
export interface BackendStatus {
  readonly connected: boolean;
  readonly leader?: string;
  readonly frameworkId?: string;
  readonly offersReceived: number;
  readonly offersUsed: number;
  readonly offersDeclined: number;
  readonly offersRescinded: number;
  /** Status updates received, by Mesos task state (e.g. `TASK_RUNNING`). */
  readonly updates: Readonly<Record<string, number>>;
  readonly reconnects: number;
  /** Launches the master refused, by task kind (absent: none). */
  readonly launchesRefused?: Readonly<Record<string, number>>;
  /** Re-deliveries of a status update already seen (each acknowledged again). */
  readonly duplicateUpdates?: number;
  /** Calls answered with an HTTP error, by status (absent: none). */
  readonly callsRejected?: Readonly<Record<string, number>>;
  /** Epoch ms since when the connection is down, when it is. */
  readonly disconnectedSince?: number;
}

/** A change of the backend's connection or a batch of offers, as delivered to listeners. */
export type BackendEvent =
  | { readonly kind: "connected"; readonly leader: string; readonly frameworkId: string }
  | { readonly kind: "disconnected"; readonly reason: string }
  | { readonly kind: "leader"; readonly leader?: string; readonly previous?: string }
  | {
    readonly kind: "offers";
    readonly received: number;
    readonly used: number;
    readonly declined: number;
  };

/** How to treat running tasks when Relay exits. */
export type ExitMode = "wait" | "kill" | "leave";

/** Runs warmer and cooler tasks and reports their states. */
export interface Executor {
  /** Short name for logs and the UI: `local` or `mesos`. */
  readonly name: string;
  /**
   * Begins the work that needs listeners in place (Mesos: reads the FrameworkID and subscribes);
   * called once, after {@linkcode Executor.onTaskEvent} and
   * {@linkcode Executor.onBackendEvent}. Absent means there is nothing to begin.
   */
  start?(): Promise<void>;
  /** The backend's connection and counters, for the UI and `/metrics`; absent: no backend. */
  status?(): BackendStatus;
  /** Subscribes to backend events (connected, disconnected, leader changed, offers). */
  onBackendEvent?(listener: (event: BackendEvent) => void): () => void;
  /**
   * Requests `count` new tasks of `kind`. Returns their ids at once; the tasks start
   * asynchronously and report their progress through {@linkcode Executor.onTaskEvent}.
   */
  launch(kind: TaskKind, count: number): string[];
  /** Stops the given tasks (pending ones are cancelled, running ones are killed). */
  kill(ids: readonly string[]): void;
  /** Every non-terminal task, plus terminal tasks that ended within the retention window. */
  tasks(): TaskView[];
  /**
   * The executor's upkeep, run by the loop once per tick before it reads the tasks (Mesos:
   * repairs offer interest, forgets old acknowledgements). Absent means none is needed.
   */
  tick?(): void;
  /**
   * False while the executor cannot yet tell which tasks exist (e.g. Mesos reconciling after a
   * restart); the loop decides nothing until it is ready. Absent means always ready.
   */
  ready?(): boolean;
  /**
   * Keeps new and waiting launches of `kind` pending until `untilMs` (the loop's clock): the
   * backoff after that kind's tasks failed in a row. Tasks stay `pending`, so the law counts them
   * as asked for and does not ask again. A later call replaces the earlier one.
   */
  holdLaunches?(kind: TaskKind, untilMs: number): void;
  /** Subscribes to task state changes; returns an unsubscribe function. */
  onTaskEvent(listener: (event: TaskEvent) => void): () => void;
  /**
   * Stops launching and deals with running tasks per `mode`: `wait` waits up to `graceMs` for
   * them to end and then kills the rest, `kill` kills them now, `leave` leaves them running.
   */
  shutdown(mode: ExitMode, graceMs: number): Promise<void>;
}
