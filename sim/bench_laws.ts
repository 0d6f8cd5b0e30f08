/**
 * The controllers the benchmark runs on a scenario, and one seeded run of a scenario, shared by
 * `scripts/bench.ts` (one seed) and `scripts/bench_seeds.ts` (several): the adaptive law and the
 * baselines under Relay's default `--max-running`, as a user who sets nothing runs them, and the
 * two references told the plant. A run draws the plant and the tasks from one seeded stream.
 * Pure: no I/O. Bench only.
 * @module
 */

import { AdaptiveLaw } from "../lib/control/adaptive.ts";
import { ClassicLaw } from "../lib/control/classic.ts";
import type { ControlLaw, Limits } from "../lib/control/types.ts";
import { OPTIONS } from "../lib/config/options.ts";
import { HpaLaw, KedaScaledJobLaw } from "./baselines.ts";
import { BoundLaw, type BoundSetup } from "./bound.ts";
import { CausalLaw } from "./causal.ts";
import { type Plant, seededRandom, SimTasks } from "./plants.ts";
import type { Scenario } from "./scenarios.ts";
import { type SimScore, simulate } from "./simulate.ts";

/** Makes a controller for a scenario's plant and tasks; undefined where it does not apply. */
export type Make = (s: Scenario, plant: Plant, tasks: SimTasks) => ControlLaw | undefined;

/** Relay's default `--max-running`: every controller runs under it, as a user who sets nothing. */
export const MAX_RUNNING = OPTIONS.find((o) => o.name === "max-running")!.default as number;
const limitsOf = (s: Scenario): Limits => ({ ...s.limits, maxRunning: MAX_RUNNING });

/** What the two references are told of a scenario: its truth, its tasks and the run's plant. */
function toldThePlant(s: Scenario, plant: Plant, tasks: SimTasks): BoundSetup {
  return {
    truth: s.truth,
    model: s.model,
    target: s.target,
    plant,
    tasks,
    limits: s.limits,
    dt: s.dt,
  };
}

/** The bench's controllers, in the order of its tables. */
export const LAWS: Readonly<Record<string, Make>> = {
  adaptive: (s) => new AdaptiveLaw(limitsOf(s), { initialEffect: 1, response: "auto" }),
  classic: (s) => new ClassicLaw(limitsOf(s), 1000),
  hpa: (s) => new HpaLaw(limitsOf(s), s.mapping, s.perTask),
  // ScaledJob scales jobs for a backlog; it has no notion of a level or a load to hold.
  keda: (s) => (s.mapping === "backlog" ? new KedaScaledJobLaw(limitsOf(s), s.perTask) : undefined),
  bound: (s, plant, tasks) => new BoundLaw(toldThePlant(s, plant, tasks)),
  causal: (s, plant, tasks) => new CausalLaw(toldThePlant(s, plant, tasks)),
};

/** The seed of `deno task bench`'s runs. */
export const BENCH_SEED = 42;

/**
 * Runs scenario `s` with the controller `make` gives, plant and tasks drawn from `seed`.
 *
 * @example
 * ```ts
 * import { scenarios } from "./scenarios.ts";
 * const s = scenarios().find((x) => x.name === "queue")!;
 * runScenario(s, LAWS.causal)!.iae; // the causal reference's IAE on the bench's seed
 * ```
 */
export function runScenario(s: Scenario, make: Make, seed = BENCH_SEED): SimScore | undefined {
  const random = seededRandom(seed);
  const plant = s.plant(random);
  const tasks = new SimTasks({ capacity: 2000, ...s.model }, random);
  const law = make(s, plant, tasks);
  if (!law) return undefined;
  return simulate({ law, plant, tasks, target: s.target, duration: s.duration, dt: s.dt });
}
