/**
 * The vocabulary of control: what a law sees each tick and what it decides. Laws are pure
 * (no I/O, no timers): the loop hands them the time, so tests drive them tick by tick.
 * @module
 */

import type { TaskKind } from "../executor/types.ts";

/** What the executor reports about one kind of task, summarised for a law. */
export interface KindFacts {
  /** Requested but not yet running (pending or starting). */
  readonly inflight: number;
  /** Of those, still waiting to be placed (no process, no offer yet): cheap to cancel. */
  readonly waiting: number;
  /** Running now. */
  readonly running: number;
  /** Seconds since each running task started, youngest first. */
  readonly runningAges: readonly number[];
  /** Recent request-to-running delays in seconds. */
  readonly startDelays: readonly number[];
  /** Recent run lengths (start to end) of tasks that ended on their own, in seconds. */
  readonly lifetimes: readonly number[];
  /** Tasks that failed or were lost within the summary window. */
  readonly recentFailures: number;
}

/** Task facts for both kinds. */
export type TaskFacts = Readonly<Record<TaskKind, KindFacts>>;

/** One valid sample: both signals were read. Missing samples never reach a law. */
export interface Observation {
  /** Seconds on the loop's clock. */
  readonly t: number;
  readonly target: number;
  readonly metric: number;
  readonly tasks: TaskFacts;
}

/** How cooling is done: by launching cooler tasks, or by killing running warmers. */
export type CoolerMode = "launch" | "kill";

/** What a law decided for one tick. At most one of the three counts is non-zero. */
export interface Decision {
  /** Warmer tasks to start. */
  readonly warmers: number;
  /** Cooler tasks to start. */
  readonly coolers: number;
  /** Warmer tasks to stop (cooler mode `kill`), newest first. */
  readonly kills: number;
  /**
   * Tasks still waiting for resources that are no longer needed: cancelled, newest first, so
   * that when resources come back only the current need starts.
   */
  readonly cancel?: { readonly kind: TaskKind; readonly count: number };
  /** Why, in a few words a person can read in a log line. */
  readonly reason: string;
  /** Numbers behind the decision, for logs, the UI and tests. */
  readonly detail: Readonly<Record<string, number | string | boolean>>;
}

/** A control law: one decision per valid sample. */
export interface ControlLaw {
  readonly name: string;
  decide(obs: Observation): Decision;
  /** Warnings the law wants said once (e.g. a warmer that lowers the metric); drained by the loop. */
  takeWarnings?(): string[];
}

/** Limits every law must honour. */
export interface Limits {
  /** Tasks started per tick (0 = no limit). */
  readonly maxPerTick: number;
  /** Tasks pending or running at once (0 = no limit). */
  readonly maxRunning: number;
  /** Seconds after starting warmers before more warmers. */
  readonly cooldownUp: number;
  /** Seconds after cooling before cooling again. */
  readonly cooldownDown: number;
  /** Error band (metric units) in which nothing is done. */
  readonly deadband: number;
  readonly coolerMode: CoolerMode;
  /** Which kinds have a command (in kill mode, warming needs a warmer; cooling is by kill). */
  readonly hasWarmer: boolean;
  readonly hasCooler: boolean;
}

/** A decision that does nothing, with its reason. */
export function noAction(reason: string, detail: Decision["detail"] = {}): Decision {
  return { warmers: 0, coolers: 0, kills: 0, reason, detail };
}
