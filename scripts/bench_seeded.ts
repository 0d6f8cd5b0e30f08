/**
 * The seeded-plants section of the benchmark: the end-to-end queue plants of
 * `tests/e2e_shape_*_test.ts` (worker and trigger shapes, half-second ticks, 36 s from nothing
 * learned) replayed in virtual time on 100 plants drawn from seeds: start delays, effect delays
 * and process lives vary around the test's own (a trigger's consumer start-up per consumer, the
 * rest per plant), and the queue is granular as the test's is (whole items, consumers that
 * poll: `polledQueuePlant`, each reading's phase against the polls drawn) and has run a little
 * when relay.mesos first reads it. The test's real-time run is one draw of a noisier machine; this
 * shows the spread the law has over such draws, against the
 * same bounds (launches ≤ 2.5 × the fewest consumer lives that could take every item, mean
 * queue over the second half ≤ 8), beside the causal reference's launches on the same plants.
 * Pure: no I/O.
 * @module
 */

import { AdaptiveLaw } from "../lib/control/adaptive.ts";
import type { ControlLaw } from "../lib/control/types.ts";
import { CausalLaw } from "../sim/causal.ts";
import { STEP_MS } from "./queue_consumer.ts";
import { DEFAULT_TICK_MS } from "./queue_sim.ts";
import { COOLERS } from "../sim/limits.ts";
import { polledQueuePlant, seededRandom, SimTasks, type TaskModel } from "../sim/plants.ts";
import { simulate } from "../sim/simulate.ts";
import { quantileOfSorted } from "./quantile.ts";
import {
  E2E_RUN_S,
  E2E_TICK_S,
  LAUNCH_FACTOR,
  MEAN_QUEUE_MAX,
  steppingArrivals,
  TRIGGER_CONSUMER,
  TRIGGER_DELAY_S,
  WORKER_CONSUMER,
} from "../sim/e2e_queue.ts";

/**
 * The real queue's grain: whole items arrive every queue_sim tick and each consumer takes its
 * whole items every step; `polledQueuePlant` models one step for both.
 */
const POLL_S = STEP_MS / 1000;
if (DEFAULT_TICK_MS !== STEP_MS) {
  throw new Error(
    `queue_sim's tick (${DEFAULT_TICK_MS} ms) and a consumer's step (${STEP_MS} ms) differ`,
  );
}

/** Plants drawn per shape: enough that one plant is a percent. */
const PLANTS = 100;
/** Items that arrive over a run (the arrivals are whole items per second, second by second). */
const ARRIVED = Array.from({ length: E2E_RUN_S }, (_, t) => steppingArrivals(t))
  .reduce((a, b) => a + b, 0);

interface ShapeDraw {
  readonly name: string;
  /** Items per second and seconds of work of one consumer. */
  readonly consumer: { readonly rate: number; readonly life: number };
  readonly model: (random: () => number) => TaskModel;
}

/**
 * A Deno consumer's start-up (the runtime's), seconds, as measured on this machine: a trigger's
 * consumer said hello 1.53-1.57 s after the tick that started it, idle or beside the full
 * suite (the trigger's own delay is 1.5 s)...
 */
const BOOT_MEASURED = { least: 0.03, most: 0.07 };
/** ...as first allowed for on an idle machine... */
const BOOT_IDLE = { least: 0.3, most: 1 };
/** ...and on a loaded one (the full suite on two cores, where the worker test once failed). */
const BOOT_LOADED = { least: 0.3, most: 2.8 };
/**
 * How long the queue has run when relay.mesos reads it first (seconds): the test starts the
 * queue, then relay.mesos, whose first tick came 0.17-0.35 s later (idle, beside two busy
 * loops, beside the full suite). The arrivals step at 12 and 24 s of the queue's time, so a
 * law sees them that much earlier in its own; drawn per plant.
 */
const HEAD_START = { least: 0.15, most: 0.4 };

/**
 * A worker consumer process: running once spawned, draining after its start-up (drawn within
 * `boot`), for its life.
 */
function workerModel(boot: { least: number; most: number }): ShapeDraw["model"] {
  return (random) => {
    const up = boot.least + (boot.most - boot.least) * random();
    return { startDelay: 0.05, life: up + WORKER_CONSUMER.life, shape: "warm-up", warmup: up };
  };
}

/**
 * A trigger: the cooler command is a shell that forks and exits, within a few milliseconds (4 ms
 * measured in the test's log), so it is never seen running at a tick. Its consumer starts after
 * the trigger's delay and a process start-up drawn within `boot` for each consumer (each is its
 * own process, as in the real-time test), then drains for its life.
 */
function triggerModel(boot: { least: number; most: number }): ShapeDraw["model"] {
  return (random) => ({
    startDelay: 0.002 + 0.018 * random(),
    life: 0.005,
    shape: "trigger",
    effectDelay: TRIGGER_DELAY_S + boot.least,
    effectDelaySpread: boot.most - boot.least,
    effectLife: TRIGGER_CONSUMER.life,
  });
}

const SHAPES: readonly ShapeDraw[] = [
  {
    name: `worker (consumer runs ${WORKER_CONSUMER.life} s)`,
    consumer: WORKER_CONSUMER,
    model: workerModel(BOOT_IDLE),
  },
  {
    name: `worker, start-up ${BOOT_LOADED.least}-${BOOT_LOADED.most} s (a loaded machine)`,
    consumer: WORKER_CONSUMER,
    model: workerModel(BOOT_LOADED),
  },
  {
    name: `trigger (detached consumer, ${TRIGGER_CONSUMER.life} s)`,
    consumer: TRIGGER_CONSUMER,
    model: triggerModel(BOOT_IDLE),
  },
  {
    name: `trigger, start-up ${BOOT_MEASURED.least}-${BOOT_MEASURED.most} s (as measured)`,
    consumer: TRIGGER_CONSUMER,
    model: triggerModel(BOOT_MEASURED),
  },
  {
    name: `trigger, start-up ${BOOT_LOADED.least}-${BOOT_LOADED.most} s (a loaded machine)`,
    consumer: TRIGGER_CONSUMER,
    model: triggerModel(BOOT_LOADED),
  },
];

/** The law a plant is run with: the adaptive law (defaults), or the causal reference. */
type Who = "adaptive" | "causal";

/**
 * One shape over PLANTS seeded plants, run by `who`: launches per plant and mean queue of the
 * second half. Each plant's draws are the same for both.
 */
function runShape(shape: ShapeDraw, who: Who): { launches: number[]; means: number[] } {
  const launches: number[] = [];
  const means: number[] = [];
  for (let seed = 1; seed <= PLANTS; seed++) {
    const random = seededRandom(seed);
    const model = shape.model(random);
    const tasks = new SimTasks({ capacity: 2000, ...model }, random);
    // Where each reading falls between an arrival and a poll, drawn per reading (its own
    // stream, so the plant's other draws stay as they were), and the queue's head start.
    const phase = seededRandom(Math.floor(random() * 2 ** 32));
    const head = HEAD_START.least + (HEAD_START.most - HEAD_START.least) * random();
    const arrivals = (t: number) => steppingArrivals(t + head);
    const plant = polledQueuePlant(
      arrivals,
      shape.consumer.rate,
      POLL_S,
      () => phase() < 0.5,
    );
    const law: ControlLaw = who === "adaptive"
      ? new AdaptiveLaw(COOLERS, { initialEffect: 1, response: "auto" })
      : new CausalLaw({
        truth: { kind: "queue", arrivals, drain: shape.consumer.rate },
        model,
        target: () => 0,
        plant,
        tasks,
        limits: COOLERS,
        dt: E2E_TICK_S,
      });
    const r = simulate({ law, plant, tasks, target: () => 0, duration: E2E_RUN_S, dt: E2E_TICK_S });
    const late = r.series.filter((p) => p.t >= E2E_RUN_S / 2);
    launches.push(r.series.reduce((a, p) => a + (p.decision?.coolers ?? 0), 0));
    means.push(late.reduce((a, p) => a + p.metric, 0) / late.length);
  }
  return { launches, means };
}

/** The section's markdown. */
export function seededShapesSection(): string {
  const rows = SHAPES.map((shape) => {
    const { launches, means } = runShape(shape, "adaptive");
    const causal = [...runShape(shape, "causal").launches].sort((a, b) => a - b);
    const sorted = [...launches].sort((a, b) => a - b);
    const bound = Math.floor(
      LAUNCH_FACTOR * Math.ceil(ARRIVED / (shape.consumer.rate * shape.consumer.life)),
    );
    const within = launches.filter((n, i) => n <= bound && means[i] <= MEAN_QUEUE_MAX).length;
    return `| ${shape.name} | ${quantileOfSorted(sorted, 0.5)} | ${
      quantileOfSorted(sorted, 0.9)
    } | ${Math.max(...launches)} | ${bound} | ${
      Math.max(...means).toFixed(1)
    } | ${within} of ${PLANTS} | ${quantileOfSorted(causal, 0.5)} / ${
      quantileOfSorted(causal, 0.9)
    } | ${causal.filter((n) => n <= bound).length} of ${PLANTS} |`;
  });
  return [
    "## Seeded plants: the end-to-end queue shapes",
    "",
    "The queue plants of `tests/e2e_shape_*_test.ts` (half-second ticks, 36 s, nothing learned at",
    `the start) in virtual time on ${PLANTS} plants per shape drawn from seeds 1-${PLANTS}: start`,
    "delays, effect delays and lives vary around the test's own (a consumer process's start-up,",
    `${BOOT_IDLE.least}-${BOOT_IDLE.most} s, or ${BOOT_LOADED.least}-${BOOT_LOADED.most} s as on a`,
    "machine running the full suite, or as measured here for a trigger's consumer,",
    `${BOOT_MEASURED.least}-${BOOT_MEASURED.most} s: drawn once per plant for a worker, once per`,
    "consumer for the consumer a trigger starts after its delay, as each is its own process in",
    "the real-time test); the queue has run",
    `${HEAD_START.least}-${HEAD_START.most} s when it is first read, as relay.mesos starts after it`,
    "in the test (the arrivals step that much earlier in the law's time); whole items arrive every",
    `${POLL_S} s and each consumer takes its whole items every ${POLL_S} s, as the test's`,
    "queue and consumers do (a capacity offered to an empty queue is lost), and each reading",
    "comes before the consumers' poll or after it by a draw, as the clocks drift in real time (an",
    "empty queue reads 0 or 1 by turns). Bounds as in the test: launches",
    `≤ ${LAUNCH_FACTOR} × the fewest consumer lives that could take every item, mean queue over`,
    `the second half ≤ ${MEAN_QUEUE_MAX}.`,
    "The causal reference's launches on the same plants are beside them: told the plant, it",
    "prices no task-second and launches whatever brings the queue under half an item soonest;",
    "the last column counts its plants within the launch bound. The adaptive law prices each",
    "start (`--task-cost`).",
    "",
    "| shape | launches, median | p90 | most | bound | worst mean queue | plants within both | causal launches, median / p90 | causal within the launch bound |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
}
