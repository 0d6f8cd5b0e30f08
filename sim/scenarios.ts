/**
 * The benchmark's scenarios in one place: each plant, its task model (worker, trigger or
 * warm-up tasks), its target, how the HPA and KEDA baselines are configured for it, and the
 * plant's true parameters, which only the two references (bound and causal) may read. The bench
 * and experiments share this list, so a number in RESULTS.md always comes from the same scenario
 * definition. The plants are fixed here, before and independently of any law's results.
 * @module
 */

import type { Limits } from "../lib/control/types.ts";
import { cpuPlant, levelPlant, type Plant, queuePlant, type TaskModel } from "./plants.ts";
import { COOLERS, WARMERS, WARMERS_KILL } from "./limits.ts";
import type { Mapping } from "./baselines.ts";

/** The plant's true parameters, for the references only. */
export type Truth =
  | {
    readonly kind: "queue";
    readonly arrivals: (t: number) => number;
    /** Items one acting cooler takes per second. */
    readonly drain: number;
    /** Most items all coolers together take per second (saturation); none when absent. */
    readonly maxDrain?: (t: number) => number;
  }
  | { readonly kind: "level"; readonly effect: number; readonly base: number }
  | { readonly kind: "cpu"; readonly load: (t: number) => number; readonly effect: number };

/** How a task's process and its effect relate (DESIGN.md, "What a task is, to the law"). */
export type Shape = "worker" | "trigger" | "warm-up";

/** One benchmark scenario. */
export interface Scenario {
  readonly name: string;
  readonly shape: Shape;
  /** How HPA and KEDA see this plant, and what one task handles (their configuration). */
  readonly mapping: Mapping;
  readonly perTask: number;
  readonly limits: Limits;
  readonly model: TaskModel;
  readonly plant: (random: () => number) => Plant;
  readonly truth: Truth;
  readonly target: (t: number) => number;
  readonly duration: number;
  /** The tasks saturate (a drain cap): the task-seconds goal is looser there. */
  readonly saturated?: boolean;
  /** Seconds between ticks (the simulator's default, 1, when absent). */
  readonly dt?: number;
}

/** Queue arrivals (items/s): a step up at 200 s and down at 400 s. */
const arrivals = (t: number) => (t < 200 ? 2 : t < 400 ? 8 : 0.5);
/** Cpu load above plan: a step down at 300 s. */
const load = (t: number) => (t < 300 ? 30 : 10);
/** Consumer-count target per unit of effect: 20 tasks, then 5 from 300 s. */
const count = (k: number) => (t: number) => (t < 300 ? 20 * k : 5 * k);
/** Items one worker consumer drains per second at gain ×1. */
const DRAIN = 5;
/** Load one cooler removes at gain ×1. */
const COOL = 2;
/** The starvation window of the starved scenarios, seconds. */
const STARVED: [number, number][] = [[100, 250]];
/** The drain cap of the saturation scenarios (items/s): two consumers; 8/s arrivals outrun it. */
const CAP = 6;
/** The per-task effect factors every shape is run with; the laws are not told. */
const GAINS = [1, 0.1, 10];

/**
 * Trigger tasks: a 0.2 s command (`./start-worker.sh`) that starts a worker elsewhere; the
 * worker acts after `effectDelay` for `effectLife`. A 1.5 s start delay puts the command's whole
 * life between two ticks, as the issue saw it (running always 0).
 */
const trigger = (effectDelay: number, effectLife: TaskModel["effectLife"]): TaskModel => ({
  startDelay: 1.5,
  life: 0.2,
  shape: "trigger",
  effectDelay,
  effectLife,
});
/** Queue consumers started by a trigger: acting 3 s after the command, for 12 s. */
const TRIGGER_QUEUE = trigger(3, 12);
/** Consumers started by a trigger: acting 2 s after the command, for 20 s. */
const TRIGGER_COUNT = trigger(2, 20);
/** Coolers started by a trigger: acting 4 s after the command, for 8 s. */
const TRIGGER_CPU = trigger(4, 8);
/** Seconds a warm-up task runs before it acts (a JVM, an image pull). */
const WARMUP = 3;

/**
 * Every scenario: queue, consumers and cpu with the per-task effect ×1, ×0.1 and ×10 for each
 * task shape (worker, trigger, warm-up); then, per shape, random lives, sensor noise,
 * starvation windows and a drain cap (saturation).
 */
export function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  // Worker tasks: the original eleven, unchanged.
  for (const k of GAINS) {
    const tag = k === 1 ? "" : ` ×${k}`;
    out.push(queue(`queue${tag}`, "worker", k, { startDelay: 3, life: 10 }));
    out.push(consumers(`consumers${tag}`, "worker", k, { startDelay: 2, life: "exp:120" }));
    out.push(cpu(`cpu${tag}`, "worker", k, { startDelay: 2, life: 20 }));
  }
  out.push(queue("queue, starved 100-250 s", "worker", 1, queueWorker(STARVED)));
  out.push(consumers("consumers, starved 100-250 s", "worker", 1, consumerWorker(STARVED)));
  // Trigger tasks.
  for (const k of GAINS) {
    const tag = k === 1 ? "" : ` ×${k}`;
    out.push(queue(`trigger queue${tag}`, "trigger", k, TRIGGER_QUEUE));
    out.push(consumers(`trigger consumers${tag}`, "trigger", k, TRIGGER_COUNT, WARMERS));
    out.push(cpu(`trigger cpu${tag}`, "trigger", k, TRIGGER_CPU));
  }
  out.push(queue("trigger queue, effect exp:12 s", "trigger", 1, trigger(3, "exp:12")));
  out.push(queue("trigger queue, noise σ 2", "trigger", 1, TRIGGER_QUEUE, { noise: 2 }));
  out.push(
    queue("trigger queue, starved 100-250 s", "trigger", 1, {
      ...TRIGGER_QUEUE,
      starved: STARVED,
    }),
  );
  out.push(
    consumers("trigger consumers, starved 100-250 s", "trigger", 1, {
      ...TRIGGER_COUNT,
      starved: STARVED,
    }, WARMERS),
  );
  out.push(queue("trigger queue, drain cap 6/s", "trigger", 1, TRIGGER_QUEUE, { cap: CAP }));
  // Warm-up tasks.
  for (const k of GAINS) {
    const tag = k === 1 ? "" : ` ×${k}`;
    out.push(queue(`warm-up queue${tag}`, "warm-up", k, warm(30)));
    out.push(consumers(`warm-up consumers${tag}`, "warm-up", k, warm("exp:120")));
    out.push(cpu(`warm-up cpu${tag}`, "warm-up", k, warm(25)));
  }
  out.push(queue("warm-up queue, life exp:30 s", "warm-up", 1, warm("exp:30")));
  out.push(
    consumers("warm-up consumers, noise σ 0.5", "warm-up", 1, warm("exp:120"), WARMERS_KILL, 0.5),
  );
  out.push(
    consumers("warm-up consumers, starved 100-250 s", "warm-up", 1, {
      ...warm("exp:120"),
      starved: STARVED,
    }),
  );
  out.push(queue("warm-up queue, drain cap 6/s", "warm-up", 1, warm(30), { cap: CAP }));
  return out;
}

function queueWorker(starved?: [number, number][]): TaskModel {
  return { startDelay: 3, life: 10, starved };
}

function consumerWorker(starved?: [number, number][]): TaskModel {
  return { startDelay: 2, life: "exp:120", starved };
}

/** Warm-up tasks: 2 s to start, then `WARMUP` s before they act, for the rest of `life`. */
function warm(life: TaskModel["life"]): TaskModel {
  return { startDelay: 2, life, shape: "warm-up", warmup: WARMUP };
}

/** Mean seconds one task acts, for the baselines' "what one task handles". */
function acts(model: TaskModel): number {
  const mean = (x: number | `exp:${number}`) => (typeof x === "number" ? x : Number(x.slice(4)));
  switch (model.shape ?? "worker") {
    case "trigger":
      return mean(model.effectLife ?? 0);
    case "warm-up":
      return mean(model.life) - (model.warmup ?? 0);
    default:
      return mean(model.life);
  }
}

function queue(
  name: string,
  shape: Shape,
  k: number,
  model: TaskModel,
  extra: { noise?: number; cap?: number } = {},
): Scenario {
  const maxDrain = extra.cap === undefined ? undefined : () => extra.cap!;
  return {
    name,
    shape,
    mapping: "backlog",
    perTask: DRAIN * k * acts(model),
    limits: COOLERS,
    model,
    plant: (random) =>
      queuePlant(
        arrivals,
        DRAIN * k,
        0,
        maxDrain,
        extra.noise ? { sigma: extra.noise, random } : undefined,
      ),
    truth: { kind: "queue", arrivals, drain: DRAIN * k, maxDrain },
    target: () => 0,
    duration: 600,
    saturated: extra.cap !== undefined,
  };
}

function consumers(
  name: string,
  shape: Shape,
  k: number,
  model: TaskModel,
  limits: Limits = WARMERS_KILL,
  noise?: number,
): Scenario {
  return {
    name,
    shape,
    mapping: "count",
    perTask: k,
    limits,
    model,
    plant: (random) => levelPlant(k, 0, noise ? { sigma: noise * k, random } : undefined),
    truth: { kind: "level", effect: k, base: 0 },
    target: count(k),
    duration: 600,
  };
}

function cpu(name: string, shape: Shape, k: number, model: TaskModel): Scenario {
  return {
    name,
    shape,
    mapping: "capacity",
    perTask: COOL * k,
    limits: COOLERS,
    model,
    plant: (r) => cpuPlant(load, COOL * k, 1, r),
    truth: { kind: "cpu", load, effect: COOL * k },
    target: () => 0,
    duration: 600,
  };
}
