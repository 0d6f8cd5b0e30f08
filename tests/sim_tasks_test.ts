import assert from "node:assert/strict";
import {
  levelPlant,
  polledQueuePlant,
  seededRandom,
  SimTasks,
  type TaskModel,
} from "../sim/plants.ts";
import { simulate } from "../sim/simulate.ts";
import type { ControlLaw, Decision } from "../lib/control/types.ts";
import { decide, noAction } from "../lib/control/types.ts";

function tasks(model: TaskModel): SimTasks {
  return new SimTasks(model, seededRandom(1));
}

/** Advances `sim` over [from, to] in 0.1 s steps and returns effective counts at each step. */
function trace(sim: SimTasks, from: number, to: number): { t: number; on: number; run: number }[] {
  const out = [];
  for (let i = Math.round(from * 10); i <= Math.round(to * 10); i++) {
    const t = i / 10;
    sim.advance(t);
    out.push({ t, on: sim.effective("cooler", t), run: sim.running("cooler") });
  }
  return out;
}

/** The point of `points` at time `t` (a multiple of the 0.1 s step). */
function at(points: { t: number; on: number; run: number }[], t: number) {
  return points.find((p) => Math.abs(p.t - t) < 1e-9)!;
}

Deno.test("worker: the effect is on exactly while the process runs", () => {
  const sim = tasks({ startDelay: 2, life: 5 });
  sim.launch("cooler", 1, 0);
  for (const p of trace(sim, 0, 10)) assert.equal(p.on, p.run, `t=${p.t}`);
  assert.equal(sim.totalTaskSeconds(10), 5);
  assert.equal(sim.totalEffectSeconds(10), 5);
});

Deno.test("trigger: the process exits at once, the effect comes later and outlives it", () => {
  const sim = tasks({
    startDelay: 1,
    life: 0.2,
    shape: "trigger",
    effectDelay: 3,
    effectLife: 8,
  });
  sim.launch("cooler", 2, 0);
  const points = trace(sim, 0, 15);
  assert.equal(at(points, 1.1).run, 2, "process runs from 1 s");
  assert.equal(at(points, 1.3).run, 0, "and has exited by 1.2 s");
  assert.equal(at(points, 3.9).on, 0, "no effect before 1 + 3 s");
  assert.equal(at(points, 4).on, 2, "effect from start + effectDelay");
  assert.equal(at(points, 11.9).on, 2);
  assert.equal(at(points, 12).on, 0, "effect lasts effectLife");
  assert.ok(Math.abs(sim.totalTaskSeconds(15) - 0.4) < 1e-9, "task-seconds are process seconds");
  assert.ok(Math.abs(sim.totalEffectSeconds(15) - 16) < 1e-9);
});

Deno.test("trigger: a delay spread draws each task's effect start within [delay, delay + spread)", () => {
  const sim = tasks({
    startDelay: 0,
    life: 0.2,
    shape: "trigger",
    effectDelay: 2,
    effectDelaySpread: 1.5,
    effectLife: 100,
  });
  sim.launch("cooler", 40, 0);
  const points = trace(sim, 0, 5);
  const on = (t: number) => at(points, t).on;
  assert.equal(on(1.9), 0, "no effect before the delay");
  assert.equal(on(3.5), 40, "every effect on by delay + spread");
  // Drawn per task: the effects come on over the spread, not all at one instant.
  const rising = points.filter((p) => p.on > 0 && p.on < 40);
  assert.ok(rising.length >= 10, `effects come on over ${rising.length} steps of 15`);
  assert.ok(on(2.8) > 5 && on(2.8) < 35, `about half on mid-spread (${on(2.8)})`);
});

Deno.test("trigger: killing a finished trigger does nothing; killing a running one stops its effect", () => {
  const sim = tasks({ startDelay: 0, life: 0.5, shape: "trigger", effectDelay: 1, effectLife: 5 });
  sim.launch("cooler", 1, 0);
  sim.advance(0);
  sim.advance(0.6); // the first has exited
  sim.kill("cooler", 1, 0.6);
  sim.launch("cooler", 1, 0.6);
  sim.advance(0.7); // the second is running
  sim.kill("cooler", 1, 0.7);
  sim.advance(2);
  assert.equal(sim.effective("cooler", 2), 1, "only the first acts");
  sim.advance(6.1);
  assert.equal(sim.effective("cooler", 6.1), 0);
});

Deno.test("trigger: random effect lives are drawn per task", () => {
  const sim = tasks({
    startDelay: 0,
    life: 0.2,
    shape: "trigger",
    effectDelay: 0,
    effectLife: "exp:10",
  });
  sim.launch("cooler", 400, 0);
  sim.advance(0);
  sim.advance(10);
  const left = sim.effective("cooler", 10);
  // e^-1 of 400 is 147; a wide band for sampling error.
  assert.ok(left > 110 && left < 185, `${left} effects left after one mean life`);
});

Deno.test("warm-up: the process runs at once but acts only after the warm-up", () => {
  const sim = tasks({ startDelay: 1, life: 10, shape: "warm-up", warmup: 3 });
  sim.launch("cooler", 1, 0);
  const points = trace(sim, 0, 12);
  assert.equal(at(points, 2).run, 1);
  assert.equal(at(points, 3.9).on, 0);
  assert.equal(at(points, 4).on, 1);
  assert.equal(at(points, 10.9).on, 1);
  assert.equal(at(points, 11).on, 0, "ends with the process");
  assert.equal(sim.totalTaskSeconds(12), 10);
  assert.equal(sim.totalEffectSeconds(12), 7);
});

Deno.test("warm-up: a kill ends the effect, before or after the warm-up", () => {
  const sim = tasks({ startDelay: 0, life: Infinity, shape: "warm-up", warmup: 2 });
  sim.launch("cooler", 2, 0);
  sim.advance(0);
  sim.advance(3);
  assert.equal(sim.effective("cooler", 3), 2);
  sim.kill("cooler", 1, 3);
  assert.equal(sim.effective("cooler", 3), 1);
  sim.launch("cooler", 1, 3);
  sim.advance(3.5);
  sim.kill("cooler", 1, 4); // newest, still warming up
  sim.advance(6);
  assert.equal(sim.effective("cooler", 6), 1);
  assert.equal(sim.totalEffectSeconds(6), 1 + 4, "2-3 s for the killed one, 2-6 s for the other");
});

Deno.test("exact(): shows effects and ends that happened, never a random life to come", () => {
  const sim = tasks({ startDelay: 1, life: "exp:50", shape: "warm-up", warmup: 2 });
  sim.launch("cooler", 1, 0);
  sim.advance(0);
  assert.deepEqual(sim.exact(0), [{
    kind: "cooler",
    requestedAt: 0,
    startedAt: undefined,
    processEnded: false,
    effectFrom: undefined,
    effectEnded: false,
  }]);
  sim.advance(1);
  sim.advance(3);
  const [x] = sim.exact(3);
  assert.equal(x.startedAt, 1);
  assert.equal(x.effectFrom, 3);
  assert.equal(Object.keys(x).includes("life"), false);
});

Deno.test("simulate: the plant follows the effects while the law sees processes", () => {
  // Starts one trigger at t = 0 and then waits; the level follows the trigger's effect.
  let first = true;
  const seen: number[] = [];
  const law: ControlLaw = {
    name: "once",
    decide(obs): Decision {
      seen.push(obs.tasks.warmer.running);
      assert.equal(obs.targetAt?.(100), 3, "the target is previewed");
      if (!first) return noAction("wait");
      first = false;
      return decide({ type: "start", kind: "warmer", n: 1 }, "plan", "go");
    },
  };
  const score = simulate({
    law,
    plant: levelPlant(2),
    tasks: tasks({ startDelay: 0.5, life: 0.2, shape: "trigger", effectDelay: 2, effectLife: 5 }),
    target: () => 3,
    duration: 12,
  });
  assert.deepEqual(seen.slice(0, 4), [0, 0, 0, 0], "the process is never seen running at a tick");
  const metric = score.series.map((p) => p.metric);
  assert.deepEqual(metric, [0, 0, 0, 2, 2, 2, 2, 2, 0, 0, 0, 0]);
  assert.equal(score.series[3].effective, 1);
  assert.ok(Math.abs(score.taskSeconds - 0.2) < 1e-9);
  assert.ok(Math.abs(score.effectSeconds - 5) < 1e-9);
});

Deno.test("polled queue: whole items, and a consumer's capacity offered to an empty queue is lost", () => {
  // 3 items/s in whole items every 0.1 s; two consumers of 5/s each poll every 0.1 s.
  for (const readsBeforePoll of [true, false]) {
    const q = polledQueuePlant(() => 3, 5, 0.1, readsBeforePoll);
    q.step(0, 2, { warmer: 0, cooler: 0 });
    assert.equal(q.read(), 6);
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      q.step(2 + i * 0.25, 0.25, { warmer: 0, cooler: 2 });
      if (i >= 8) seen.add(q.read());
    }
    // Drained within 2 s; then an arrival waits at most a poll: read before the poll, the
    // queue shows 0 or 1, after it 0, never a fraction. The spare capacity is not banked.
    assert.deepEqual([...seen].sort(), readsBeforePoll ? [0, 1] : [0]);
    q.step(12, 2, { warmer: 0, cooler: 0 });
    assert.ok(q.read() >= 5, `after 2 s without consumers: ${q.read()}`);
  }
});

Deno.test("polled queue: a reading phase drawn per reading sees the last arrival at some readings only", () => {
  // The same queue read before the poll, after it, and in a phase drawn for each reading.
  const random = seededRandom(7);
  const before = polledQueuePlant(() => 3, 5, 0.1, true);
  const after = polledQueuePlant(() => 3, 5, 0.1, false);
  const drawn = polledQueuePlant(() => 3, 5, 0.1, () => random() < 0.5);
  const ones = { before: [] as number[], after: [] as number[], drawn: [] as number[] };
  for (let i = 0; i < 60; i++) {
    const consumers = i < 4 ? 0 : 2;
    for (const [name, q] of [["before", before], ["after", after], ["drawn", drawn]] as const) {
      q.step(i * 0.5, 0.5, { warmer: 0, cooler: consumers });
      if (i >= 10 && q.read() === 1) ones[name].push(i);
      if (i >= 10) assert.ok(q.read() <= 1, `${name} at ${i}: ${q.read()}`);
    }
  }
  // Drained: read before the poll, the item that came in the last step shows; after it, never;
  // drawn, at some of those readings and only at those.
  assert.equal(ones.after.length, 0);
  assert.ok(ones.before.length >= 10, `${ones.before.length} readings of 1 before the poll`);
  assert.ok(ones.drawn.every((i) => ones.before.includes(i)), `${ones.drawn} in ${ones.before}`);
  assert.ok(ones.drawn.length >= 3 && ones.drawn.length <= ones.before.length - 3, `${ones.drawn}`);
});
