/**
 * The seeded-plants section of the benchmark: the end-to-end queue plants of
 * `tests/e2e_shape_*_test.ts` (worker and trigger shapes, half-second ticks, 36 s from nothing
 * learned) replayed in virtual time on 100 plants drawn from seeds: start delays, effect delays
 * and process lives vary per plant around the test's own. The test's real-time run is one draw
 * of a noisier machine; this shows the spread the law has over such draws, against the same
 * bounds (launches ≤ 2.5 × the fewest consumer lives that could take every item, mean queue
 * over the second half ≤ 8). Pure: no I/O.
 * @module
 */

import { AdaptiveLaw } from "../lib/control/adaptive.ts";
import { COOLERS } from "../sim/limits.ts";
import { queuePlant, seededRandom, SimTasks, type TaskModel } from "../sim/plants.ts";
import { simulate } from "../sim/simulate.ts";

/** Plants drawn per shape: enough that one plant is a percent. */
const PLANTS = 100;
/** The test's tick and run length, seconds. */
const TICK_S = 0.5;
const RUN_S = 36;
/** The test's arrivals: 3 items/s, 9 from 12 s, 3 from 24 s. */
const arrivals = (t: number) => (t < 12 ? 3 : t < 24 ? 9 : 3);
/** Items that arrive over a run. */
const ARRIVED = 3 * 12 + 9 * 12 + 3 * (RUN_S - 24);
/** Each consumer drains this many items per second. */
const DRAIN = 5;
/** The test's bounds. */
const LAUNCH_FACTOR = 2.5;
const MEAN_QUEUE_MAX = 8;

interface ShapeDraw {
  readonly name: string;
  /** Seconds of work in one consumer's life (items per life ÷ DRAIN). */
  readonly acts: number;
  readonly model: (random: () => number) => TaskModel;
}

const SHAPES: readonly ShapeDraw[] = [
  {
    name: "worker (consumer runs 4 s)",
    acts: 4,
    // A Deno consumer process: 0.3-1 s to start, then 4 s of draining.
    model: (random) => ({ startDelay: 0.3 + 0.7 * random(), life: 4 }),
  },
  {
    name: "trigger (detached consumer, 6 s)",
    acts: 6,
    // The cooler command exits at once; its consumer starts 1.6-2.6 s later, drains for 6 s.
    model: (random) => ({
      startDelay: 0.1 + 0.4 * random(),
      life: 0.05,
      shape: "trigger",
      effectDelay: 1.6 + random(),
      effectLife: 6,
    }),
  },
];

/** One shape over PLANTS seeded plants: launches per plant and mean queue of the second half. */
function runShape(shape: ShapeDraw): { launches: number[]; means: number[] } {
  const launches: number[] = [];
  const means: number[] = [];
  for (let seed = 1; seed <= PLANTS; seed++) {
    const random = seededRandom(seed);
    const tasks = new SimTasks({ capacity: 2000, ...shape.model(random) }, random);
    const law = new AdaptiveLaw(COOLERS, { initialEffect: 1, response: "auto" });
    const r = simulate({
      law,
      plant: queuePlant(arrivals, DRAIN, 0),
      tasks,
      target: () => 0,
      duration: RUN_S,
      dt: TICK_S,
    });
    const late = r.series.filter((p) => p.t >= RUN_S / 2);
    launches.push(r.series.reduce((a, p) => a + (p.decision?.coolers ?? 0), 0));
    means.push(late.reduce((a, p) => a + p.metric, 0) / late.length);
  }
  return { launches, means };
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** The section's markdown. */
export function seededShapesSection(): string {
  const rows = SHAPES.map((shape) => {
    const { launches, means } = runShape(shape);
    const bound = Math.floor(LAUNCH_FACTOR * Math.ceil(ARRIVED / (DRAIN * shape.acts)));
    const within = launches.filter((n, i) => n <= bound && means[i] <= MEAN_QUEUE_MAX).length;
    return `| ${shape.name} | ${quantile(launches, 0.5)} | ${quantile(launches, 0.9)} | ${
      Math.max(...launches)
    } | ${bound} | ${Math.max(...means).toFixed(1)} | ${within} of ${PLANTS} |`;
  });
  return [
    "## Seeded plants: the end-to-end queue shapes",
    "",
    "The queue plants of `tests/e2e_shape_*_test.ts` (half-second ticks, 36 s, nothing learned at",
    `the start) in virtual time on ${PLANTS} plants per shape drawn from seeds 1-${PLANTS}: start`,
    "delays, effect delays and lives vary around the test's own. Bounds as in the test: launches",
    `≤ ${LAUNCH_FACTOR} × the fewest consumer lives that could take every item, mean queue over`,
    `the second half ≤ ${MEAN_QUEUE_MAX}.`,
    "",
    "| shape | launches, median | p90 | most | bound | worst mean queue | plants within both |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
}
