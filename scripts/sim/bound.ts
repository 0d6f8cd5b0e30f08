/**
 * The perfect-knowledge bound for the benchmark: a controller that is told the plant's true
 * parameters (per-task effect, start delay, task life, starvation windows, future arrivals, load
 * and target) and reads the plant's exact state, and launches exactly what that model calls for.
 * No law that must learn from samples can know more, so its IAE is what the plant's dead time and
 * whole tasks leave over. It sees random deaths only once they happened and noise not at all.
 * Bench only; pure (the simulator owns the clock).
 * @module
 */

import type { ControlLaw, Decision, Observation } from "../../lib/control/types.ts";
import { noAction } from "../../lib/control/types.ts";
import type { Plant, TaskModel } from "./plants.ts";
import type { Truth } from "./scenarios.ts";

/** What the bound is told. */
export interface BoundSetup {
  readonly truth: Truth;
  readonly model: TaskModel;
  readonly target: (t: number) => number;
  readonly plant: Plant;
  /** Seconds between ticks and plant sub-steps per tick, as the simulator uses them. */
  readonly dt?: number;
  readonly substeps?: number;
}

interface Cohort {
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

/**
 * Per plant:
 * - queue: launches the fewest consumers that, starting after the delay (or the end of a
 *   starvation window), bring the queue predicted from its exact length and the known future
 *   arrivals to zero by the end of the first tick they run in, and keep it there until the next
 *   tick's consumers could act (the last tick before a starved spell stocks up for it);
 * - level (consumer count, cooling by kill): keeps running + starting = target ÷ effect at the
 *   time new tasks would start, kills at the moment the target drops, and replaces deaths on the
 *   tick after they happen;
 * - cpu: keeps the coolers alive when a new one would start at round((load − target) ÷ effect),
 *   knowing when each running cooler ends.
 *
 * @example
 * ```ts
 * const law = new BoundLaw({ truth, model, target, plant });
 * simulate({ law, plant, tasks, target, duration: 600 });
 * ```
 */
export class BoundLaw implements ControlLaw {
  readonly name = "bound";
  readonly #setup: BoundSetup;
  readonly #dt: number;
  readonly #sub: number;
  /** What this law launched (launch-mode plants, fixed lives): when each cohort runs. */
  readonly #cohorts: Cohort[] = [];

  constructor(setup: BoundSetup) {
    this.#setup = setup;
    this.#dt = setup.dt ?? 1;
    this.#sub = setup.substeps ?? 10;
  }

  decide(obs: Observation): Decision {
    const { truth } = this.#setup;
    switch (truth.kind) {
      case "level":
        return this.#level(obs, truth.effect, truth.base);
      case "cpu": {
        const s = this.#startAt(obs.t);
        const need = Math.max(
          0,
          Math.round((truth.load(s) - this.#setup.target(s)) / truth.effect),
        );
        return this.#launch(obs.t, need - this.#aliveAt(s), { need });
      }
      case "queue":
        return this.#queue(obs.t, truth.arrivals, truth.drain);
    }
  }

  #level(obs: Observation, effect: number, base: number): Decision {
    const want = (x: number) => Math.max(0, Math.round((this.#setup.target(x) - base) / effect));
    const s = this.#startAt(obs.t);
    const have = obs.tasks.warmer.running + obs.tasks.warmer.inflight;
    const detail = { wantNow: want(obs.t), wantAtStart: want(s), have };
    if (want(s) > have) {
      return { warmers: want(s) - have, coolers: 0, kills: 0, reason: "bound: up", detail };
    }
    const keep = Math.max(want(obs.t), want(s));
    if (have > keep) return { warmers: 0, coolers: 0, kills: have - keep, reason: "bound", detail };
    return noAction("bound: enough", detail);
  }

  #queue(t: number, arrivals: (t: number) => number, drain: number): Decision {
    const s = this.#startAt(t);
    const life = this.#life();
    // The queue must be empty by the end of the first tick these consumers run in, and stay so
    // until consumers asked for next tick can act (later than that when a starved spell lies
    // ahead), as far as these consumers' life reaches.
    const first = s + this.#dt;
    const h = Math.max(first, Math.min(this.#startAt(t + this.#dt), s + life));
    const step = this.#dt / this.#sub;
    const steps = Math.round((h - t) / step);
    const firstStep = Math.round((first - t) / step);
    /** The larger queue of the two checkpoints: end of the first tick, and `h`. */
    const predict = (extra: number) => {
      let length = this.#setup.plant.state();
      let worst = 0;
      for (let i = 0; i < steps; i++) {
        const x = t + i * step;
        const n = this.#aliveAt(x) + (x >= s && x < s + life ? extra : 0);
        length = Math.max(0, length + (arrivals(x) - drain * n) * step);
        if (i + 1 === firstStep || i + 1 === steps) worst = Math.max(worst, length);
      }
      return worst;
    };
    // The read rounds: a queue under half an item reads 0.
    let hi = 0;
    while (predict(hi) >= 0.5) hi = hi === 0 ? 1 : 2 * hi;
    let lo = 0;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (predict(mid) >= 0.5) lo = mid + 1;
      else hi = mid;
    }
    return this.#launch(t, lo, { predicted: Math.round(predict(0)) });
  }

  #launch(t: number, n: number, detail: Decision["detail"]): Decision {
    if (n <= 0) return noAction("bound: enough", detail);
    const start = this.#startAt(t);
    this.#cohorts.push({ start, end: start + this.#life(), count: n });
    return { warmers: 0, coolers: n, kills: 0, reason: "bound", detail };
  }

  /** Coolers this law launched that run at time `x`. */
  #aliveAt(x: number): number {
    return this.#cohorts.reduce((a, c) => a + (c.start <= x && x < c.end ? c.count : 0), 0);
  }

  #life(): number {
    const life = this.#setup.model.life;
    if (typeof life !== "number") throw new Error("bound: launch-mode plants need a fixed life");
    return life;
  }

  /** When a task requested at `t` starts: after the delay, and not inside a starvation window. */
  #startAt(t: number): number {
    let x = t + this.#setup.model.startDelay;
    for (let moved = true; moved;) {
      moved = false;
      for (const [a, b] of this.#setup.model.starved ?? []) {
        if (x >= a && x < b) {
          x = b;
          moved = true;
        }
      }
    }
    return x;
  }
}
