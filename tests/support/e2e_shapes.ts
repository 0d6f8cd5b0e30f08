/**
 * What the real-time end-to-end runs of main.ts per task shape share (one test file per shape,
 * so that they run side by side): one run per task shape (DESIGN.md, "What a task is, to the
 * law"), each against a scripted plant on 127.0.0.1, with the default law and no shape-specific
 * option (no --response, no --initial-effect): the law has to find out by itself what a task does.
 *
 * - worker: a queue fed at a stepping rate; the cooler is a consumer that drains while it runs.
 * - trigger: the same queue; the cooler starts a detached consumer 1.5 s later and exits at once,
 *   like the original README's `./start-worker.sh` (for a queue metric that task cools).
 * - warm-up: a consumer count steered to a square wave; warmers run at once but register as
 *   consumers only after 3 s; cooling kills warmers, which then deregister.
 *
 * Ticks are 0.5 s (not the default 1 s): a run must stay within 45 s, and 0.5 s gives the law
 * about 70 decisions in it, with start delays (a consumer's start-up, the trigger's 1.5 s, the
 * warm-up's 3 s) of several ticks, so the delays have to be learned, not stepped over.
 *
 * Every task carries a marker in its environment; the tests kill whatever still has it at the
 * end (a trigger's detached consumers outlive the run), and every consumer has a life limit.
 * @module
 */

import assert from "node:assert/strict";
import { queueOptions, startQueueSim } from "../../scripts/queue_sim.ts";
import {
  E2E_RUN_S,
  E2E_TICK_S,
  LAUNCH_FACTOR,
  MEAN_QUEUE_MAX,
  steppingArrivals,
} from "../../sim/e2e_queue.ts";
import { runRelayWithin } from "./bounded_relay.ts";
import { killMarked, MARK_VARIABLE, markedPids, newMark } from "./marked_processes.ts";
import {
  lastLines,
  meanMetricFrom,
  summarizeSeries,
  type TickPoint,
  tickSeries,
  totalLaunched,
} from "./tick_series.ts";

/** Each test's wall-time limit, as the issue asks; the relay run is stopped past it. */
const RELAY_LIMIT_MS = 45_000;
/** Width of the time bins of the failure report. */
const REPORT_BIN_S = 3;
/** Relay log lines shown when a test fails. */
const REPORT_LOG_LINES = 12;
/** Share of the run's ticks that must be logged (a loaded machine may run a few late). */
const MIN_TICK_SHARE = 0.8;

/** Warm-up shape: a warmer registers as a consumer this long after it starts. */
const WARM_UP_S = 3;
/** The consumer-count target: 2 for 15 s, 6 for 15 s, repeating (the run starts at a 2). */
const SQUARE = { period: 30, low: 2, high: 6 };
/** Life limit of a warm-up consumer: longer than a run, so only kills end them within it. */
const WARM_CONSUMER_LIFE_S = 90;
/** Allowance for a consumer process (Deno) to start on a loaded 2-core machine. */
const PROCESS_START_S = 1;
/** After a step up the count must settle within a tick, the warm-up, a start and 3 more ticks. */
const SETTLE_UP_S = E2E_TICK_S + WARM_UP_S + PROCESS_START_S + 3 * E2E_TICK_S;
/** After a step down kills act at once: a tick and 3 more. */
const SETTLE_DOWN_S = 4 * E2E_TICK_S;
/** Settled ticks that must be within ±1 of the target ("most of the time"). */
const WITHIN_ONE_SHARE = 0.8;
/** Fewest settled ticks for the check to mean something (a run has about 40). */
const MIN_SETTLED_TICKS = 20;
/** Most consumers above the target at a tick (or above that of a second ago, as kills land). */
const OVERSHOOT_MAX = 2;
/** How far back a tick's target may count for the overshoot check: a tick and a kill's bye. */
const KILL_LAG_S = 1;

export const START_DETACHED =
  new URL("../../scripts/plants/start_detached.sh", import.meta.url).pathname;

/** `args` without option `name` and its value. */
function withoutOption(args: string[], name: string): string[] {
  const i = args.indexOf(name);
  return i < 0 ? args : [...args.slice(0, i), ...args.slice(i + 2)];
}

/** `args` with the value of option `name` replaced by `f(value)`. */
function mapOption(args: string[], name: string, f: (value: string) => string): string[] {
  const i = args.indexOf(name);
  if (i < 0 || i + 1 >= args.length) throw new Error(`no ${name} in ${args.join(" ")}`);
  return [...args.slice(0, i + 1), f(args[i + 1]), ...args.slice(i + 2)];
}

/** Options every shape's run shares: tick, length, JSON log, cleanup, the test's marker. */
function commonOptions(mark: string): string[] {
  return [
    "--delay",
    String(E2E_TICK_S),
    "--duration",
    String(E2E_RUN_S),
    "--on-exit",
    "kill",
    "--log-format",
    "json",
    "--env",
    `${MARK_VARIABLE}=${mark}`,
    // Consumers are Deno scripts; let them find the same module cache as the test.
    ...(Deno.env.get("DENO_DIR") ? ["--env", "DENO_DIR"] : []),
  ];
}

/** The failure report: what was asked, what was seen, the relay's last words. */
function report(
  title: string,
  problems: string[],
  facts: string[],
  series: readonly TickPoint[],
  run: { stdout: string; stderr: string },
): string {
  return [
    `${title}: ${problems.join("; ")}`,
    ...facts.map((f) => `  ${f}`),
    `series (${REPORT_BIN_S} s bins):`,
    summarizeSeries(series, REPORT_BIN_S),
    "relay's last log lines:",
    lastLines(run.stdout, REPORT_LOG_LINES),
    lastLines(run.stderr, 4),
  ].join("\n");
}

/**
 * Runs one queue shape (worker or trigger) and checks it: the queue's mean length over the
 * second half of the run, and launches against the fewest consumer lives that could take every
 * item that arrived.
 */
export async function queueShape(
  name: string,
  consumer: { rate: number; life: number },
  cooler: (command: string) => string,
  detaches: boolean,
): Promise<void> {
  const mark = newMark();
  const sim = await startQueueSim({ rate: steppingArrivals });
  try {
    const args = [
      ...mapOption(queueOptions(sim.url, consumer), "--cooler", cooler),
      ...commonOptions(mark),
    ];
    const run = await runRelayWithin(args, RELAY_LIMIT_MS);
    const leftAlive = markedPids(mark).length;
    const stats = sim.stats();
    const series = tickSeries(run.stdout);
    const end = series.length ? series[series.length - 1].t : 0;
    const mean = meanMetricFrom(series, end / 2);
    const launched = totalLaunched(series);
    const perLife = consumer.rate * consumer.life;
    const need = Math.ceil(stats.arrived / perLife);
    const facts = [
      `ran ${run.seconds.toFixed(1)} s, exit ${run.code}${
        run.timedOut ? " (stopped at limit)" : ""
      }`,
      `arrived ${stats.arrived}, taken ${stats.taken}, left ${stats.length}`,
      `mean queue over the second half ${mean.toFixed(1)} (bound ${MEAN_QUEUE_MAX})`,
      `launched ${launched} consumers; the fewest that could take every item: ${need} ` +
      `(${stats.arrived} items / ${perLife} per consumer life); bound ${LAUNCH_FACTOR}x = ` +
      `${Math.floor(LAUNCH_FACTOR * need)}`,
      `consumers still alive after the run: ${leftAlive}`,
    ];
    const problems: string[] = [];
    if (run.code !== 0 || run.timedOut) problems.push(`exit ${run.code}, timedOut ${run.timedOut}`);
    if (series.length < (E2E_RUN_S / E2E_TICK_S) * MIN_TICK_SHARE) {
      problems.push(`only ${series.length} ticks`);
    }
    if (!(mean <= MEAN_QUEUE_MAX)) problems.push(`mean queue ${mean.toFixed(1)}`);
    if (launched > LAUNCH_FACTOR * need) problems.push(`${launched} launches for ${need} needed`);
    // Consumers that are the task's own process end with the run (--on-exit kill).
    if (!detaches && leftAlive > 0) problems.push(`${leftAlive} consumers outlived the run`);
    console.log(`${name}: ${facts.join("; ")}`);
    assert.ok(problems.length === 0, report(name, problems, facts, series, run));
  } finally {
    killMarked(mark);
    await sim.close();
  }
}

/** Minimum warmer launches for a target series: the first target, then every rise. */
function minimumWarmers(series: readonly TickPoint[]): number {
  let need = Math.max(0, series[0]?.target ?? 0);
  for (let i = 1; i < series.length; i++) {
    need += Math.max(0, series[i].target - series[i - 1].target);
  }
  return need;
}

/**
 * Runs the warm-up shape and checks it: settled ticks within ±1 of the target, overshoot,
 * launches against the fewest, and that every killed warmer deregistered.
 */
export async function warmUpShape(): Promise<void> {
  const mark = newMark();
  // No items: the queue is only the registry of consumers (hello/bye) behind /stats.
  const sim = await startQueueSim({ rate: () => 0 });
  try {
    // A low begins now (square position (t + phase) mod period = period/2), so the first tick,
    // whenever relay.mesos is up, is early in a low, and the run sees a rise and a fall.
    const nowS = Date.now() / 1000;
    const lowStart = SQUARE.period / 2;
    const phase = (((lowStart - nowS) % SQUARE.period) + SQUARE.period) % SQUARE.period;
    const base = queueOptions(sim.url, { rate: 0, life: WARM_CONSUMER_LIFE_S });
    const consumer = base[base.indexOf("--cooler") + 1];
    const args = [
      ...["--metric", "--target", "--cooler"].reduce(withoutOption, base),
      "--metric",
      `${sim.url}/stats#/consumers`,
      "--target",
      `square:period=${SQUARE.period},low=${SQUARE.low},high=${SQUARE.high},` +
      `phase=${phase.toFixed(3)}`,
      "--warmer",
      `sleep ${WARM_UP_S} && exec ${consumer}`,
      "--cooler-mode",
      "kill",
      ...commonOptions(mark),
    ];
    const run = await runRelayWithin(args, RELAY_LIMIT_MS);
    const leftAlive = markedPids(mark).length;
    const series = tickSeries(run.stdout);

    let lastStep = 0;
    let rising = true;
    let checked = 0;
    let within = 0;
    const overshoots: string[] = [];
    for (let i = 0; i < series.length; i++) {
      const p = series[i];
      if (i > 0 && p.target !== series[i - 1].target) {
        lastStep = p.t;
        rising = p.target > series[i - 1].target;
      }
      if (p.t - lastStep >= (rising ? SETTLE_UP_S : SETTLE_DOWN_S)) {
        checked++;
        if (Math.abs(p.metric - p.target) <= 1) within++;
      }
      const recent = series.filter((q) => q.t <= p.t && q.t >= p.t - KILL_LAG_S);
      const allowed = Math.max(...recent.map((q) => q.target)) + OVERSHOOT_MAX;
      if (p.metric > allowed) overshoots.push(`${p.metric} at ${p.t.toFixed(1)} s`);
    }
    const launched = totalLaunched(series);
    const need = minimumWarmers(series);
    const share = checked ? within / checked : 0;
    const facts = [
      `ran ${run.seconds.toFixed(1)} s, exit ${run.code}${
        run.timedOut ? " (stopped at limit)" : ""
      }`,
      `settled ticks within ±1 of the target: ${within} of ${checked} ` +
      `(${(share * 100).toFixed(0)}%, bound ${WITHIN_ONE_SHARE * 100}%; settle ` +
      `${SETTLE_UP_S} s after a rise, ${SETTLE_DOWN_S} s after a fall)`,
      `ticks more than ${OVERSHOOT_MAX} above the target: ${overshoots.length}` +
      (overshoots.length ? ` (${overshoots.slice(0, 5).join(", ")})` : ""),
      `launched ${launched} warmers, killed ${series.reduce((a, p) => a + p.killed, 0)}; ` +
      `the fewest: ${need}; bound ${LAUNCH_FACTOR}x = ${Math.floor(LAUNCH_FACTOR * need)}`,
      `consumers registered at the end ${sim.stats().consumers}, processes still alive ` +
      `after the run: ${leftAlive}`,
    ];
    const problems: string[] = [];
    if (run.code !== 0 || run.timedOut) {
      problems.push(`exit ${run.code}, timedOut ${run.timedOut}`);
    }
    if (checked < MIN_SETTLED_TICKS) problems.push(`only ${checked} settled ticks to check`);
    if (share < WITHIN_ONE_SHARE) problems.push(`within ±1 only ${(share * 100).toFixed(0)}%`);
    if (overshoots.length > 0) problems.push(`overshoot beyond ${OVERSHOOT_MAX}`);
    if (launched > LAUNCH_FACTOR * need) problems.push(`${launched} launches for ${need} needed`);
    if (leftAlive > 0) problems.push(`${leftAlive} warmer processes outlived --on-exit kill`);
    // Every killed warmer said bye (SIGTERM handled), so none is still registered.
    if (sim.stats().consumers !== 0) problems.push(`${sim.stats().consumers} never said bye`);
    console.log(`warm-up: ${facts.join("; ")}`);
    assert.ok(problems.length === 0, report("warm-up", problems, facts, series, run));
  } finally {
    killMarked(mark);
    await sim.close();
  }
}
