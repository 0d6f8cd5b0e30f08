/**
 * Summarises the executor's task list into the per-kind facts a control law needs. Pure: the
 * caller passes the time.
 * @module
 */

import type { TaskKind, TaskView } from "../executor/types.ts";
import type { KindFacts, TaskFacts } from "./types.ts";

/**
 * Builds {@linkcode TaskFacts} from task views at time `nowMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const facts = summarizeTasks([
 *   { id: "c1", kind: "cooler", state: "running", requestedAt: 0, startedAt: 1_000 },
 *   { id: "c2", kind: "cooler", state: "pending", requestedAt: 2_000 },
 * ], 3_000);
 * assert.equal(facts.cooler.running, 1);
 * assert.deepEqual(facts.cooler.runningAges, [2]); // seconds since it started running
 * assert.equal(facts.cooler.inflight, 1);
 * assert.equal(facts.cooler.longestWait, 1); // asked for at 2 s, still waiting at 3 s
 * ```
 */
export function summarizeTasks(tasks: readonly TaskView[], nowMs: number): TaskFacts {
  return {
    warmer: summarizeKind(tasks, "warmer", nowMs),
    cooler: summarizeKind(tasks, "cooler", nowMs),
  };
}

function summarizeKind(tasks: readonly TaskView[], kind: TaskKind, nowMs: number): KindFacts {
  let inflight = 0;
  let waiting = 0;
  let longestWait = 0;
  let recentFailures = 0;
  const runningAges: number[] = [];
  const startDelays: number[] = [];
  const lifetimes: number[] = [];
  for (const task of tasks) {
    if (task.kind !== kind) continue;
    if (task.startedAt !== undefined) startDelays.push((task.startedAt - task.requestedAt) / 1000);
    switch (task.state) {
      case "pending":
        waiting++;
        inflight++;
        longestWait = Math.max(longestWait, (nowMs - task.requestedAt) / 1000);
        break;
      case "starting":
        inflight++;
        break;
      case "running":
        runningAges.push((nowMs - (task.startedAt ?? nowMs)) / 1000);
        break;
      case "finished":
        if (task.startedAt !== undefined && task.endedAt !== undefined) {
          lifetimes.push((task.endedAt - task.startedAt) / 1000);
        }
        break;
      case "failed":
      case "lost":
        recentFailures++;
        break;
      case "killed":
        break;
    }
  }
  runningAges.sort((a, b) => a - b);
  return {
    inflight,
    waiting,
    longestWait,
    running: runningAges.length,
    runningAges,
    startDelays,
    lifetimes,
    recentFailures,
  };
}

/** Facts with no tasks at all. */
export function emptyFacts(): TaskFacts {
  const none: KindFacts = {
    inflight: 0,
    waiting: 0,
    longestWait: 0,
    running: 0,
    runningAges: [],
    startDelays: [],
    lifetimes: [],
    recentFailures: 0,
  };
  return { warmer: none, cooler: none };
}
