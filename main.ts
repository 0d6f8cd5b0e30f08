/**
 * relay.mesos: the command-line entry point. Parses options, builds the signals, the executor and
 * the control law, runs the loop, and handles SIGINT/SIGTERM. All logic lives in `lib/`; this file
 * only wires the parts together and talks to the process (arguments, environment, exit code).
 * @module
 */

import { readSmallFileSync } from "./lib/bounded_read.ts";
import { systemClock } from "./lib/clock.ts";
import { Redactor, secretsInEnv } from "./lib/redact.ts";
import { helpText, VERSION } from "./lib/config/help.ts";
import { ConfigError, parseConfig } from "./lib/config/parse.ts";
import { AdaptiveLaw } from "./lib/control/adaptive.ts";
import { ClassicLaw } from "./lib/control/classic.ts";
import { runLoop } from "./lib/control/loop.ts";
import type { ControlLaw, Limits } from "./lib/control/types.ts";
import { EventBus } from "./lib/events.ts";
import { FailureWindow } from "./lib/control/failures.ts";
import { LocalExecutor } from "./lib/executor/local.ts";
import type { Executor } from "./lib/executor/types.ts";
import { createLogger, type LogFn } from "./lib/log.ts";
import { HaElection } from "./lib/mesos/ha.ts";
import { createMesosExecutor } from "./lib/mesos/setup.ts";
import { lockStateDir, StateDirError, type StateDirLock } from "./lib/mesos/state_dir.ts";
import { createSignal } from "./lib/signals/sources.ts";
import { describeFirstRead, firstReads } from "./lib/signals/first_read.ts";
import { watchTaskFailures } from "./lib/executor/backoff.ts";
import { defaultStaleAfterMs, startWebServer, type WebServer } from "./lib/web/server.ts";
import type { LaunchBackoffSnapshot } from "./lib/web/metrics.ts";
import type { Settings } from "./lib/config/settings.ts";

/** Largest file an option names (--config, --env-file, secrets, the CA certificate). */
const OPTION_FILE_MAX_BYTES = 1024 * 1024;

/** Reads a file an option names: a regular file of at most OPTION_FILE_MAX_BYTES. */
const readOptionText = (path: string) => readSmallFileSync(path, OPTION_FILE_MAX_BYTES);

/** Exit code for bad input: nothing was started. */
export const EXIT_USAGE = 2;
/** Exit code when the run could not go on (too many task failures, an ERROR from Mesos). */
export const EXIT_FATAL = 4;

/** Where the program writes; replaceable so that the demo and tests can capture lines. */
export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const stdio: Io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/**
 * Runs relay.mesos with `argv` and returns the exit code. Stops cleanly when `stop` aborts
 * (the CLI wires SIGINT and SIGTERM to it); when `force` aborts while `--on-exit wait` waits
 * (a second SIGINT or SIGTERM), the tasks are killed at once.
 *
 * @example
 * ```ts
 * const code = await main(["--metric", "5", "--target", "0", "--cooler", "true", "--max-ticks", "3"]);
 * ```
 */
export async function main(
  argv: readonly string[],
  stop: AbortSignal = new AbortController().signal,
  io: Io = stdio,
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
  force: AbortSignal = new AbortController().signal,
): Promise<number> {
  // Every line written goes through the redactor: known secret values never reach the log.
  const redactor = new Redactor(secretsInEnv(env));
  const rawIo = io;
  io = {
    out: (line) => rawIo.out(redactor.line(line)),
    err: (line) => rawIo.err(redactor.line(line)),
  };
  let settings: Settings;
  let warnings: readonly string[];
  try {
    const parsed = parseConfig({ argv, env, readTextFile: readOptionText });
    if (parsed.kind === "help") {
      io.out(helpText());
      return 0;
    }
    if (parsed.kind === "version") {
      io.out(`relay.mesos ${VERSION}`);
      return 0;
    }
    settings = parsed.settings;
    warnings = parsed.warnings;
    redactor.add(settingsSecrets(settings));
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`relay.mesos: ${err.message}`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const signalOptions = { env: settings.signalEnv, maxBytes: settings.signalMaxBytes };
  const metric = createSignal(settings.metric, signalOptions);
  const target = createSignal(settings.target, signalOptions);

  // A JSON line is not cut (the logger caps its fields); a text line is.
  const logger = createLogger(
    settings.logFormat,
    settings.logLevel,
    settings.logFormat === "json" ? (line) => rawIo.out(redactor.redact(line)) : io.out,
  );
  for (const warning of warnings) logger.log("warn", warning);
  // What can be known at start is said at start: each signal is read once before anything runs.
  for (
    const read of await firstReads({ metric, target }, settings.signalTimeout * 1000, Date.now())
  ) {
    if ("value" in read) logger.log("info", describeFirstRead(read));
    else if (!read.permanent) logger.log("warn", describeFirstRead(read));
    else {
      io.err(`relay.mesos: ${describeFirstRead(read)}`);
      await Promise.all([metric.close?.(), target.close?.()]);
      return EXIT_USAGE;
    }
  }
  const bus = new EventBus();
  bus.on(logger.event);
  for (
    const [name, signal] of [["metric", settings.metric], ["target", settings.target]] as const
  ) {
    if (signal.spec.kind === "module") {
      logger.log(
        "warn",
        `--${name} ${signal.text}: a module: signal runs in relay.mesos's own thread; --signal-timeout ` +
          "gives up waiting for it, but a generator that computes without yielding stops the loop",
      );
    }
  }
  // A fatal condition (too many failures, an ERROR from Mesos) ends the run with EXIT_FATAL.
  let fatal: string | undefined;
  const loopStop = new AbortController();
  stop.addEventListener("abort", () => loopStop.abort(), { once: true });
  const die = (reason: string) => {
    if (fatal !== undefined) return;
    fatal = reason;
    bus.emit({ type: "warning", at: systemClock.now(), message: `stopping: ${reason}` });
    loopStop.abort();
  };
  const control = { paused: false };
  /** Set while a standby (`--ha-zk`): what it waits for. */
  let standby: string | undefined;
  let executor: Executor | undefined;
  /** Each kind's launch backoff, for the web UI; none until the executor runs. */
  let launchBackoff = (): LaunchBackoffSnapshot => ({});
  let web: WebServer | undefined;
  if (settings.web) {
    const startedAt = systemClock.now();
    try {
      web = await startWebServer({
        listen: settings.webAddress,
        ...(settings.webToken !== undefined ? { token: settings.webToken } : {}),
        bus,
        control,
        historyPoints: settings.historyPoints,
        staleAfterMs: defaultStaleAfterMs(settings.delay * 1000, settings.healthTimeout * 1000),
        offerWaitLimitMs: settings.healthTimeout * 1000,
        log: logger.log,
        redact: (text) => redactor.redact(text),
        state: () => ({
          startedAt,
          executor: executor?.name ?? (settings.mesos === undefined ? "local" : "mesos"),
          dryRun: settings.dryRun,
          options: settings.shownOptions,
          ...(executor?.status ? { backend: executor.status() } : {}),
          launchBackoff: launchBackoff(),
          ...(standby !== undefined ? { standby } : {}),
        }),
      });
    } catch (err) {
      // A busy port or an address that is not ours: nothing else has started yet.
      io.err(`relay.mesos: --web-listen ${settings.webListen}: ${(err as Error).message}`);
      await Promise.all([metric.close?.(), target.close?.()]);
      return EXIT_USAGE;
    }
    logger.log(
      "info",
      `web UI on ${web.url}${settings.webToken !== undefined ? " (token required)" : ""}`,
    );
  }
  // With --ha-zk, only the leader of the instances subscribes; the others stand by until then.
  let election: HaElection | undefined;
  let leaveTasks = false;
  const ha = settings.mesos?.ha;
  if (ha !== undefined) {
    election = new HaElection(ha, { log: logger.log });
    standby = `another instance leads in zk://${ha.servers}${ha.path}`;
    const leads = await election.lead(stop);
    standby = undefined;
    if (!leads) {
      await election.close();
      await web?.close();
      await Promise.all([metric.close?.(), target.close?.()]);
      return 0;
    }
    // Another instance may lead now: stop at once and leave the tasks to it.
    election.onLost((why) => {
      leaveTasks = true;
      die(`lost the lead in ZooKeeper (${why}); the next leader adopts the tasks`);
    });
  }
  // Without --ha-zk, the state dir is this instance's alone: a second one stops at start.
  let stateLock: StateDirLock | undefined;
  if (settings.mesos !== undefined && election === undefined) {
    try {
      const holder = `pid ${Deno.pid} on ${env.HOSTNAME ?? "unknown host"} since ` +
        new Date(systemClock.now()).toISOString();
      stateLock = lockStateDir(settings.mesos.stateDir, holder);
    } catch (err) {
      if (!(err instanceof StateDirError)) throw err;
      io.err(`relay.mesos: --state-dir ${err.message}`);
      await web?.close();
      await Promise.all([metric.close?.(), target.close?.()]);
      return EXIT_USAGE;
    }
  }
  try {
    executor = createExecutor(settings, logger.log, die, election);
  } catch (err) {
    stateLock?.release();
    await election?.close();
    await web?.close();
    throw err;
  }
  const ex: Executor = executor;
  const failures = new FailureWindow(settings.maxFailures, settings.failureWindow * 1000);
  ex.onTaskEvent((e) => {
    bus.emit({ type: "task", at: systemClock.now(), ...e });
    if (e.task.state === "failed" || e.task.state === "lost") {
      if (failures.record(systemClock.now())) {
        die(`${failures.count} task failures within ${settings.failureWindow} s (--max-failures)`);
      }
    }
  });
  // After the bus's listener, so that a task's own failure line comes first.
  launchBackoff = watchTaskFailures(ex, systemClock, logger.log, {
    ...(settings.warmer !== undefined ? { warmer: settings.warmer } : {}),
    ...(settings.cooler !== undefined ? { cooler: settings.cooler } : {}),
  });
  ex.onBackendEvent?.((event) => bus.emit({ type: "backend", at: systemClock.now(), event }));
  await ex.start?.();
  const law = makeLaw(settings);

  const result = await runLoop(
    {
      clock: systemClock,
      metric,
      target,
      executor: ex,
      law,
      bus,
      ...(web
        ? {
          observe: {
            signalRead: web.observeSignalRead,
            tickDuration: web.observeTickDuration,
          },
        }
        : {}),
    },
    {
      delayMs: settings.delay * 1000,
      durationMs: settings.duration * 1000,
      maxTicks: settings.maxTicks,
      maxMissing: settings.maxMissing,
      signalTimeoutMs: settings.signalTimeout * 1000,
      dryRun: settings.dryRun,
      killOrder: settings.killOrder,
      control,
    },
    loopStop.signal,
  );
  await Promise.all([metric.close?.(), target.close?.()]);
  const running = ex.tasks().filter((t) => t.state === "running").length;
  const onExit = leaveTasks ? "leave" : settings.onExit;
  if (running > 0 && onExit !== "leave") {
    logger.log("info", `on exit: ${onExit} (${plural(running, "task")} running)`);
  }
  // Say when the grace ran out: what follows is the kill of what still runs.
  const graceEnded = running > 0 && onExit === "wait"
    ? setTimeout(() => {
      const left = ex.tasks().filter((t) => t.state === "running" || t.state === "starting");
      if (left.length > 0) {
        logger.log(
          "info",
          `on exit: the grace period (--grace ${settings.grace} s) ended: killing ` +
            `${plural(left.length, "task")} still running`,
        );
      }
    }, settings.grace * 1000)
    : undefined;
  // A second signal while waiting for tasks: kill them now (once), instead of after --grace.
  const killNow = () => {
    clearTimeout(graceEnded);
    logger.log("warn", "second stop signal: killing the tasks now");
    void ex.shutdown("kill", 0);
  };
  if (onExit === "wait") {
    if (force.aborted) killNow();
    else force.addEventListener("abort", killNow, { once: true });
  }
  await ex.shutdown(onExit, settings.grace * 1000);
  clearTimeout(graceEnded);
  force.removeEventListener("abort", killNow);
  stateLock?.release();
  await election?.close();
  await web?.close();
  return fatal !== undefined ? EXIT_FATAL : result.exitCode;
}

/** The local executor, or the Mesos one when `--mesos-master` is given; not started yet. */
function createExecutor(
  settings: Settings,
  log: LogFn,
  onFatal: (reason: string) => void,
  election?: HaElection,
): Executor {
  if (settings.mesos === undefined) {
    return new LocalExecutor({
      warmer: settings.warmer,
      cooler: settings.cooler,
      env: { ...settings.taskEnv },
      taskTimeoutMs: settings.taskTimeout * 1000,
      ...(settings.taskKillGrace !== undefined
        ? { killGraceMs: settings.taskKillGrace * 1000 }
        : {}),
      clock: systemClock,
      log,
    });
  }
  const tasks = {
    ...(settings.warmer !== undefined ? { warmer: settings.warmer } : {}),
    ...(settings.cooler !== undefined ? { cooler: settings.cooler } : {}),
    env: settings.taskEnv,
    ...(settings.taskKillGrace !== undefined ? { killGraceSeconds: settings.taskKillGrace } : {}),
  };
  return createMesosExecutor(settings.mesos, tasks, {
    clock: systemClock,
    log,
    onFatal,
    user: Deno.env.get("USER") ?? "root",
    ...(election
      ? {
        frameworkIdStore: {
          load: () => election.loadFrameworkId(),
          save: (id: string) => election.saveFrameworkId(id),
        },
      }
      : {}),
  });
}

/** The secrets the options hold, and the Basic authorization the Mesos secret makes. */
function settingsSecrets(settings: Settings): string[] {
  const found: string[] = [];
  if (settings.webToken !== undefined) found.push(settings.webToken);
  const { secret, principal } = settings.mesos ?? {};
  if (secret !== undefined) {
    found.push(secret);
    if (principal !== undefined) found.push(btoa(`${principal}:${secret}`));
  }
  return found;
}

/** `1 task`, `2 tasks`. */
function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Builds the control law the options ask for. */
export function makeLaw(settings: Settings): ControlLaw {
  const limits: Limits = {
    maxPerTick: settings.maxTasksPerTick,
    maxRunning: settings.maxRunning,
    cooldownUp: settings.cooldownUp,
    cooldownDown: settings.cooldownDown,
    deadband: settings.deadband,
    coolerMode: settings.coolerMode,
    hasWarmer: settings.warmer !== undefined,
    hasCooler: settings.cooler !== undefined,
  };
  return settings.law === "classic"
    ? new ClassicLaw(limits, settings.lookback)
    : new AdaptiveLaw(limits, {
      initialEffect: settings.initialEffect,
      response: settings.response,
      taskCost: settings.taskCost,
    });
}

if (import.meta.main) {
  const controller = new AbortController();
  const force = new AbortController();
  // The first SIGINT/SIGTERM stops the run (--on-exit applies); a second one kills at once.
  const onSignal = () => controller.signal.aborted ? force.abort() : controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const code = await main(Deno.args, controller.signal, stdio, Deno.env.toObject(), force.signal);
  Deno.exit(code);
}
