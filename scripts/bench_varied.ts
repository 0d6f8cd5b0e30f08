/**
 * A check of the control law on plants it was not tuned on: queue plants drawn from seeds, each
 * run by the adaptive law (defaults, as a user who sets nothing) and by the causal reference
 * (told the plant, not its future), scored against the bench's ratio goals (IAE ≤ 2× and
 * task-seconds ≤ 1.5× the reference's). Each plant draws its task shape (worker, trigger or
 * warm-up), one consumer's drain, the arrivals and a step of them, the tasks' start delays,
 * lives, warm-ups and effect delays (continuous, so none falls on a candidate of
 * `TUNING`), and the tick (half a second or one). The draws are fixed here, before and
 * independently of any law's results. Prints the count within both goals per shape, the
 * geometric means of the ratios and the worst plants. Writes nothing.
 *
 * `deno task bench:varied` (150 plants from seed 1), or `-- --plants 40 --from 100`.
 * @module
 */

import { parseArgs } from "node:util";
import { IAE_LIMIT, TASK_SECONDS_LIMIT } from "../sim/goals.ts";
import { ratios } from "./bench_seeds.ts";
import { COOLERS } from "../sim/limits.ts";
import { queuePlant, seededRandom, type TaskModel } from "../sim/plants.ts";
import type { Scenario, Shape } from "../sim/scenarios.ts";

/** Plants drawn by default: enough that one plant is under a percent. */
const DEFAULT_PLANTS = 150;
/** Simulated seconds per plant: two arrival regimes, each long enough to settle. */
const DURATION = 300;
const SHAPES: readonly Shape[] = ["worker", "trigger", "warm-up"];

/** A number drawn uniformly in [lo, hi). */
const within = (random: () => number, lo: number, hi: number) => lo + (hi - lo) * random();

/**
 * The queue plant of one seed, as a bench scenario (target 0, coolers launched).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(variedPlant(7).model, variedPlant(7).model); // one seed, one plant
 * ```
 */
export function variedPlant(seed: number): Scenario {
  const random = seededRandom(seed);
  const shape = SHAPES[Math.floor(random() * SHAPES.length)];
  const drain = within(random, 1, 10);
  const before = within(random, 0.5, 12);
  const after = within(random, 0.5, 12);
  const stepAt = within(random, 80, 200);
  const arrivals = (t: number) => (t < stepAt ? before : after);
  const dt = random() < 0.5 ? 0.5 : 1;
  // Lives: fixed, or exponential (random) with the same mean.
  const life = (mean: number): TaskModel["life"] =>
    random() < 0.5 ? Math.round(mean * 10) / 10 : `exp:${Math.round(mean * 10) / 10}`;
  let model: TaskModel;
  let acting: number;
  switch (shape) {
    case "worker": {
      const mean = within(random, 4, 40);
      model = { startDelay: within(random, 0.1, 4), life: life(mean) };
      acting = mean;
      break;
    }
    case "trigger": {
      const mean = within(random, 3, 20);
      model = {
        startDelay: within(random, 0.01, 1.5),
        life: 0.2,
        shape: "trigger",
        effectDelay: within(random, 0.5, 4.5),
        effectLife: life(mean),
      };
      acting = mean;
      break;
    }
    case "warm-up": {
      const warmup = within(random, 0.5, 8);
      const mean = within(random, 5, 40);
      model = {
        startDelay: within(random, 0.1, 3),
        life: life(warmup + mean),
        shape: "warm-up",
        warmup,
      };
      acting = mean;
      break;
    }
  }
  return {
    name: `seed ${seed}: ${shape}, drain ${drain.toFixed(1)}/s, arrivals ${before.toFixed(1)} → ` +
      `${after.toFixed(1)}/s at ${stepAt.toFixed(0)} s, ticks ${dt} s, ${JSON.stringify(model)}`,
    shape,
    mapping: "backlog",
    perTask: drain * acting,
    limits: COOLERS,
    model,
    plant: () => queuePlant(arrivals, drain),
    truth: { kind: "queue", arrivals, drain },
    target: () => 0,
    duration: DURATION,
    dt,
  };
}

/** The adaptive law's IAE and task-seconds over the causal reference's on one drawn plant. */
export function variedRatios(seed: number): { iae: number; taskSeconds: number; s: Scenario } {
  const s = variedPlant(seed);
  return { ...ratios(s, seed), s };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      plants: { type: "string", default: String(DEFAULT_PLANTS) },
      from: { type: "string", default: "1" },
    },
  });
  const plants = Number(values.plants);
  const from = Number(values.from);
  if (!Number.isInteger(plants) || plants < 1) {
    console.error(`--plants must be a whole number of at least 1: ${values.plants}`);
    Deno.exit(2);
  }
  if (!Number.isInteger(from)) {
    console.error(`--from must be a whole number (the first seed): ${values.from}`);
    Deno.exit(2);
  }
  const rows: { seed: number; iae: number; taskSeconds: number; s: Scenario }[] = [];
  for (let seed = from; seed < from + plants; seed++) rows.push({ seed, ...variedRatios(seed) });
  const geo = (xs: number[]) =>
    Math.exp(xs.reduce((a, x) => a + Math.log(Math.max(x, 1e-3)), 0) / xs.length);
  const ok = (r: { iae: number; taskSeconds: number }) =>
    r.iae <= IAE_LIMIT && r.taskSeconds <= TASK_SECONDS_LIMIT;
  for (const shape of SHAPES) {
    const of = rows.filter((r) => r.s.shape === shape);
    if (of.length === 0) continue;
    console.log(
      `${shape.padEnd(8)} ${of.filter(ok).length} of ${of.length} within both goals; ` +
        `IAE ÷ causal ${geo(of.map((r) => r.iae)).toFixed(2)}, task-seconds ÷ causal ` +
        `${geo(of.map((r) => r.taskSeconds)).toFixed(2)} (geometric means)`,
    );
  }
  console.log(
    `all      ${rows.filter(ok).length} of ${rows.length} within both goals ` +
      `(IAE ≤ ${IAE_LIMIT}×, task-seconds ≤ ${TASK_SECONDS_LIMIT}×); IAE ÷ causal ` +
      `${geo(rows.map((r) => r.iae)).toFixed(2)}, task-seconds ÷ causal ` +
      `${geo(rows.map((r) => r.taskSeconds)).toFixed(2)}`,
  );
  console.log("worst IAE ratios:");
  for (const r of [...rows].sort((a, b) => b.iae - a.iae).slice(0, 5)) {
    console.log(`  ${r.iae.toFixed(2)} / ${r.taskSeconds.toFixed(2)}  ${r.s.name}`);
  }
}
