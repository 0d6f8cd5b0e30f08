/**
 * Watches an executor's tasks and backs a kind's launches off while its tasks fail in a row
 * (the policy is {@linkcode LaunchBackoff}; the executor holds the launches, see
 * `Executor.holdLaunches`). It says so once per streak, in one warning line, and says when the
 * streak ends. The first task of a kind that ends with exit code 127 (126) is reported as
 * "command not found" ("not executable") in one error line, naming the option and the command.
 * @module
 */

import type { Clock } from "../clock.ts";
import { type BackoffState, FAILURE_BACKOFF_MAX_MS, LaunchBackoff } from "../control/failures.ts";
import type { LogFn } from "../log.ts";
import type { Executor, TaskKind, TaskView } from "./types.ts";

/** What the web UI and `/metrics` show of one kind's backoff. */
export interface KindBackoff {
  /** Failures in a row (a batch that failed at once counts once). */
  readonly failures: number;
  /** Seconds left before the kind's launches go on; 0 when not held. */
  readonly heldSeconds: number;
}

/** A failure reason that says the shell could not find (127) or run (126) the command. */
const NOT_RUNNABLE = /\b(?:exit code|exited with status) (126|127)\b/;

/**
 * Subscribes to `executor`'s task events. Returns the backoff of each kind, for the UI.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../clock.ts";
 * import { LocalExecutor } from "./local.ts";
 * const executor = new LocalExecutor({
 *   warmer: "./w.sh",
 *   env: {},
 *   taskTimeoutMs: 0,
 *   clock: systemClock,
 *   log: () => {},
 * });
 * const backoff = watchTaskFailures(executor, systemClock, () => {}, { warmer: "./w.sh" });
 * assert.deepEqual(backoff().warmer, { failures: 0, heldSeconds: 0 });
 * ```
 */
export function watchTaskFailures(
  executor: Executor,
  clock: Clock,
  log: LogFn,
  commands: Partial<Record<TaskKind, string>>,
): () => Record<TaskKind, KindBackoff> {
  const backoff = new LaunchBackoff();
  const ended = new Set<TaskKind>();
  executor.onTaskEvent(({ task }) => {
    const now = clock.now();
    if (task.state === "failed" || task.state === "lost") {
      if (!ended.has(task.kind)) reportNotRunnable(task, commands[task.kind], log);
      ended.add(task.kind);
      const state = backoff.failed(task.kind, task.requestedAt, now);
      if (state === undefined) return;
      executor.holdLaunches?.(task.kind, state.until);
      if (state.failures === 1) {
        log(
          "warn",
          `${task.kind} launches back off after a failure (${task.reason ?? task.state}): ` +
            `${seconds(state.pauseMs)} s, doubling with each further failure up to ` +
            `${seconds(FAILURE_BACKOFF_MAX_MS)} s, until a ${task.kind} finishes`,
        );
      } else {
        log("debug", `${task.kind} launches held ${seconds(state.pauseMs)} s`, {
          failures: state.failures,
        });
      }
    } else if (task.state === "finished" || (task.state === "killed" && ranBefore(task))) {
      ended.add(task.kind);
      const failures = backoff.state(task.kind, now).failures;
      if (backoff.succeeded(task.kind)) {
        log(
          "info",
          `${task.kind} launches back to normal: a ${task.kind} ${task.state} after ` +
            `${failures} failure${failures === 1 ? "" : "s"} in a row`,
        );
      }
    }
  });
  const view = (kind: TaskKind): KindBackoff => {
    const s: BackoffState = backoff.state(kind, clock.now());
    return {
      failures: s.failures,
      heldSeconds: s.until > 0 ? Math.max(0, (s.until - clock.now()) / 1000) : 0,
    };
  };
  return () => ({ warmer: view("warmer"), cooler: view("cooler") });
}

function ranBefore(task: TaskView): boolean {
  return task.startedAt !== undefined;
}

function reportNotRunnable(task: TaskView, command: string | undefined, log: LogFn): void {
  const code = task.reason?.match(NOT_RUNNABLE)?.[1];
  if (code === undefined) return;
  const what = code === "127" ? "command not found" : "command not executable";
  log(
    "error",
    `--${task.kind}${command !== undefined ? ` ${JSON.stringify(command)}` : ""}: ${what} ` +
      `(the first ${task.kind} ended with exit code ${code})`,
  );
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
