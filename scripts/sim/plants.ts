/**
 * Simulated plants in virtual time for testing and benchmarking control laws: a work queue, a
 * consumer count that must follow a curve, and a noisy CPU-like load. Tasks have a start delay,
 * a life, and an effect; a starvation window keeps new tasks from starting. Seeded, so every run
 * is reproducible. No I/O, no timers.
 * @module
 */

import type { TaskKind, TaskView } from "../../lib/executor/types.ts";

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
  /** Seconds it will run once started. */
  life: number;
  state: TaskView["state"];
}

/** How simulated tasks behave. Times in seconds. */
export interface TaskModel {
  /** Seconds from request to running. */
  readonly startDelay: number;
  /** Life once running: a fixed number, or `exp:MEAN` for random deaths, or Infinity. */
  readonly life: number | `exp:${number}`;
  /** No task may start while `t` is inside one of these [from, to) windows. */
  readonly starved?: readonly (readonly [number, number])[];
  /** Most tasks alive at once (the cluster's size); requests beyond it are refused. */
  readonly capacity?: number;
}

/**
 * A task runner in virtual time with the same view of tasks as the real executors, so the
 * loop's summarising code and the laws see what they would see in production.
 */
export class SimTasks {
  readonly #tasks: SimTask[] = [];
  readonly #model: TaskModel;
  readonly #random: () => number;
  #next = 0;
  /** Task-seconds spent running, per kind. */
  taskSeconds = 0;
  started = 0;
  /** Requests refused because the cluster was full. */
  refused = 0;

  constructor(model: TaskModel, random: () => number) {
    this.#model = model;
    this.#random = random;
  }

  launch(kind: TaskKind, count: number, t: number): void {
    const alive = this.#tasks.filter((x) => x.state === "pending" || x.state === "running").length;
    const room = Math.max(0, (this.#model.capacity ?? 2000) - alive);
    this.refused += Math.max(0, count - room);
    for (let i = 0; i < Math.min(count, room); i++) {
      const life = typeof this.#model.life === "number"
        ? this.#model.life
        : -Math.log(Math.max(this.#random(), 1e-12)) * Number(this.#model.life.slice(4));
      this.#tasks.push({
        id: `sim-${kind}-${this.#next++}`,
        kind,
        requestedAt: t,
        life,
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

  /** Advances task states to time `t`. */
  advance(t: number): void {
    const starved = (at: number) => (this.#model.starved ?? []).some(([a, b]) => at >= a && at < b);
    for (const task of this.#tasks) {
      if (task.state === "pending" && t >= task.requestedAt + this.#model.startDelay) {
        if (starved(t)) continue;
        task.state = "running";
        task.startedAt = t;
        this.started++;
      }
      if (task.state === "running" && t >= task.startedAt! + task.life) {
        task.state = "finished";
        task.endedAt = task.startedAt! + task.life;
        this.taskSeconds += task.life;
      }
    }
    // Keep the list short: drop tasks that ended more than ten minutes ago.
    const keepAfter = t - 600;
    for (let i = this.#tasks.length - 1; i >= 0; i--) {
      const end = this.#tasks[i].endedAt;
      if (end !== undefined && end < keepAfter) this.#tasks.splice(i, 1);
    }
  }

  running(kind: TaskKind): number {
    return this.#tasks.filter((x) => x.kind === kind && x.state === "running").length;
  }

  /** Running task-seconds so far plus those of tasks still running at `t`. */
  totalTaskSeconds(t: number): number {
    return this.#tasks.reduce(
      (acc, x) => acc + (x.state === "running" ? t - x.startedAt! : 0),
      this.taskSeconds,
    );
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

/** A plant: a metric that the running tasks move. */
export interface Plant {
  readonly name: string;
  /** Advances the plant from `t` by `dt` seconds with the given running counts. */
  step(t: number, dt: number, running: Readonly<Record<TaskKind, number>>): void;
  /** The metric as a sensor would read it now. */
  read(): number;
  /**
   * The plant's exact state now, before rounding and without noise. Only the perfect-knowledge
   * bound reads it; the laws under test see `read()`.
   */
  state(): number;
}

/**
 * A queue: items arrive at `arrivals(t)` per second; each running cooler takes `drain` per second,
 * all of them together at most `maxDrain(t)` (a shared database or a few cores: saturation).
 */
export function queuePlant(
  arrivals: (t: number) => number,
  drain: number,
  initial = 0,
  maxDrain: (t: number) => number = () => Infinity,
): Plant {
  let length = initial;
  return {
    name: "queue",
    step(t, dt, running) {
      const drained = Math.min(drain * running.cooler, maxDrain(t));
      length = Math.max(0, length + (arrivals(t) - drained) * dt);
    },
    read: () => Math.round(length),
    state: () => length,
  };
}

/** A level: the metric is `effect` per running warmer, minus `effect` per running cooler. */
export function levelPlant(effect: number, base = 0): Plant {
  let value = base;
  return {
    name: "level",
    step(_t, _dt, running) {
      value = base + effect * (running.warmer - running.cooler);
    },
    read: () => value,
    state: () => value,
  };
}

/** A CPU-like load above plan: `load(t)` minus `effect` per running cooler, plus noise. */
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
    step(t, _dt, running) {
      exact = load(t) - effect * running.cooler;
      value = exact + noise * gaussian(random);
    },
    read: () => value,
    state: () => exact,
  };
}
