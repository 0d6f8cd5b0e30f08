/**
 * The control loop: every tick it reads the target and the metric, asks the law for a decision,
 * hands it to the executor, and reports everything on the event bus. It owns the clock (injected,
 * so tests run in virtual time) and the stopping rules (duration, tick count, missing samples,
 * an abort signal from SIGINT/SIGTERM).
 * @module
 */

import type { Clock } from "../clock.ts";
import type { EventBus, StopReason } from "../events.ts";
import type { Executor, TaskView } from "../executor/types.ts";
import { readWithTimeout } from "../signals/sources.ts";
import type { Signal } from "../signals/types.ts";
import { summarizeTasks } from "./facts.ts";
import { type ControlLaw, type Decision, noAction } from "./types.ts";

/** Settings of {@linkcode runLoop}. Times in milliseconds. */
export interface LoopSettings {
  readonly delayMs: number;
  /** 0 = no limit. */
  readonly durationMs: number;
  /** 0 = no limit. */
  readonly maxTicks: number;
  /** Consecutive missing samples that end the run (0 = never). */
  readonly maxMissing: number;
  readonly signalTimeoutMs: number;
  readonly dryRun: boolean;
  /** Which running warmers a kill stops first (`--kill-order`); waiting ones always go first. */
  readonly killOrder?: "newest" | "oldest";
  /**
   * Pausing from outside (the web UI): while `paused` is true the loop keeps reading and
   * reporting signals but decides nothing and launches nothing.
   */
  readonly control?: { paused: boolean };
}

/** The parts a loop drives. */
export interface LoopParts {
  readonly clock: Clock;
  readonly metric: Signal;
  readonly target: Signal;
  readonly executor: Executor;
  readonly law: ControlLaw;
  readonly bus: EventBus;
  /** Optional timing probes (the web server's latency histograms); given seconds of `clock`. */
  readonly observe?: LoopObserver;
}

/** Receives how long signal reads and ticks took. */
export interface LoopObserver {
  signalRead?(signal: "metric" | "target", seconds: number): void;
  tickDuration?(seconds: number): void;
}

/** How a run ended. */
export interface LoopResult {
  readonly reason: StopReason;
  readonly ticks: number;
  /** 0 for a clean end; 3 when too many samples were missing in a row. */
  readonly exitCode: number;
}

/** Exit code for `--max-missing` exceeded. */
export const EXIT_MISSING = 3;

/**
 * Most tasks one tick starts, whatever the law asks and even with no limit set: a law gone wild
 * (a target of 1e12 under the classic law) costs a warning, not a hang. Starts past it wait for
 * the next tick. `--max-tasks-per-tick` is bounded by the same number.
 */
export const HARD_MAX_STARTS_PER_TICK = 1000;
/** Least time between two "the loop is late" warnings, so that a slow signal does not flood. */
const LATE_WARNING_EVERY_MS = 60_000;

/**
 * Runs ticks until a stopping rule fires or `stop` aborts. Never throws for bad samples or
 * failed tasks: those are reported as events and the loop goes on.
 *
 * @example
 * ```ts ignore
 * // The parts are main.ts's to build (executor, signals, law); see main.ts.
 * const ac = new AbortController();
 * Deno.addSignalListener("SIGINT", () => ac.abort());
 * const result = await runLoop(parts, settings, ac.signal);
 * ```
 */
export async function runLoop(
  parts: LoopParts,
  settings: LoopSettings,
  stop: AbortSignal,
): Promise<LoopResult> {
  const { clock, bus, executor, law } = parts;
  const started = clock.now();
  bus.emit({
    type: "start",
    at: started,
    executor: executor.name,
    law: law.name,
    dryRun: settings.dryRun,
  });
  let ticks = 0;
  let missing = 0;
  /** When the next tick is due; re-anchored after the loop fell behind (missed ticks skipped). */
  let nextAt = started;
  let lateWarnedAt = -Infinity;
  const deadline = settings.durationMs > 0 ? started + settings.durationMs : Infinity;
  let result: LoopResult | undefined;
  const timed = async <T>(name: "metric" | "target", fn: () => Promise<T>): Promise<T> => {
    const begin = clock.now();
    try {
      return await fn();
    } finally {
      parts.observe?.signalRead?.(name, (clock.now() - begin) / 1000);
    }
  };

  while (!result) {
    if (stop.aborted) {
      result = { reason: "signal", ticks, exitCode: 0 };
      break;
    }
    const tickStart = clock.now();
    executor.tick?.();
    const tasks = executor.tasks();
    const counts = countStates(tasks);
    const ctx = { now: tickStart, tasks: counts };
    // --duration is wall time: a read still going at the end of the run is cut there.
    const timeoutMs = Math.max(1, Math.min(settings.signalTimeoutMs, deadline - tickStart));
    const [target, metric] = await Promise.all([
      timed("target", () => read(parts.target, ctx, timeoutMs, stop)),
      timed("metric", () => read(parts.metric, ctx, timeoutMs, stop)),
    ]);
    ticks++;
    if (stop.aborted) {
      result = { reason: "signal", ticks, exitCode: 0 };
      break;
    }
    if (clock.now() >= deadline) {
      result = { reason: "duration", ticks, exitCode: 0 };
      break;
    }
    const failed = ("error" in target ? ["target", target.error] : undefined) ??
      ("error" in metric ? ["metric", metric.error] : undefined);
    if (failed) {
      missing++;
      bus.emit({
        type: "missing",
        at: clock.now(),
        tick: ticks,
        signal: failed[0] as "metric" | "target",
        reason: failed[1],
        consecutive: missing,
      });
      if (settings.maxMissing > 0 && missing >= settings.maxMissing) {
        bus.emit({
          type: "warning",
          at: clock.now(),
          message:
            `${missing} missing samples in a row (--max-missing ${settings.maxMissing}): stopping`,
        });
        result = { reason: "max-missing", ticks, exitCode: EXIT_MISSING };
        break;
      }
    } else {
      missing = 0;
      const decision = settings.control?.paused
        ? noAction("paused", {}, "paused")
        : executor.ready?.() === false
        ? noAction(`waiting for the ${executor.name} executor to know its tasks`, {}, "not-ready")
        : law.decide({
          t: tickStart / 1000,
          target: (target as { value: number }).value,
          metric: (metric as { value: number }).value,
          tasks: summarizeTasks(tasks, tickStart),
        });
      for (const message of law.takeWarnings?.() ?? []) {
        bus.emit({ type: "warning", at: clock.now(), message });
      }
      const { launched, killed } = settings.dryRun
        ? { launched: [], killed: [] }
        : apply(decision, executor, tasks, bus, clock, settings.killOrder ?? "newest");
      const after = countStates(executor.tasks());
      bus.emit({
        type: "tick",
        at: clock.now(),
        tick: ticks,
        target: (target as { value: number }).value,
        metric: (metric as { value: number }).value,
        decision,
        launched,
        killed,
        running: after.running,
        pending: after.pending,
        dryRun: settings.dryRun,
      });
    }
    parts.observe?.tickDuration?.((clock.now() - tickStart) / 1000);
    if (settings.maxTicks > 0 && ticks >= settings.maxTicks) {
      result = { reason: "max-ticks", ticks, exitCode: 0 };
      break;
    }
    nextAt += settings.delayMs;
    const now = clock.now();
    if (now > nextAt) {
      // Behind schedule (a slow tick, or the process was stopped): tick at once, and skip the
      // ticks that were missed rather than run them back to back.
      const skipped = Math.floor((now - nextAt) / settings.delayMs);
      if (skipped > 0 && now - lateWarnedAt >= LATE_WARNING_EVERY_MS) {
        lateWarnedAt = now;
        bus.emit({
          type: "warning",
          at: now,
          message: `loop ${((now - nextAt) / 1000).toFixed(1)} s behind schedule ` +
            `(a slow tick, or the process was stopped): skipped ${skipped} tick` +
            `${skipped > 1 ? "s" : ""}`,
        });
      }
      nextAt = now;
    }
    if (nextAt >= deadline) {
      await clock.sleep(deadline - clock.now(), stop);
      result = { reason: stop.aborted ? "signal" : "duration", ticks, exitCode: 0 };
      break;
    }
    // Fixed-rate ticks.
    await clock.sleep(Math.max(0, nextAt - clock.now()), stop);
  }
  bus.emit({ type: "stop", at: clock.now(), ...result });
  return result;
}

async function read(
  signal: Signal,
  ctx: { now: number; tasks: { running: number; pending: number } },
  timeoutMs: number,
  stop: AbortSignal,
): Promise<{ value: number } | { error: string }> {
  try {
    return { value: await readWithTimeout(signal, ctx, timeoutMs, stop) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function countStates(tasks: readonly TaskView[]): { running: number; pending: number } {
  let running = 0;
  let pending = 0;
  for (const t of tasks) {
    if (t.state === "running") running++;
    else if (t.state === "pending" || t.state === "starting") pending++;
  }
  return { running, pending };
}

/** Carries out a decision; executor errors become warnings, never crashes. */
function apply(
  decision: Decision,
  executor: Executor,
  tasks: readonly TaskView[],
  bus: EventBus,
  clock: Clock,
  killOrder: "newest" | "oldest",
): { launched: string[]; killed: string[] } {
  const launched: string[] = [];
  const killed: string[] = [];
  const capped = (kind: "warmer" | "cooler", n: number) => {
    if (n <= HARD_MAX_STARTS_PER_TICK) return n;
    bus.emit({
      type: "warning",
      at: clock.now(),
      message: `the law asked for ${n} ${kind}s in one tick: starting ` +
        `${HARD_MAX_STARTS_PER_TICK} (the most one tick starts)`,
    });
    return HARD_MAX_STARTS_PER_TICK;
  };
  try {
    if (decision.warmers > 0) {
      launched.push(...executor.launch("warmer", capped("warmer", decision.warmers)));
    }
    if (decision.coolers > 0) {
      launched.push(...executor.launch("cooler", capped("cooler", decision.coolers)));
    }
    if (decision.cancel && decision.cancel.count > 0) {
      const kind = decision.cancel.kind;
      const waiting = tasks
        .filter((t) => t.kind === kind && t.state === "pending")
        .sort((a, b) => b.requestedAt - a.requestedAt)
        .slice(0, decision.cancel.count)
        .map((t) => t.id);
      executor.kill(waiting);
      killed.push(...waiting);
    }
    if (decision.kills > 0) {
      // Pending and starting warmers first (they do nothing yet), newest first; then running
      // ones, newest or oldest first as `--kill-order` says.
      const waiting = (t: TaskView) => t.state === "pending" || t.state === "starting";
      const victims = tasks
        .filter((t) => t.kind === "warmer" && (waiting(t) || t.state === "running"))
        .sort((a, b) =>
          waiting(a) !== waiting(b)
            ? (waiting(a) ? -1 : 1)
            : waiting(a) || killOrder === "newest"
            ? b.requestedAt - a.requestedAt
            : a.requestedAt - b.requestedAt
        )
        .slice(0, decision.kills)
        .map((t) => t.id);
      executor.kill(victims);
      killed.push(...victims);
    }
  } catch (err) {
    bus.emit({
      type: "warning",
      at: clock.now(),
      message: `executor refused the decision: ${(err as Error).message}`,
    });
  }
  return { launched, killed };
}
