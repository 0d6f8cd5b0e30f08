/**
 * The benchmark's scenarios in one place: each plant, its task model, its target, how the
 * HPA and KEDA baselines are configured for it, and the plant's true parameters, which only the
 * perfect-knowledge bound may read. The bench and experiments share this list, so a number in
 * RESULTS.md always comes from the same scenario definition.
 * @module
 */

import type { Limits } from "../../lib/control/types.ts";
import { cpuPlant, levelPlant, type Plant, queuePlant, type TaskModel } from "./plants.ts";
import { COOLERS, WARMERS_KILL } from "./limits.ts";
import type { Mapping } from "./baselines.ts";

/** The plant's true parameters, for the perfect-knowledge bound only. */
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

/** One benchmark scenario. */
export interface Scenario {
  readonly name: string;
  /** How HPA and KEDA see this plant, and what one task handles (their configuration). */
  readonly mapping: Mapping;
  readonly perTask: number;
  readonly limits: Limits;
  readonly model: TaskModel;
  readonly plant: (random: () => number) => Plant;
  readonly truth: Truth;
  readonly target: (t: number) => number;
  readonly duration: number;
}

const arrivals = (t: number) => (t < 200 ? 2 : t < 400 ? 8 : 0.5);

/**
 * Every scenario: queue, consumers and cpu with the per-task effect ×1, ×0.1 and ×10 (the
 * laws are not told), then starvation windows on the queue and on the consumer count.
 */
export function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const k of [1, 0.1, 10]) {
    const tag = k === 1 ? "" : ` ×${k}`;
    out.push(queue(`queue${tag}`, k));
    out.push(consumers(`consumers${tag}`, k));
    const load = (t: number) => (t < 300 ? 30 : 10);
    out.push({
      name: `cpu${tag}`,
      mapping: "capacity",
      perTask: 2 * k,
      limits: COOLERS,
      model: { startDelay: 2, life: 20 },
      plant: (r) => cpuPlant(load, 2 * k, 1, r),
      truth: { kind: "cpu", load, effect: 2 * k },
      target: () => 0,
      duration: 600,
    });
  }
  out.push(queue("queue, starved 100-250 s", 1, [[100, 250]]));
  out.push(consumers("consumers, starved 100-250 s", 1, [[100, 250]]));
  return out;
}

function queue(name: string, k: number, starved?: [number, number][]): Scenario {
  return {
    name,
    mapping: "backlog",
    perTask: 5 * k * 10,
    limits: COOLERS,
    model: { startDelay: 3, life: 10, starved },
    plant: () => queuePlant(arrivals, 5 * k),
    truth: { kind: "queue", arrivals, drain: 5 * k },
    target: () => 0,
    duration: 600,
  };
}

function consumers(name: string, k: number, starved?: [number, number][]): Scenario {
  return {
    name,
    mapping: "count",
    perTask: k,
    limits: WARMERS_KILL,
    model: { startDelay: 2, life: "exp:120", starved },
    plant: () => levelPlant(k),
    truth: { kind: "level", effect: k, base: 0 },
    target: (t) => (t < 300 ? 20 * k : 5 * k),
    duration: 600,
  };
}
