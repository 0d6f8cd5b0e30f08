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
  /** Seconds the longest-waiting of those has waited since it was asked for (0 with none). */
  readonly longestWait: number;
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
  /**
   * The target at a later time `t` (seconds on the same clock), when the target is a known
   * function of time (a constant, `sine:`, `square:`, `schedule:`); absent when it is not, and
   * a law then takes the target to stay as it is now.
   */
  readonly targetAt?: (t: number) => number;
}

/** How cooling is done: by launching cooler tasks, or by killing running warmers. */
export type CoolerMode = "launch" | "kill";

/**
 * A move a law may make in one tick: start tasks of a kind, kill warmers (cooler mode `kill`),
 * cancel tasks still waiting for resources (newest first, so that when resources come back only
 * the current need starts), or wait.
 */
export type Move =
  | { readonly type: "start"; readonly kind: TaskKind; readonly n: number }
  | { readonly type: "kill"; readonly n: number }
  | { readonly type: "cancel"; readonly kind: TaskKind; readonly n: number }
  | { readonly type: "wait" };

/**
 * Why a decision is what it is, as a code a log line, `/metrics` and the UI can show: `plan`
 * (the plan's choice, unchanged), a guard (`deadband`, `wrong-sign`, `saturated`, `exploring`,
 * `ramp`, `floor`, `cooldown`, `paused`, `not-ready`) or a limit (`limit-per-tick`, `limit-running`, `no-kind`).
 */
export type ReasonCode =
  | "plan"
  | "deadband"
  | "wrong-sign"
  | "saturated"
  | "exploring"
  | "ramp"
  | "disputed"
  | "floor"
  | "no-room"
  | "cooldown"
  | "limit-per-tick"
  | "limit-running"
  | "no-kind"
  | "paused"
  | "not-ready";

/** A move after a guard or a limit, with the code and words of what cut it (if one did). */
export interface Cut {
  readonly move: Move;
  readonly code?: ReasonCode;
  /** What the guard or limit did, in words, when it cut. */
  readonly note?: string;
}

/**
 * What a law decided for one tick: the move (`action` and its counts) and why. The counts
 * `warmers`, `coolers`, `kills` and `cancel` restate the move for readers that sum them; at
 * most one of them is non-zero.
 */
export interface Decision {
  readonly action: Move["type"];
  /** Warmer tasks to start. */
  readonly warmers: number;
  /** Cooler tasks to start. */
  readonly coolers: number;
  /** Warmer tasks to stop (cooler mode `kill`), newest first. */
  readonly kills: number;
  /** Tasks still waiting for resources that are no longer needed: cancelled, newest first. */
  readonly cancel?: { readonly kind: TaskKind; readonly count: number };
  readonly code: ReasonCode;
  /** Why, in a few words a person can read in a log line. */
  readonly reason: string;
  /** Numbers behind the decision, for logs, the UI and tests. */
  readonly detail: Readonly<Record<string, number | string | boolean>>;
}

/**
 * The decision for a move.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(decide({ type: "start", kind: "cooler", n: 3 }, "plan", "queue predicted 14").coolers, 3);
 * ```
 */
export function decide(
  move: Move,
  code: ReasonCode,
  reason: string,
  detail: Decision["detail"] = {},
): Decision {
  const none = { warmers: 0, coolers: 0, kills: 0 };
  switch (move.type) {
    case "start":
      return move.n <= 0 ? noAction(reason, detail, code) : {
        action: "start",
        ...none,
        [move.kind === "warmer" ? "warmers" : "coolers"]: move.n,
        code,
        reason,
        detail,
      };
    case "kill":
      return move.n <= 0
        ? noAction(reason, detail, code)
        : { action: "kill", ...none, kills: move.n, code, reason, detail };
    case "cancel":
      return move.n <= 0 ? noAction(reason, detail, code) : {
        action: "cancel",
        ...none,
        cancel: { kind: move.kind, count: move.n },
        code,
        reason,
        detail,
      };
    case "wait":
      return noAction(reason, detail, code);
  }
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
export function noAction(
  reason: string,
  detail: Decision["detail"] = {},
  code: ReasonCode = "plan",
): Decision {
  return { action: "wait", warmers: 0, coolers: 0, kills: 0, code, reason, detail };
}
