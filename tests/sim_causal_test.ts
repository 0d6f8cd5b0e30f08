import assert from "node:assert/strict";
import { BoundLaw, type BoundSetup } from "../sim/bound.ts";
import { CausalLaw } from "../sim/causal.ts";
import { COOLERS, WARMERS_KILL } from "../sim/limits.ts";
import { levelPlant, queuePlant, seededRandom, SimTasks, type TaskModel } from "../sim/plants.ts";
import type { Truth } from "../sim/scenarios.ts";
import { type SimScore, simulate } from "../sim/simulate.ts";

type Ref = "bound" | "causal";

function queueRun(
  ref: Ref,
  model: TaskModel,
  arrivals: (t: number) => number,
  drain: number,
  maxDrain?: (t: number) => number,
  duration = 300,
): SimScore {
  const plant = queuePlant(arrivals, drain, 0, maxDrain);
  const tasks = new SimTasks(model, seededRandom(3));
  const truth: Truth = { kind: "queue", arrivals, drain, maxDrain };
  const setup: BoundSetup = { truth, model, target: () => 0, plant, tasks, limits: COOLERS };
  const law = ref === "bound" ? new BoundLaw(setup) : new CausalLaw(setup);
  return simulate({ law, plant, tasks, target: () => 0, duration });
}

const TRIGGER: TaskModel = {
  startDelay: 1.5,
  life: 0.2,
  shape: "trigger",
  effectDelay: 3,
  effectLife: 12,
};

Deno.test("causal = bound when nothing changes: constant arrivals, no starvation", () => {
  for (const model of [{ startDelay: 3, life: 10 }, TRIGGER]) {
    const b = queueRun("bound", model, () => 4, 5);
    const c = queueRun("causal", model, () => 4, 5);
    assert.equal(c.iae, b.iae);
    assert.equal(c.taskSeconds, b.taskSeconds);
  }
});

Deno.test("causal on a trigger queue: holds it at the queue one dead time leaves, with the consumers it needs", () => {
  // 4 items/s, 5 per consumer: one whole consumer acting at all times, 12 s each, so 25
  // triggers in 300 s, plus the four extra that drain the first backlog.
  const c = queueRun("causal", TRIGGER, () => 4, 5);
  const tail = c.series.slice(60);
  const mean = tail.reduce((a, p) => a + p.metric, 0) / tail.length;
  // Dead time from request to effect is 4.5 s: about 18 items pile up before the first acts;
  // after that a whole consumer (5/s) outruns 4/s and the queue stays near empty.
  assert.ok(mean < 1, `mean queue ${mean.toFixed(2)} after the first minute`);
  assert.ok(c.tasksStarted >= 25 && c.tasksStarted <= 32, `${c.tasksStarted} triggers`);
});

Deno.test("causal does not see a step in the arrivals coming; the bound does", () => {
  const arrivals = (t: number) => (t < 100 ? 2 : 8);
  const b = queueRun("bound", { startDelay: 3, life: 10 }, arrivals, 5);
  const c = queueRun("causal", { startDelay: 3, life: 10 }, arrivals, 5);
  assert.ok(c.iae > b.iae, `causal ${c.iae.toFixed(0)} vs bound ${b.iae.toFixed(0)}`);
});

Deno.test("causal under a drain cap: no more consumers than the cap can use", () => {
  // Cap 6/s, 5 per consumer: two consumers use the cap; arrivals of 8/s cannot be met.
  const model = { startDelay: 3, life: 10 };
  const c = queueRun("causal", model, () => 8, 5, () => 6, 200);
  const most = Math.max(...c.series.map((p) => p.effective));
  assert.ok(most <= 2, `${most} consumers at once`);
  assert.ok(c.series.at(-1)!.metric > 300, "the queue grows by 2/s whatever is done");
});

Deno.test("starvation: the bound stocks up before a window; causal does not know it comes", () => {
  const model = { startDelay: 3, life: 10, starved: [[100, 150]] as [number, number][] };
  const b = queueRun("bound", model, () => 2, 5);
  const c = queueRun("causal", model, () => 2, 5);
  const launchedBefore = (s: SimScore) =>
    s.series.filter((p) => p.t >= 90 && p.t < 97)
      .reduce((a, p) => a + (p.decision?.coolers ?? 0), 0);
  assert.ok(launchedBefore(b) > launchedBefore(c), "the bound launches ahead of the window");
});

Deno.test("causal on a warm-up consumer count: reaches the target and kills on the way down", () => {
  const model: TaskModel = { startDelay: 2, life: Infinity, shape: "warm-up", warmup: 3 };
  const plant = levelPlant(1);
  const tasks = new SimTasks(model, seededRandom(3));
  const target = (t: number) => (t < 100 ? 10 : 4);
  const truth: Truth = { kind: "level", effect: 1, base: 0 };
  const law = new CausalLaw({ truth, model, target, plant, tasks, limits: WARMERS_KILL });
  const s = simulate({ law, plant, tasks, target, duration: 200 });
  assert.equal(s.series[4].metric, 0, "nothing acts before start delay + warm-up");
  assert.equal(s.series[5].metric, 10, "all ten act together at 5 s");
  assert.equal(s.tasksStarted, 10, "no more launched than needed");
  assert.equal(s.series[101].metric, 4, "killed at once when the target drops");
  assert.equal(s.maxOvershoot, 0);
});
