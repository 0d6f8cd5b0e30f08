/**
 * Offer packing: which of our waiting tasks go into which resource offer, with which exact
 * resources. Pure, so the rules are tested directly: same-named scalar resources of an offer are
 * summed across its roles, reservations and disks, each task takes its share from specific offer
 * resources, and offers that fit nothing are declined.
 *
 * Containment, as the master checks it: a task's share of an offered resource repeats every field
 * of it but the `scalar` (role, `allocation_info`, `reservation` / `reservations`, `disk` with its
 * source, `revocable`, `provider_id`), so the master finds it inside the offer; a MOUNT disk is
 * taken whole or not at all; persistent volumes, shared resources and BLOCK / RAW disks are never
 * taken.
 * @module
 */

import type { Offer, Resource } from "./messages.ts";

/** What one task needs. Zero means "none of it". */
export interface TaskResources {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly gpus: number;
}

/** One offer's share of the packing. */
export interface OfferPlan {
  readonly offer: Offer;
  /**
   * Resources for each task placed in this offer (one entry per task). Tasks that take the same
   * shares share the objects (the list and its resources): the packing is read-only.
   */
  readonly tasks: Resource[][];
  /** Which of the wanted tasks (0-based, in asking order) each entry of `tasks` is. */
  readonly indices: number[];
}

/**
 * Placement rules for {@linkcode packOffers}: whether an offer may take wanted task `task`, and
 * the news that it did (so the next decision counts it).
 */
export interface PlacementHook {
  admits(offer: Offer, task: number): boolean;
  placed(offer: Offer, task: number): void;
}

/** The result of packing a batch of offers. */
export interface Packing {
  /** Offers that take at least one task: ACCEPT with LAUNCH. */
  readonly accept: OfferPlan[];
  /** Offers that take nothing: DECLINE. */
  readonly decline: Offer[];
}

const NAMES = ["cpus", "mem", "disk", "gpus"] as const;

/** Mesos keeps scalars to three decimals; so do we, to avoid asking for 0.30000000000000004. */
function fixed(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Parses `cpus=0.1,mem=64,disk=0,gpus=0` (missing names are 0; at least cpus or mem must be > 0).
 *
 * @example
 * ```ts
 * parseTaskResources("cpus=0.5,mem=128"); // { cpus: 0.5, mem: 128, disk: 0, gpus: 0 }
 * ```
 */
export function parseTaskResources(text: string): TaskResources {
  const out = { cpus: 0, mem: 0, disk: 0, gpus: 0 };
  const seen = new Set<string>();
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^([a-z]+)=(\d+(?:\.\d+)?)$/);
    if (!m) throw new Error(`expected NAME=NUMBER, got "${part}"`);
    const name = m[1] as (typeof NAMES)[number];
    if (!NAMES.includes(name)) {
      throw new Error(`unknown resource "${m[1]}" (expected cpus, mem, disk, gpus)`);
    }
    if (seen.has(name)) throw new Error(`"${name}" given twice`);
    seen.add(name);
    out[name] = Number(m[2]);
  }
  if (out.cpus <= 0 && out.mem <= 0) throw new Error("a task needs cpus or mem > 0");
  return out;
}

/** Sum of the offer's scalar resources by name (all roles together). */
export function offerTotals(offer: Offer): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const r of offer.resources) {
    if (r.type !== "SCALAR" || !r.scalar) continue;
    totals[r.name] = fixed((totals[r.name] ?? 0) + r.scalar.value);
  }
  return totals;
}

/**
 * Places up to `wanted` tasks into `offers`, first offer first, as many per offer as fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const scalar = (name: string, value: number) => ({ name, type: "SCALAR" as const, scalar: { value } });
 * const offer = (id: string, cpus: number) => ({
 *   id: { value: id },
 *   framework_id: { value: "fw" },
 *   agent_id: { value: `agent-${id}` },
 *   hostname: `host-${id}`,
 *   resources: [scalar("cpus", cpus), scalar("mem", 1024)],
 * });
 * const need = { cpus: 1, mem: 128, disk: 0, gpus: 0 };
 * const { accept, decline } = packOffers([offer("a", 2), offer("b", 4)], 3, need);
 * assert.deepEqual(accept.map((plan) => plan.tasks.length), [2, 1]); // 2 fit in the first
 * assert.deepEqual(decline, []);
 * ```
 */
export function packOffers(
  offers: readonly Offer[],
  wanted: number,
  need: TaskResources,
  placement?: PlacementHook,
): Packing {
  const accept: OfferPlan[] = [];
  const decline: Offer[] = [];
  let left = wanted;
  let next = 0;
  // With placement rules, a task an offer does not admit waits for a later offer.
  const unplaced = placement ? Array.from({ length: wanted }, (_, i) => i) : [];
  for (const offer of offers) {
    // Once every task is placed, the rest are declined without looking at their resources.
    if (left === 0) {
      decline.push(offer);
      continue;
    }
    const pool: PoolEntry[] = [];
    for (const r of offer.resources) {
      if (r.type === "SCALAR" && r.scalar && r.scalar.value > 0 && usable(r)) {
        pool.push({
          resource: r,
          name: r.name,
          free: r.scalar.value,
          whole: indivisible(r),
          rest: undefined,
          last: undefined,
        });
      }
    }
    const tasks: Resource[][] = [];
    const indices: number[] = [];
    const scratch: Resource[] = [];
    while (left > 0) {
      let index: number;
      if (placement) {
        const k = unplaced.findIndex((i) => placement.admits(offer, i));
        if (k < 0 || !take(pool, need, scratch)) break;
        index = unplaced.splice(k, 1)[0];
        placement.placed(offer, index);
      } else {
        if (!take(pool, need, scratch)) break;
        index = next++;
      }
      // A task taking the same resources as the one before shares its list.
      const previous = tasks[tasks.length - 1];
      tasks.push(previous && sameItems(previous, scratch) ? previous : scratch.slice());
      indices.push(index);
      left--;
    }
    if (tasks.length > 0) accept.push({ offer, tasks, indices });
    else decline.push(offer);
  }
  return { accept, decline };
}

/** One scalar resource of an offer and how much of it is still free. */
interface PoolEntry {
  readonly resource: Resource;
  readonly name: string;
  free: number;
  /** Taken all at once or not at all (a MOUNT disk). */
  readonly whole: boolean;
  /** The resource without its `scalar`, made once per offer when first taken from. */
  rest: Omit<Resource, "scalar"> | undefined;
  /** The last share taken from it, reused by the next task taking the same amount. */
  last: Resource | undefined;
}

/**
 * Whether a task may take from this offered resource: not a persistent volume (someone's data),
 * not shared (offered only to SHARED_RESOURCES frameworks, which we are not), and not a BLOCK or
 * RAW disk (those need operations before a task can use them).
 */
function usable(r: Resource): boolean {
  if (r.shared !== undefined || r.disk?.persistence !== undefined) return false;
  const source = r.disk?.source?.type;
  return source === undefined || source === "PATH" || source === "MOUNT";
}

/** A MOUNT disk cannot be split: a master refuses a task holding part of one. */
function indivisible(r: Resource): boolean {
  return r.disk?.source?.type === "MOUNT";
}

function sameItems(a: readonly Resource[], b: readonly Resource[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Takes one task's resources from the pool into `out` (emptied first), or returns false (pool
 * unchanged) if short.
 */
function take(pool: PoolEntry[], need: TaskResources, out: Resource[]): boolean {
  for (const name of NAMES) {
    if (need[name] <= 0) continue;
    let free = 0;
    for (const p of pool) if (p.name === name) free += p.free;
    if (fixed(free) < need[name]) return false;
  }
  out.length = 0;
  for (const name of NAMES) {
    let still = need[name];
    for (const p of pool) {
      if (still <= 0) break;
      if (p.name !== name || p.free <= 0) continue;
      const amount = p.whole ? p.free : fixed(Math.min(p.free, still));
      p.free = fixed(p.free - amount);
      still = Math.max(0, fixed(still - amount));
      if (p.last === undefined || p.last.scalar!.value !== amount) {
        if (p.rest === undefined) {
          const { scalar: _scalar, ...rest } = p.resource;
          p.rest = rest;
        }
        p.last = { ...p.rest, scalar: { value: amount } } as Resource;
      }
      out.push(p.last);
    }
  }
  return true;
}
