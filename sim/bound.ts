/**
 * The two references of the benchmark (DESIGN.md, "Control: what good means"), one planner with
 * two settings:
 * - the **bound** (prophet): told the plant's true parameters (per-task effect, start delay, the
 *   tasks' shape: effect delay or warm-up, process and effect lives, starvation windows) and the
 *   future (arrivals, load, target, drain cap over time);
 * - the **causal reference** (`causal: true`, see `causal.ts`): told the same plant parameters
 *   but not the future: the arrivals, the load, the drain cap and the target are taken to stay as
 *   they are at the tick it decides, and starvation is not foreseen (a task still pending after
 *   its start delay is expected to start at once; no window end is known).
 *
 * Both read the plant's exact state (unrounded, noise-free) and the exact task list
 * (`SimTasks.exact`: which tasks are pending or running, when each started, whether its effect
 * has come on or ended), and launch exactly what their model of the plant calls for. Neither is
 * told a random life before it ends: a random-life task is counted as alive (level and cpu
 * plants) or weighted by its chance to be alive (queue, memoryless `exp:` lives), and deaths are
 * seen once they happened. Neither sees sensor noise. Bench only; pure apart from reading the
 * simulated state (the simulator owns the clock).
 * @module
 */

import type { ControlLaw, Decision, Limits, Observation } from "../lib/control/types.ts";
import { decide, noAction } from "../lib/control/types.ts";
import type { ExactTask, Plant, SimTasks, TaskModel } from "./plants.ts";
import type { Truth } from "./scenarios.ts";

/** What a reference is told. */
export interface BoundSetup {
  readonly truth: Truth;
  readonly model: TaskModel;
  readonly target: (t: number) => number;
  readonly plant: Plant;
  /** The simulated tasks, read for their exact state. */
  readonly tasks: SimTasks;
  /** The scenario's limits: only whether cooling is by kill is read. */
  readonly limits: Limits;
  /** Seconds between ticks and plant sub-steps per tick, as the simulator uses them. */
  readonly dt?: number;
  readonly substeps?: number;
  /** The causal reference: the future is not known (see the module comment). */
  readonly causal?: boolean;
}

/** Doubling the count searched stops here (the simulated cluster holds 2000 tasks). */
const MAX_SEARCH = 4096;
/** A predicted queue under this reads 0 (the sensor rounds). */
const READS_ZERO = 0.5;
/** Below this, more consumers no longer shorten the predicted queue (the drain is capped). */
const NO_GAIN = 1e-6;

/** When a task's effect is on, as the reference models it. */
interface Timing {
  /** Seconds from process start to effect start (for a spread delay, its mean). */
  readonly offset: number;
  /** Whether the life clock starts with the effect (trigger) or with the process. */
  readonly fromEffect: boolean;
  /** The life that ends the effect: fixed seconds, or the mean of an `exp:` life. */
  readonly life: number;
  readonly random: boolean;
}

function timing(model: TaskModel): Timing {
  const shape = model.shape ?? "worker";
  const life = shape === "trigger" ? model.effectLife ?? 0 : model.life;
  return {
    offset: shape === "trigger"
      ? (model.effectDelay ?? 0) + (model.effectDelaySpread ?? 0) / 2
      : shape === "warm-up"
      ? model.warmup ?? 0
      : 0,
    fromEffect: shape === "trigger",
    life: typeof life === "number" ? life : Number(life.slice(4)),
    random: typeof life !== "number",
  };
}

/**
 * Per plant:
 * - queue: launches the fewest consumers that, acting from when a new task's effect would come
 *   on, bring the queue predicted from its exact length, the arrivals and the tasks already
 *   started or coming to under half an item (it reads 0) by the end of the first tick they act
 *   in, and keep it there until the next tick's consumers could act; where a drain cap makes
 *   that impossible, the fewest past which more consumers no longer shorten the queue;
 * - level (consumer count): keeps the tasks acting when a new one would act at target ÷ effect,
 *   kills (when cooling is by kill) at the moment the target drops, replaces deaths on the tick
 *   after they happen;
 * - cpu: keeps the coolers acting when a new one would act at round((load − target) ÷ effect).
 *
 * @example
 * ```ts
 * const law = new BoundLaw({ truth, model, target, plant, tasks, limits });
 * simulate({ law, plant, tasks, target, duration: 600 });
 * ```
 */
export class BoundLaw implements ControlLaw {
  readonly name: string;
  readonly #setup: BoundSetup;
  readonly #dt: number;
  readonly #sub: number;
  readonly #timing: Timing;

  constructor(setup: BoundSetup) {
    this.#setup = setup;
    this.name = setup.causal ? "causal" : "bound";
    this.#dt = setup.dt ?? 1;
    this.#sub = setup.substeps ?? 10;
    this.#timing = timing(setup.model);
  }

  decide(obs: Observation): Decision {
    const { truth } = this.#setup;
    const now = this.#setup.causal;
    const at = <T>(f: (x: number) => T): (x: number) => T => (now ? () => f(obs.t) : f);
    const target = at(this.#setup.target);
    switch (truth.kind) {
      case "level":
        return this.#level(obs.t, truth.effect, truth.base, target);
      case "cpu": {
        const s = this.#effectStart(obs.t);
        const load = at(truth.load);
        const need = Math.max(0, Math.round((load(s) - target(s)) / truth.effect));
        const have = this.#acting("cooler", s, obs.t, false);
        return this.#launch("cooler", need - have, { need, have });
      }
      case "queue":
        return this.#queue(
          obs.t,
          at(truth.arrivals),
          truth.drain,
          at(truth.maxDrain ?? (() => Infinity)),
        );
    }
  }

  #level(
    t: number,
    effect: number,
    base: number,
    target: (x: number) => number,
  ): Decision {
    const want = (x: number) => Math.max(0, Math.round((target(x) - base) / effect));
    const s = this.#effectStart(t);
    const have = this.#acting("warmer", s, t, false);
    const detail = { wantNow: want(t), wantAtStart: want(s), have };
    if (want(s) > have) return this.#launch("warmer", want(s) - have, detail);
    const keep = Math.max(want(t), want(s));
    if (have > keep && this.#setup.limits.coolerMode === "kill") {
      return decide({ type: "kill", n: have - keep }, "plan", `${this.name}: down`, detail);
    }
    return noAction(`${this.name}: enough`, detail);
  }

  #queue(
    t: number,
    arrivals: (t: number) => number,
    drain: number,
    maxDrain: (t: number) => number,
  ): Decision {
    const s = this.#effectStart(t);
    const life = this.#timing.life - (this.#timing.fromEffect ? 0 : this.#timing.offset);
    // The queue must be empty by the end of the first tick these consumers act in, and stay so
    // until consumers asked for next tick can act (later than that when the bound knows of a
    // starved spell ahead), as far as these consumers' effect reaches.
    const first = s + this.#dt;
    const h = Math.max(first, Math.min(this.#effectStart(t + this.#dt), s + life));
    const step = this.#dt / this.#sub;
    const steps = Math.round((h - t) / step);
    const firstStep = Math.round((first - t) / step);
    const existing: number[] = [];
    const fresh: number[] = [];
    const tasks = this.#tasks("cooler", t);
    for (let i = 0; i < steps; i++) {
      const x = t + i * step;
      existing.push(tasks.reduce((a, task) => a + this.#weight(task, x, t, true), 0));
      fresh.push(this.#weight(undefined, x, t, true));
    }
    /** The larger queue of the two checkpoints: end of the first tick, and `h`. */
    const predict = (extra: number) => {
      let length = this.#setup.plant.state();
      let worst = 0;
      for (let i = 0; i < steps; i++) {
        const x = t + i * step;
        const drained = Math.min(drain * (existing[i] + extra * fresh[i]), maxDrain(x));
        length = Math.max(0, length + (arrivals(x) - drained) * step);
        if (i + 1 === firstStep || i + 1 === steps) worst = Math.max(worst, length);
      }
      return worst;
    };
    let hi = 0;
    while (predict(hi) >= READS_ZERO && hi < MAX_SEARCH) {
      const next = hi === 0 ? 1 : 2 * hi;
      if (hi > 0 && predict(next) > predict(hi) - NO_GAIN) break;
      hi = next;
    }
    // The fewest that reach what `hi` reaches: under half an item, or the capped best.
    const goal = Math.max(READS_ZERO, predict(hi) + NO_GAIN);
    let lo = 0;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (predict(mid) >= goal) lo = mid + 1;
      else hi = mid;
    }
    return this.#launch("cooler", lo, { predicted: Math.round(predict(0)) });
  }

  #launch(kind: "warmer" | "cooler", n: number, detail: Decision["detail"]): Decision {
    if (n <= 0) return noAction(`${this.name}: enough`, detail);
    return decide({ type: "start", kind, n }, "plan", `${this.name}: start`, detail);
  }

  #tasks(kind: "warmer" | "cooler", t: number): ExactTask[] {
    return this.#setup.tasks.exact(t).filter((x) => x.kind === kind && !x.effectEnded);
  }

  /** Tasks of `kind` acting at `x`, as known at `t` (random lives: the expected count, or alive). */
  #acting(kind: "warmer" | "cooler", x: number, t: number, expected: boolean): number {
    return this.#tasks(kind, t).reduce((a, task) => a + this.#weight(task, x, t, expected), 0);
  }

  /**
   * Whether (or, for a random life with `expected`, how likely) `task`'s effect is on at `x`,
   * as known at `t`; `undefined` is a task requested at `t`.
   */
  #weight(task: ExactTask | undefined, x: number, t: number, expected: boolean): number {
    if (task?.effectEnded) return 0;
    const { offset, fromEffect, life, random } = this.#timing;
    const start = task?.startedAt ??
      Math.max(t, this.#startAt(task?.requestedAt ?? t));
    const from = task?.effectFrom ?? start + offset;
    if (x < from) return 0;
    const clock = fromEffect ? from : start;
    if (!random) return x < clock + life ? 1 : 0;
    return expected ? Math.exp(-(x - Math.max(t, clock)) / life) : 1;
  }

  /** When the effect of a task requested at `t` comes on. */
  #effectStart(t: number): number {
    return this.#startAt(t) + this.#timing.offset;
  }

  /**
   * When a task requested at `t` starts: after the delay, and (the bound only) not inside a
   * starvation window.
   */
  #startAt(t: number): number {
    let x = t + this.#setup.model.startDelay;
    if (this.#setup.causal) return x;
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
