/**
 * Direct tests of `applyLimits` (lib/control/limits.ts), the last stage every law shares: per
 * tick, max running (pending or running), kinds with no command, the kill clamp and the cancel
 * clamp, each cut with its reason code.
 * @module
 */

import assert from "node:assert/strict";
import type { TaskKind } from "../lib/executor/types.ts";
import { applyLimits } from "../lib/control/limits.ts";
import { TUNING } from "../lib/control/tuning.ts";
import type { KindFacts, Limits, Move, Observation } from "../lib/control/types.ts";

const OPEN: Limits = {
  maxPerTick: 0,
  maxRunning: 0,
  cooldownUp: 0,
  cooldownDown: 0,
  deadband: 0,
  coolerMode: "launch",
  hasWarmer: true,
  hasCooler: true,
};

function kind(running: number, inflight = 0, waiting = 0): KindFacts {
  return {
    inflight,
    waiting,
    longestWait: 0,
    running,
    runningAges: Array.from({ length: running }, (_, i) => i + 1),
    startDelays: [],
    lifetimes: [],
    recentFailures: 0,
  };
}

function obs(
  tasks: Partial<Record<TaskKind, KindFacts>> = {},
): Observation {
  return {
    t: 100,
    target: 10,
    metric: 5,
    tasks: { warmer: tasks.warmer ?? kind(0), cooler: tasks.cooler ?? kind(0) },
  };
}

const start = (k: TaskKind, n: number): Move => ({ type: "start", kind: k, n });

Deno.test("applyLimits: wait passes, and a start within every limit is unchanged with no code", () => {
  assert.deepEqual(applyLimits({ type: "wait" }, obs(), OPEN), { move: { type: "wait" } });
  const limits = { ...OPEN, maxPerTick: 5, maxRunning: 10 };
  assert.deepEqual(applyLimits(start("warmer", 3), obs({ warmer: kind(4) }), limits), {
    move: start("warmer", 3),
  });
  assert.deepEqual(applyLimits(start("cooler", 5), obs(), limits), { move: start("cooler", 5) });
});

Deno.test("applyLimits: --max-tasks-per-tick cuts a start to the limit", () => {
  const r = applyLimits(start("cooler", 50), obs(), { ...OPEN, maxPerTick: 5 });
  assert.deepEqual(r.move, start("cooler", 5));
  assert.equal(r.code, "limit-per-tick");
  assert.match(r.note ?? "", /--max-tasks-per-tick 5/);
});

Deno.test("applyLimits: with no limits a start is still capped at the hard ceiling", () => {
  const r = applyLimits(start("warmer", 10 * TUNING.maxStartsPerTick), obs(), OPEN);
  assert.deepEqual(r.move, start("warmer", TUNING.maxStartsPerTick));
});

Deno.test("applyLimits: --max-running counts pending and running tasks of both kinds", () => {
  const limits = { ...OPEN, maxRunning: 10 };
  // 3 + 1 warmers and 2 + 2 coolers busy: room for 2.
  const busy = obs({ warmer: kind(3, 1, 0), cooler: kind(2, 2, 1) });
  const r = applyLimits(start("warmer", 5), busy, limits);
  assert.deepEqual(r.move, start("warmer", 2));
  assert.equal(r.code, "limit-running");
  assert.match(r.note ?? "", /--max-running 10 \(8 pending or running\)/);
  // Full (or over): no start at all, said as the limit.
  const full = applyLimits(start("cooler", 1), obs({ warmer: kind(10) }), limits);
  assert.deepEqual(full.move, { type: "wait" });
  assert.equal(full.code, "limit-running");
  const over = applyLimits(start("cooler", 1), obs({ cooler: kind(12) }), limits);
  assert.deepEqual(over.move, { type: "wait" });
});

Deno.test("applyLimits: both limits: the tighter one cuts and names itself", () => {
  const limits = { ...OPEN, maxPerTick: 5, maxRunning: 10 };
  const r = applyLimits(start("warmer", 50), obs({ warmer: kind(7) }), limits);
  assert.deepEqual(r.move, start("warmer", 3));
  assert.equal(r.code, "limit-running");
  const r2 = applyLimits(start("warmer", 50), obs({ warmer: kind(1) }), limits);
  assert.deepEqual(r2.move, start("warmer", 5));
  assert.equal(r2.code, "limit-per-tick");
});

Deno.test("applyLimits: a kind with no command is not started (no-kind)", () => {
  const noWarmer = applyLimits(start("warmer", 2), obs(), { ...OPEN, hasWarmer: false });
  assert.deepEqual(noWarmer.move, { type: "wait" });
  assert.equal(noWarmer.code, "no-kind");
  const noCooler = applyLimits(start("cooler", 2), obs(), { ...OPEN, hasCooler: false });
  assert.deepEqual(noCooler.move, { type: "wait" });
  assert.equal(noCooler.code, "no-kind");
  // In cooler mode kill, cooling is by kills: coolers are never launched.
  const killMode = applyLimits(start("cooler", 2), obs(), { ...OPEN, coolerMode: "kill" });
  assert.deepEqual(killMode.move, { type: "wait" });
  assert.equal(killMode.code, "no-kind");
  // Warmers still start in kill mode.
  assert.deepEqual(
    applyLimits(start("warmer", 2), obs(), { ...OPEN, coolerMode: "kill" }).move,
    start("warmer", 2),
  );
});

Deno.test("applyLimits: kills only in kill mode with a warmer, at most the live warmers", () => {
  const killMode = { ...OPEN, coolerMode: "kill" as const, hasCooler: false };
  const live = obs({ warmer: kind(3, 1, 1) });
  assert.deepEqual(applyLimits({ type: "kill", n: 2 }, live, killMode), {
    move: { type: "kill", n: 2 },
  });
  // Clamped to running + in flight.
  assert.deepEqual(applyLimits({ type: "kill", n: 10 }, live, killMode).move, {
    type: "kill",
    n: 4,
  });
  const launch = applyLimits({ type: "kill", n: 2 }, live, OPEN);
  assert.deepEqual(launch.move, { type: "wait" });
  assert.equal(launch.code, "no-kind");
  const noWarmer = applyLimits({ type: "kill", n: 2 }, live, { ...killMode, hasWarmer: false });
  assert.deepEqual(noWarmer.move, { type: "wait" });
  assert.equal(noWarmer.code, "no-kind");
});

Deno.test("applyLimits: cancels are clamped to the tasks still waiting", () => {
  const o = obs({ cooler: kind(2, 4, 3) });
  assert.deepEqual(applyLimits({ type: "cancel", kind: "cooler", n: 2 }, o, OPEN).move, {
    type: "cancel",
    kind: "cooler",
    n: 2,
  });
  assert.deepEqual(applyLimits({ type: "cancel", kind: "cooler", n: 9 }, o, OPEN).move, {
    type: "cancel",
    kind: "cooler",
    n: 3,
  });
});

// Like a start, a kill or cancel clamped to nothing is a wait: adaptive.ts starts a cooldown
// after any move that is not a wait, so a kill of no warmer must not start --cooldown-down.
Deno.test({
  name: "applyLimits: a kill or cancel clamped to nothing is a wait",
  fn() {
    const killMode = { ...OPEN, coolerMode: "kill" as const, hasCooler: false };
    assert.deepEqual(applyLimits({ type: "kill", n: 3 }, obs(), killMode).move, {
      type: "wait",
    });
    assert.deepEqual(
      applyLimits({ type: "cancel", kind: "warmer", n: 3 }, obs({ warmer: kind(0, 2, 0) }), OPEN)
        .move,
      { type: "wait" },
    );
  },
});
