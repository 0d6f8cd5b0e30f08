/**
 * Placement constraints in Marathon's vocabulary (`--mesos-constraint FIELD:OP[:ARG]`), read from
 * an offer's hostname (field `hostname`) and its agent's attributes (any other field). Pure: the
 * parser says exactly what is wrong with a constraint, and {@linkcode admits} decides one task for
 * one offer from the counts of where that kind's tasks already are.
 *
 * Operators, for a task of one kind (warmers and coolers are placed independently, as two
 * Marathon apps would be):
 * - `UNIQUE`: no two tasks on the same value (`hostname:UNIQUE`: one per host);
 * - `MAX_PER:N`: at most N tasks per value;
 * - `LIKE:REGEX` / `UNLIKE:REGEX`: the value matches (does not match) the whole regex;
 * - `CLUSTER:VALUE`: only on that value; `CLUSTER` alone: on the value the first task got;
 * - `GROUP_BY[:N]`: spread evenly: only on a value with the fewest tasks, counting N values
 *   (values not seen yet have none) when N is given, else the values seen so far.
 *
 * An offer without the field (an agent lacking the attribute) admits nothing, except for UNLIKE.
 * @module
 */

import type { Constraint } from "../specs/constraint.ts";
import type { Offer } from "./messages.ts";

/** What constraints read of an offer (kept with each task placed by one). */
export type Place = Pick<Offer, "hostname" | "attributes">;

/** Where a kind's live tasks are: field → value → tasks. */
export type PlacementCounts = Map<string, Map<string, number>>;

/**
 * The value of `field` for an offer: its hostname, or its agent's attribute of that name (TEXT as
 * is, SCALAR as its number, SET as `{a,b}`, RANGES as `[1-2,5-6]`), or undefined.
 */
export function fieldValue(offer: Place, field: string): string | undefined {
  if (field === "hostname") return offer.hostname;
  const a = offer.attributes?.find((x) => x.name === field);
  if (!a) return undefined;
  switch (a.type) {
    case "TEXT":
      return a.text?.value;
    case "SCALAR":
      return a.scalar === undefined ? undefined : String(a.scalar.value);
    case "SET":
      return `{${(a.set?.item ?? []).join(",")}}`;
    case "RANGES":
      return `[${(a.ranges?.range ?? []).map((r) => `${r.begin}-${r.end}`).join(",")}]`;
  }
}

/** Whether every constraint admits one more task (of a kind with `counts`) in this offer. */
export function admits(
  constraints: readonly Constraint[],
  offer: Place,
  counts: PlacementCounts,
): boolean {
  for (const c of constraints) {
    const value = fieldValue(offer, c.field);
    if (c.op === "UNLIKE") {
      if (value !== undefined && c.regex!.test(value)) return false;
      continue;
    }
    if (value === undefined) return false;
    const seen = counts.get(c.field);
    const here = seen?.get(value) ?? 0;
    switch (c.op) {
      case "UNIQUE":
        if (here >= 1) return false;
        break;
      case "MAX_PER":
        if (here >= c.n!) return false;
        break;
      case "LIKE":
        if (!c.regex!.test(value)) return false;
        break;
      case "CLUSTER": {
        if (c.value !== undefined) {
          if (value !== c.value) return false;
        } else if (seen && [...seen].some(([v, n]) => n > 0 && v !== value)) return false;
        break;
      }
      case "GROUP_BY": {
        const others = [...(seen?.values() ?? [])].filter((n) => n > 0);
        // Values not seen yet count as empty groups: with N groups, while fewer than N are used.
        const fewest = c.n !== undefined && others.length < c.n
          ? 0
          : Math.min(...others, seen?.has(value) ? Infinity : 0);
        if (here > fewest) return false;
        break;
      }
    }
  }
  return true;
}

/** Records one more task at this offer's values of the constraints' fields. */
export function place(constraints: readonly Constraint[], offer: Place, counts: PlacementCounts) {
  for (const field of new Set(constraints.map((c) => c.field))) {
    const value = fieldValue(offer, field);
    if (value === undefined) continue;
    const m = counts.get(field) ?? new Map<string, number>();
    m.set(value, (m.get(value) ?? 0) + 1);
    counts.set(field, m);
  }
}
