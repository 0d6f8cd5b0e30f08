/**
 * The causal reference of the benchmark (DESIGN.md): what a law that had already learned
 * everything about the plant could do, without knowing the future. The gap between a law and it
 * is the price of learning; the bench's goals are measured against it.
 *
 * It is told the plant exactly: the per-task effect (items drained per second, the level or
 * load one task moves), the start delay, the tasks' shape (a trigger's effect delay and effect
 * life, a warm-up task's warm-up, process lives), the drain cap, and it reads the plant's exact
 * state (unrounded, noise-free) and the exact task list: which tasks are pending or running,
 * when each started, which effects are on or over. It is not told the future: the arrivals, the
 * load, the drain cap and the target are taken to stay as they are at the tick it decides (it
 * does not preview the target), starvation windows are not known in advance (a task still
 * pending after its start delay is expected to start at once), and a random life is not known
 * before it ends (counted as alive on level and cpu plants, weighted by its chance to be alive on
 * a queue). With that model it plans exactly as the perfect-knowledge bound does (`bound.ts`,
 * the same code with the future replaced by the present): per plant,
 * - queue: the fewest consumers that bring the predicted queue under half an item by the end of
 *   the first tick they act in and keep it there until the next tick's could act (with a drain
 *   cap: the fewest past which more no longer help);
 * - level: tasks acting when a new one would act = round((target − base) ÷ effect), the excess
 *   killed at once when cooling is by kill;
 * - cpu: coolers acting when a new one would act = round((load − target) ÷ effect).
 * Bench only.
 * @module
 */

import { BoundLaw, type BoundSetup } from "./bound.ts";

/**
 * The bound's planner with the future replaced by the present.
 *
 * @example
 * ```ts
 * const law = new CausalLaw({ truth, model, target, plant, tasks, limits });
 * simulate({ law, plant, tasks, target, duration: 600 });
 * ```
 */
export class CausalLaw extends BoundLaw {
  constructor(setup: Omit<BoundSetup, "causal">) {
    super({ ...setup, causal: true });
  }
}
