/**
 * Simulated plants in virtual time for testing and benchmarking control laws: a work queue, a
 * consumer count that must follow a curve, and a noisy CPU-like load. Tasks have a start delay,
 * a life, and an effect whose timing follows the task's shape (worker, trigger, warm-up); a
 * starvation window keeps new tasks from starting. Seeded, so every run is reproducible. No I/O,
 * no timers.
 * @module
 */

import type { TaskKind, TaskView } from "../lib/executor/types.ts";

/** A small, fast, seeded random generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal deviate from a uniform source (Box-Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

interface SimTask {
  id: string;
  kind: TaskKind;
  requestedAt: number;
  startedAt?: number;
  endedAt?: number;
  /** Seconds the process will run once started. */
  life: number;
  /** Trigger tasks: seconds the effect lasts once on (drawn at launch). */
  effectLife: number;
  /** When the effect is on: [effectFrom, effectTo), set when the process starts. */
  effectFrom?: number;
  effectTo?: number;
  state: TaskView["state"];
}

/**
 * How a task's effect relates to its process (DESIGN.md, "What a task is, to the law"):
 * - `worker`: the process is the worker; it acts from its start for as long as it runs;
 * - `trigger`: the process starts something elsewhere and exits (its `life` is short, e.g.
 *   0.2 s); the effect starts `effectDelay` s after the process started and lasts `effectLife`;
 * - `warm-up`: the process runs its `life` but acts only once it has run `warmup` s.
 */
export type TaskShape = "worker" | "trigger" | "warm-up";

/** How simulated tasks behave. Times in seconds. */
export interface TaskModel {
  /** Seconds from request to running. */
  readonly startDelay: number;
  /**
   * Life of the process once running: a fixed number, or `exp:MEAN` for random deaths, or
   * Infinity. For a trigger this is the short life of the command that triggers the effect.
   */
  readonly life: number | `exp:${number}`;
  /** No task may start while `t` is inside one of these [from, to) windows. */
  readonly starved?: readonly (readonly [number, number])[];
  /** Most tasks alive at once (the cluster's size); requests beyond it are refused. */
  readonly capacity?: number;
  /** How the effect relates to the process (default `worker`: today's behaviour). */
  readonly shape?: TaskShape;
  /** Trigger: seconds from the process's start to the start of its effect. */
  readonly effectDelay?: number;
  /**
   * Trigger: each task's effect comes up to this many seconds after `effectDelay`, drawn
   * uniformly per task (a worker's start-up that varies from one to the next). Default 0.
   */
  readonly effectDelaySpread?: number;
  /** Trigger: how long the effect lasts, fixed or `exp:MEAN`. */
  readonly effectLife?: number | `exp:${number}`;
  /** Warm-up: seconds a process runs before it acts. */
  readonly warmup?: number;
}

/** Seconds of a fixed or `exp:MEAN` life, drawn from `random` when random. */
function draw(life: number | `exp:${number}`, random: () => number): number {
  return typeof life === "number"
    ? life
    : -Math.log(Math.max(random(), 1e-12)) * Number(life.slice(4));
}

/**
 * One task as the references (bound, causal) see it: its process and its effect, as far as
 * they have happened by now. Random lives that have not ended yet are not revealed.
 */
export interface ExactTask {
  readonly kind: TaskKind;
  readonly requestedAt: number;
  /** Process start, once it started. */
  readonly startedAt?: number;
  /** The process is over (finished or killed), or was cancelled before it started. */
  readonly processEnded: boolean;
  /** When the effect came on, once it did. */
  readonly effectFrom?: number;
  /** The effect is over, or will never come (killed before acting, cancelled). */
  readonly effectEnded: boolean;
}

/**
 * A task runner in virtual time with the same view of tasks as the real executors, so the
 * loop's summarising code and the laws see what they would see in production. Each task's
 * effect on the plant follows the model's shape; the laws see only the processes (`views()`),
 * the plant is moved by `effective()`.
 *
 * Invariants: a kill ends the process and, for workers and warm-up tasks, the effect; a kill or
 * cancel before a trigger's process has ended means its effect never comes, after that it does
 * nothing. `taskSeconds` counts process seconds (what the cluster pays), `effectSeconds` the
 * seconds the effects were on.
 */
export class SimTasks {
  readonly #tasks: SimTask[] = [];
  readonly #model: TaskModel;
  readonly #random: () => number;
  #next = 0;
  /** Process task-seconds of tasks that ended. */
  taskSeconds = 0;
  /** Effect-seconds of effects that ended. */
  effectSeconds = 0;
  started = 0;
  /** Requests refused because the cluster was full. */
  refused = 0;

  constructor(model: TaskModel, random: () => number) {
    this.#model = model;
    this.#random = random;
  }

  /** The task model these tasks follow. */
  get model(): TaskModel {
    return this.#model;
  }

  launch(kind: TaskKind, count: number, t: number): void {
    const alive = this.#tasks.filter((x) => x.state === "pending" || x.state === "running").length;
    const room = Math.max(0, (this.#model.capacity ?? 2000) - alive);
    this.refused += Math.max(0, count - room);
    for (let i = 0; i < Math.min(count, room); i++) {
      const life = draw(this.#model.life, this.#random);
      // Drawn only for triggers, so worker and warm-up runs keep their random sequence.
      const effectLife = this.#model.shape === "trigger"
        ? draw(this.#model.effectLife ?? 0, this.#random)
        : 0;
      this.#tasks.push({
        id: `sim-${kind}-${this.#next++}`,
        kind,
        requestedAt: t,
        life,
        effectLife,
        state: "pending",
      });
    }
  }

  /** Stops the `count` newest live tasks of `kind` (pending first, as they are newest). */
  kill(kind: TaskKind, count: number, t: number): void {
    const live = this.#tasks
      .filter((x) => x.kind === kind && (x.state === "pending" || x.state === "running"))
      .sort((a, b) => b.requestedAt - a.requestedAt);
    for (const task of live.slice(0, count)) {
      if (task.startedAt !== undefined) this.taskSeconds += t - task.startedAt;
      task.state = "killed";
      task.endedAt = t;
      this.#endEffect(task, t);
    }
  }

  /** Cancels the `count` newest tasks of `kind` that have not started yet. */
  cancel(kind: TaskKind, count: number, t: number): void {
    const waiting = this.#tasks
      .filter((x) => x.kind === kind && x.state === "pending")
      .sort((a, b) => b.requestedAt - a.requestedAt);
    for (const task of waiting.slice(0, count)) {
      task.state = "killed";
      task.endedAt = t;
    }
  }

  /** A killed task's effect: a worker's or warm-up task's ends now; a running trigger's never comes. */
  #endEffect(task: SimTask, t: number): void {
    if (task.effectFrom === undefined || task.effectTo === undefined) return;
    if (this.#model.shape === "trigger") {
      task.effectTo = task.effectFrom;
      return;
    }
    if (t < task.effectTo) {
      task.effectTo = Math.max(task.effectFrom, t);
    }
  }

  /** Advances task states to time `t`. */
  advance(t: number): void {
    const starved = (at: number) => (this.#model.starved ?? []).some(([a, b]) => at >= a && at < b);
    for (const task of this.#tasks) {
      if (task.state === "pending" && t >= task.requestedAt + this.#model.startDelay) {
        if (starved(t)) continue;
        task.state = "running";
        task.startedAt = t;
        this.started++;
        this.#startEffect(task, t);
      }
      if (task.state === "running" && t >= task.startedAt! + task.life) {
        task.state = "finished";
        task.endedAt = task.startedAt! + task.life;
        this.taskSeconds += task.life;
      }
    }
    // Keep the list short: drop tasks whose process and effect ended more than ten minutes ago.
    const keepAfter = t - 600;
    for (let i = this.#tasks.length - 1; i >= 0; i--) {
      const x = this.#tasks[i];
      const end = x.endedAt;
      if (
        end !== undefined && end < keepAfter &&
        !(x.effectTo !== undefined && x.effectTo >= keepAfter)
      ) {
        if (x.effectFrom !== undefined) this.effectSeconds += this.#effectSpan(x, Infinity);
        this.#tasks.splice(i, 1);
      }
    }
  }

  #startEffect(task: SimTask, t: number): void {
    switch (this.#model.shape ?? "worker") {
      case "worker":
        task.effectFrom = t;
        task.effectTo = t + task.life;
        break;
      case "warm-up": {
        task.effectFrom = t + (this.#model.warmup ?? 0);
        task.effectTo = Math.max(task.effectFrom, t + task.life);
        break;
      }
      case "trigger":
        task.effectFrom = t + (this.#model.effectDelay ?? 0) + this.#effectDelaySpread();
        task.effectTo = task.effectFrom + task.effectLife;
        break;
    }
  }

  /** A trigger's extra delay, drawn only when the model has a spread (other runs keep their sequence). */
  #effectDelaySpread(): number {
    const spread = this.#model.effectDelaySpread ?? 0;
    return spread > 0 ? spread * this.#random() : 0;
  }

  /** Seconds of `task`'s effect that were on before `t`. */
  #effectSpan(task: SimTask, t: number): number {
    if (task.effectFrom === undefined || task.effectTo === undefined) return 0;
    return Math.max(0, Math.min(t, task.effectTo) - task.effectFrom);
  }

  running(kind: TaskKind): number {
    return this.#tasks.filter((x) => x.kind === kind && x.state === "running").length;
  }

  /** Tasks of `kind` whose effect is on at `t` (call after `advance(t)`). */
  effective(kind: TaskKind, t: number): number {
    let n = 0;
    for (const x of this.#tasks) {
      if (x.kind === kind && x.effectFrom !== undefined && x.effectFrom <= t && t < x.effectTo!) {
        n++;
      }
    }
    return n;
  }

  /**
   * Tasks of `kind` that cost or act at `t`: the process pending or running, or the effect on
   * or still to come. What a burst after starvation is counted in.
   */
  engaged(kind: TaskKind, t: number): number {
    let n = 0;
    for (const x of this.#tasks) {
      if (x.kind !== kind) continue;
      const alive = x.state === "pending" || x.state === "running";
      if (alive || (x.effectTo !== undefined && t < x.effectTo)) n++;
    }
    return n;
  }

  /** Running task-seconds so far plus those of tasks still running at `t`. */
  totalTaskSeconds(t: number): number {
    return this.#tasks.reduce(
      (acc, x) => acc + (x.state === "running" ? t - x.startedAt! : 0),
      this.taskSeconds,
    );
  }

  /** Effect-seconds so far: of effects already dropped from the list, and of those kept, until `t`. */
  totalEffectSeconds(t: number): number {
    return this.#tasks.reduce((acc, x) => acc + this.#effectSpan(x, t), this.effectSeconds);
  }

  /**
   * The exact state of every task whose process or effect is not over at `t`, for the
   * references only; random lives still running are not revealed.
   */
  exact(t: number): ExactTask[] {
    const out: ExactTask[] = [];
    for (const x of this.#tasks) {
      const processEnded = !(x.state === "pending" || x.state === "running");
      const effectEnded = x.effectTo !== undefined ? t >= x.effectTo : processEnded; // never started: cancelled or killed while pending
      if (processEnded && effectEnded) continue;
      out.push({
        kind: x.kind,
        requestedAt: x.requestedAt,
        startedAt: x.startedAt,
        processEnded,
        effectFrom: x.effectFrom !== undefined && x.effectFrom <= t ? x.effectFrom : undefined,
        effectEnded,
      });
    }
    return out;
  }

  /** Views in epoch milliseconds, as an executor reports them. */
  views(): TaskView[] {
    return this.#tasks.map((x) => ({
      id: x.id,
      kind: x.kind,
      state: x.state,
      requestedAt: x.requestedAt * 1000,
      startedAt: x.startedAt === undefined ? undefined : x.startedAt * 1000,
      endedAt: x.endedAt === undefined ? undefined : x.endedAt * 1000,
    }));
  }
}

/** A plant: a metric that the acting tasks move. */
export interface Plant {
  readonly name: string;
  /** Advances the plant from `t` by `dt` seconds with the counts of tasks whose effect is on. */
  step(t: number, dt: number, running: Readonly<Record<TaskKind, number>>): void;
  /** The metric as a sensor would read it now. */
  read(): number;
  /**
   * The plant's exact state now, before rounding and without noise. Only the perfect-knowledge
   * bound reads it; the laws under test see `read()`.
   */
  state(): number;
}

/** Sensor noise: a standard deviation and the random source it is drawn from. */
export interface Noise {
  readonly sigma: number;
  readonly random: () => number;
}

/**
 * A queue: items arrive at `arrivals(t)` per second; each acting cooler takes `drain` per second,
 * all of them together at most `maxDrain(t)` (a shared database or a few cores: saturation).
 * With `noise`, the sensor reads the length plus a normal deviate (never below 0), rounded.
 */
export function queuePlant(
  arrivals: (t: number) => number,
  drain: number,
  initial = 0,
  maxDrain: (t: number) => number = () => Infinity,
  noise?: Noise,
): Plant {
  let length = initial;
  let reading = Math.round(initial);
  return {
    name: "queue",
    step(t, dt, acting) {
      const drained = Math.min(drain * acting.cooler, maxDrain(t));
      length = Math.max(0, length + (arrivals(t) - drained) * dt);
      reading = noise
        ? Math.max(0, Math.round(length + noise.sigma * gaussian(noise.random)))
        : Math.round(length);
    },
    read: () => reading,
    state: () => length,
  };
}

/**
 * Turns a rate into whole items per step (arrivals in `scripts/queue_sim.ts`, and in
 * {@linkcode polledQueuePlant} its consumers' takes too), deterministically: the fractional part of
 * each step's arrivals is carried over to the next step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const arrivals = new ArrivalAccumulator(() => 2.5);
 * assert.deepEqual([arrivals.step(1), arrivals.step(1)], [2, 3]);
 * ```
 */
export class ArrivalAccumulator {
  #t = 0;
  #carry = 0;
  readonly #rate: (tSeconds: number) => number;
  readonly #random?: () => number;

  constructor(rate: (tSeconds: number) => number, seed?: number) {
    this.#rate = rate;
    if (seed !== undefined) this.#random = seededRandom(seed);
  }

  /** Simulated seconds elapsed so far. */
  get time(): number {
    return this.#t;
  }

  /** Advances `dtSeconds` and returns the whole number of items that arrived meanwhile. */
  step(dtSeconds: number): number {
    const rate = Math.max(0, this.#rate(this.#t) || 0);
    const jitter = this.#random ? 0.5 + this.#random() : 1;
    this.#t += dtSeconds;
    // Round away float noise (0.1 * 10 must give exactly 1 item, not 0.9999999).
    this.#carry = Math.round((this.#carry + rate * dtSeconds * jitter) * 1e9) / 1e9;
    const whole = Math.floor(this.#carry);
    this.#carry -= whole;
    return whole;
  }
}

/**
 * A queue as `scripts/queue_sim.ts` and `scripts/queue_consumer.ts` make it in real time: whole
 * items arrive every `step` seconds (the fraction carried over), and each acting consumer asks
 * for its whole items every `step` seconds; a capacity asked for while the queue is empty is
 * lost, as a polling consumer's is. Where a reading falls between an arrival and the next poll
 * depends on the clocks' phases: with `readsBeforePoll` true the reading sees the items that
 * came since the last poll (an empty queue reads 0 or 1 however many consumers wait), with it
 * false the consumers have taken them (it reads 0, as a fluid queue would). Given as a
 * function, it is asked before each reading, as in real time, where the reader's, the queue's
 * and the consumers' clocks drift against each other and an empty queue reads 0 or 1 by turns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const q = polledQueuePlant(() => 3, 5, 0.1, true);
 * q.step(0, 1, { warmer: 0, cooler: 0 });
 * assert.equal(q.read(), 3);
 * ```
 */
export function polledQueuePlant(
  arrivals: (t: number) => number,
  drain: number,
  step: number,
  readsBeforePoll: boolean | (() => boolean),
): Plant {
  let length = 0;
  let consumers = 0;
  const arrivalsIn = new ArrivalAccumulator(arrivals);
  const capacityIn = new ArrivalAccumulator(() => drain * consumers);
  const arrive = () => {
    length += arrivalsIn.step(step);
  };
  const poll = () => {
    length -= Math.min(capacityIn.step(step), length);
  };
  return {
    name: "queue (polled)",
    step(t, dt, acting) {
      // The accumulators keep their own time from 0, as a simulation does, in steps of `step`.
      const end = t + dt;
      consumers = acting.cooler;
      // Each step is one arrival and one poll; only the last before the reading has its order
      // seen (the others' order only shifts the same sequence by one).
      const seesArrivals = typeof readsBeforePoll === "boolean" ? readsBeforePoll : undefined;
      while (arrivalsIn.time + step <= end + 1e-9) {
        const last = arrivalsIn.time + 2 * step > end + 1e-9;
        const beforePoll = seesArrivals ??
          (last ? (readsBeforePoll as () => boolean)() : true);
        if (beforePoll) {
          poll();
          arrive();
        } else {
          arrive();
          poll();
        }
      }
    },
    read: () => length,
    state: () => length,
  };
}

/**
 * A level: the metric is `effect` per acting warmer, minus `effect` per acting cooler; with
 * `noise`, the sensor adds a normal deviate.
 */
export function levelPlant(effect: number, base = 0, noise?: Noise): Plant {
  let value = base;
  let reading = base;
  return {
    name: "level",
    step(_t, _dt, acting) {
      value = base + effect * (acting.warmer - acting.cooler);
      reading = noise ? value + noise.sigma * gaussian(noise.random) : value;
    },
    read: () => reading,
    state: () => value,
  };
}

/** A CPU-like load above plan: `load(t)` minus `effect` per acting cooler, plus noise. */
export function cpuPlant(
  load: (t: number) => number,
  effect: number,
  noise: number,
  random: () => number,
): Plant {
  let exact = 0;
  let value = 0;
  return {
    name: "cpu",
    step(t, _dt, acting) {
      exact = load(t) - effect * acting.cooler;
      value = exact + noise * gaussian(random);
    },
    read: () => value,
    state: () => exact,
  };
}
