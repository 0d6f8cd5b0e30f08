/**
 * The last stage of every law (adaptive, classic and the benchmark's baselines): the user's
 * limits applied to a move, each cut with its reason code. In order: a kind with no command is
 * not started (`no-kind`); in cooler mode `kill` cooling is by kills of live warmers; at most
 * `--max-tasks-per-tick` starts (`limit-per-tick`) and a hard ceiling even without limits;
 * at most `--max-running` tasks pending or running (`limit-running`). Pure.
 * @module
 */

import { TUNING } from "./tuning.ts";
import type { Cut, Limits, Move, Observation } from "./types.ts";

/** A move after the limits, and the limit that cut it (if one did). */
export type Limited = Cut;

/**
 * Applies the limits to `move`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyFacts } from "./facts.ts";
 * const limits = {
 *   maxPerTick: 5, maxRunning: 0, cooldownUp: 0, cooldownDown: 0, deadband: 0,
 *   coolerMode: "launch" as const, hasWarmer: false, hasCooler: true,
 * };
 * const obs = { t: 0, target: 0, metric: 40, tasks: emptyFacts() };
 * const cut = applyLimits({ type: "start", kind: "cooler", n: 50 }, obs, limits);
 * assert.deepEqual(cut.move, { type: "start", kind: "cooler", n: 5 });
 * ```
 */
export function applyLimits(move: Move, obs: Observation, limits: Limits): Limited {
  switch (move.type) {
    case "wait":
      return { move };
    case "cancel": {
      const n = Math.min(move.n, obs.tasks[move.kind].waiting);
      return { move: n > 0 ? { ...move, n } : { type: "wait" } };
    }
    case "kill": {
      const live = obs.tasks.warmer.running + obs.tasks.warmer.inflight;
      if (limits.coolerMode !== "kill" || !limits.hasWarmer) {
        return { move: { type: "wait" }, code: "no-kind", note: "cooling by kills is off" };
      }
      const n = Math.min(move.n, live);
      return { move: n > 0 ? { type: "kill", n } : { type: "wait" } };
    }
    case "start": {
      const has = move.kind === "warmer"
        ? limits.hasWarmer
        : limits.hasCooler && limits.coolerMode === "launch";
      if (!has) {
        return {
          move: { type: "wait" },
          code: "no-kind",
          note: `no ${move.kind} command to start`,
        };
      }
      let n = Math.min(move.n, TUNING.maxStartsPerTick);
      let cut: Limited | undefined;
      if (limits.maxPerTick > 0 && n > limits.maxPerTick) {
        n = limits.maxPerTick;
        cut = {
          move,
          code: "limit-per-tick",
          note: `--max-tasks-per-tick ${limits.maxPerTick}`,
        };
      }
      if (limits.maxRunning > 0) {
        const { warmer, cooler } = obs.tasks;
        const busy = warmer.running + warmer.inflight + cooler.running + cooler.inflight;
        const room = Math.max(0, limits.maxRunning - busy);
        if (n > room) {
          n = room;
          cut = {
            move,
            code: "limit-running",
            note: `--max-running ${limits.maxRunning} (${busy} pending or running)`,
          };
        }
      }
      const out: Move = n > 0 ? { type: "start", kind: move.kind, n } : { type: "wait" };
      return cut ? { move: out, code: cut.code, note: cut.note } : { move: out };
    }
  }
}
