/**
 * The guards between a plan and the limits, each a named rule with its reason code:
 *
 * - `deadband`: inside `--deadband` of the target nothing is done;
 * - `wrong-sign`: a kind learned to move the metric the wrong way (a warmer that lowers it) is
 *   no longer started, and said once;
 * - `exploring`: while a kind's gain is not known, its starts per tick grow by half of those of
 *   the last effect window (one at first; one probe per probe gap while the tasks do not seem
 *   to help): a ramp on starts, not on running counts, so a trigger whose process ends at once
 *   still ramps up (the rule itself is in adaptive.ts; `exploreCap` gives the growth);
 * - `saturated`: when more tasks stopped moving the metric (the gain fell to a small share of
 *   the strongest gain learned lately, with several acting), the count is held;
 *   a probe now and then allows a few more; when the hold's own samples show the extra tasks
 *   helping as a known gain would (whatever the model still says), the held count grows by a
 *   probe's worth; the hold ends when a known gain comes back or the metric crosses the target;
 * - `no-room`: while a task of a kind waits for room (an offer, a slot) clearly longer than a
 *   start takes when there is room, no more of that kind are asked for: they would wait
 *   behind it, and a plan that takes each for a start soon would ask again every tick;
 * - `cooldown`: `--cooldown-up` after warming, `--cooldown-down` after cooling.
 *
 * Pure state machines: the caller passes times.
 * @module
 */

import type { TaskKind } from "../executor/types.ts";
import { TUNING } from "./tuning.ts";
import type { Cut, KindFacts, Limits, Move } from "./types.ts";

/** A guard's cut of a move (the same shape as the limits stage's). */
export type Guarded = Cut;

/** Whether a move warms (raises the metric) or cools it, given the kinds' gains' signs. */
function direction(move: Move): "up" | "down" | undefined {
  switch (move.type) {
    case "start":
      return move.kind === "warmer" ? "up" : "down";
    case "kill":
      return "down";
    default:
      return undefined;
  }
}

/**
 * Nothing is done while |error| ≤ deadband.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(deadband({ type: "start", kind: "warmer", n: 2 }, 0.5, 1).code, "deadband");
 * ```
 */
export function deadband(move: Move, error: number, band: number): Guarded {
  if (band > 0 && Math.abs(error) <= band && move.type !== "wait") {
    return {
      move: { type: "wait" },
      code: "deadband",
      note: `|error| ${round(Math.abs(error))} within --deadband ${band}`,
    };
  }
  return { move };
}

/**
 * No starts of a kind while one of it waits and the kind is short of room: that one, or the
 * kind's latest start, waited longer than `roomWaitFactor` times the quickest recent start of
 * the kind, plus a tick (the executor had its chances to place it). With no start seen yet, a
 * wait of more than a tick counts. The latest start is evidence too: in a cluster with room for
 * one, each task waits for the one before it to end, and a wait not yet long says nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyFacts } from "./facts.ts";
 * // One warmer has waited 3 s for an offer where starts took 0.1 s: the next would wait too.
 * const waitingOne = { inflight: 1, waiting: 1, longestWait: 3, startDelays: [0.1] };
 * const facts = { ...emptyFacts().warmer, ...waitingOne };
 * const g = waitingForRoom({ type: "start", kind: "warmer", n: 1 }, facts, 0.5);
 * assert.equal(g.code, "no-room");
 * ```
 */
export function waitingForRoom(move: Move, facts: KindFacts, dt: number): Guarded {
  if (move.type !== "start" || facts.waiting === 0) return { move };
  const delays = facts.startDelays;
  const quickest = delays.length > 0 ? delays.reduce((a, b) => Math.min(a, b), Infinity) : 0;
  const limit = TUNING.roomWaitFactor * quickest + dt;
  const latest = delays.at(-1) ?? 0;
  if (facts.longestWait <= limit && latest <= limit) return { move };
  const evidence = facts.longestWait > limit
    ? `a ${move.kind} asked for ${round(facts.longestWait)} s ago still waits`
    : `the last ${move.kind} waited ${round(latest)} s to start, and another waits now`;
  return {
    move: { type: "wait" },
    code: "no-room",
    note: `${evidence} for room (an offer or a slot, where starts can take ` +
      `${round(quickest)} s): more would wait behind it`,
  };
}

/** `--cooldown-up` and `--cooldown-down`. */
export class Cooldowns {
  #lastUp = -Infinity;
  #lastDown = -Infinity;
  constructor(readonly limits: Pick<Limits, "cooldownUp" | "cooldownDown">) {}

  check(move: Move, t: number): Guarded {
    const dir = direction(move);
    if (dir === "up" && t - this.#lastUp < this.limits.cooldownUp) {
      return {
        move: { type: "wait" },
        code: "cooldown",
        note: `--cooldown-up ${this.limits.cooldownUp}s`,
      };
    }
    if (dir === "down" && t - this.#lastDown < this.limits.cooldownDown) {
      return {
        move: { type: "wait" },
        code: "cooldown",
        note: `--cooldown-down ${this.limits.cooldownDown}s`,
      };
    }
    return { move };
  }

  /** Records a move that was carried out. */
  done(move: Move, t: number): void {
    const dir = direction(move);
    if (dir === "up") this.#lastUp = t;
    if (dir === "down") this.#lastDown = t;
  }
}

/**
 * The exploration cap: while a kind's gain is unknown, at most max(first, share × starts of the
 * last window) starts of it per tick, the share being what makes the total grow by
 * `exploreGrowth` per second whatever the tick (`dt` seconds): ticks twice as fast do not
 * explore twice as fast.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(exploreCap(0, 1), 1);
 * assert.equal(exploreCap(3, 1), 2); // half as many again, rounded up
 * assert.equal(exploreCap(3, 0.5), 1); // a quarter as many again per half-second tick
 * ```
 */
export function exploreCap(recentStarts: number, dt: number): number {
  const share = Math.pow(1 + TUNING.exploreGrowth, Math.max(dt, 0)) - 1;
  return Math.max(TUNING.exploreFirst, Math.ceil(share * recentStarts));
}

interface Hold {
  /** Tasks of the kind held (running + in flight) when saturation was seen. */
  count: number;
  /** When the last probe was allowed. */
  lastProbe: number;
  /** Sign of the error when the hold began. */
  errorSign: number;
  /** When the held count was last set (its own evidence is what came after). */
  raisedAt: number;
  /** The error and the kind's tasks at each sample of the hold (the probes' evidence). */
  readonly seen: { t: number; error: number; tasks: number }[];
}

/**
 * How much one more task of a held kind helps, as the hold's own samples say (the caller keeps
 * two probe gaps of them): the least-squares slope of what moves the error towards the target
 * (on a rate its change per second, on a level the error itself) against the count of the
 * kind's tasks, in the model's gain units, with its standard error; undefined with fewer than
 * `saturationEvidenceSamples` samples or while the count has not varied.
 */
function helpPerTask(
  seen: readonly { t: number; error: number; tasks: number }[],
  shape: string,
  errorSign: number,
): { slope: number; se: number } | undefined {
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  for (let i = 1; i < seen.length; i++) {
    const a = seen[i - 1], b = seen[i];
    if (b.t <= a.t) continue;
    // Towards the target is against the error's sign when the hold began.
    const y = -errorSign * (shape === "rate" ? (b.error - a.error) / (b.t - a.t) : b.error);
    const x = shape === "rate" ? (a.tasks + b.tasks) / 2 : b.tasks;
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
  }
  if (n < TUNING.saturationEvidenceSamples) return undefined;
  const varX = sxx - (sx * sx) / n;
  if (!(varX > 1e-9)) return undefined;
  const slope = (sxy - (sx * sy) / n) / varX;
  // Its standard error, from the residuals about the fitted line.
  const varY = syy - (sy * sy) / n;
  const residual = Math.max(0, varY - slope * slope * varX) / (n - 2);
  return { slope, se: Math.sqrt(residual / varX) };
}

/** The saturation guard's per-kind state. */
export class SaturationGuard {
  readonly #peak: Record<TaskKind, { value: number; t: number }> = {
    warmer: { value: 0, t: 0 },
    cooler: { value: 0, t: 0 },
  };
  readonly #holds = new Map<TaskKind, Hold>();
  readonly #model: Record<TaskKind, string> = { warmer: "", cooler: "" };

  /**
   * Feeds the kind's gain magnitude (towards its expected direction) and its uncertainty.
   * Returns true when the kind has just been found saturated (to be said once).
   */
  observe(
    kind: TaskKind,
    t: number,
    model: string,
    magnitude: number,
    known: boolean,
    tasks: number,
    error: number,
  ): boolean {
    // Gains of the two shapes are in different units: a change of shape starts a new peak.
    if (this.#model[kind] !== model) {
      this.#model[kind] = model;
      this.#peak[kind] = { value: 0, t };
      this.#holds.delete(kind);
    }
    const peak = this.#peak[kind];
    const decayed = peak.value * Math.pow(0.5, (t - peak.t) / TUNING.peakHalfLife);
    if (known && magnitude > decayed) this.#peak[kind] = { value: magnitude, t };
    else this.#peak[kind] = { value: decayed, t };
    const hold = this.#holds.get(kind);
    // Only against a gain once known: a gain never known is the exploration's business.
    const reference = this.#peak[kind].value;
    // The mean, not its optimistic end: with the ramp the count grows by at most a doubling
    // per tick, and an unsure gain near zero must not let it grow for long.
    const collapsed = reference > 0 && magnitude < TUNING.saturationShare * reference;
    if (hold) {
      // The gain comes back only as a known one: a model that knows nothing of it yet (a
      // newly chosen input) does not show that more tasks help again.
      if ((known && !collapsed) || Math.sign(error) !== hold.errorSign || error === 0) {
        this.#holds.delete(kind);
        return false;
      }
      // The probes' own evidence: a gain learned while the tasks could not help (a capped
      // drain) may be held with confidence long after the cap lifted, and more of the
      // drift then explains what the probes do. When the hold's samples say the extra tasks
      // help as a known gain would, the held count grows.
      hold.seen.push({ t, error, tasks });
      const window = 2 * TUNING.probeEvery;
      while (hold.seen.length > 0 && hold.seen[0].t < t - window) hold.seen.shift();
      let fresh = 0;
      for (const x of hold.seen) if (x.t > hold.raisedAt) fresh++;
      const help = fresh >= TUNING.saturationEvidenceSamples
        ? helpPerTask(hold.seen, model, hold.errorSign)
        : undefined;
      // Help as a known gain's, at the slope's lower end: noise is not help.
      const least = help === undefined ? 0 : help.slope - TUNING.saturationEvidenceSigmas * help.se;
      if (least >= TUNING.saturationShare * reference && reference > 0) {
        // Raised by a probe's worth, and the next raise waits for its own evidence.
        hold.count = Math.ceil(Math.max(hold.count, tasks) * TUNING.probeFactor);
        hold.raisedAt = t;
        hold.lastProbe = t;
      }
      return false;
    }
    if (collapsed && tasks >= TUNING.saturationMinTasks && error !== 0) {
      this.#holds.set(kind, {
        count: tasks,
        lastProbe: t,
        raisedAt: t,
        errorSign: Math.sign(error),
        seen: [{ t, error, tasks }],
      });
      return true;
    }
    return false;
  }

  /** True while the kind is held. */
  holding(kind: TaskKind): boolean {
    return this.#holds.has(kind);
  }

  /** Caps starts of a held kind: up to the held count, or a probe's worth now and then. */
  check(move: Move, t: number, tasksOf: (kind: TaskKind) => number): Guarded {
    if (move.type !== "start") return { move };
    const hold = this.#holds.get(move.kind);
    if (!hold) return { move };
    const probing = t - hold.lastProbe >= TUNING.probeEvery;
    const allowed = probing ? Math.ceil(hold.count * TUNING.probeFactor) : hold.count;
    const room = Math.max(0, allowed - tasksOf(move.kind));
    if (probing && room > 0) hold.lastProbe = t;
    if (move.n <= room) return { move };
    const n = room;
    return {
      move: n > 0 ? { ...move, n } : { type: "wait" },
      code: "saturated",
      note: `more ${move.kind}s stopped moving the metric: held at ${allowed}${
        probing ? " (probe)" : ""
      }`,
    };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
