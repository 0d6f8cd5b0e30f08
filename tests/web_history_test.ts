import assert from "node:assert/strict";
import type { Decision } from "../lib/control/types.ts";
import { decide, noAction } from "../lib/control/types.ts";
import type { RelayEvent } from "../lib/events.ts";
import { decisionAction, History, Ring } from "../lib/web/history.ts";

function tick(n: number, decision: Decision = noAction("within deadband"), extra = {}): RelayEvent {
  return {
    type: "tick",
    at: 1_000 * n,
    tick: n,
    target: 10,
    metric: n % 7,
    decision,
    launched: Array.from({ length: decision.warmers + decision.coolers }, (_, i) => `t${n}-${i}`),
    killed: [],
    running: n % 3,
    pending: n % 2,
    dryRun: false,
    ...extra,
  };
}

const warm = (n: number): Decision =>
  decide({ type: "start", kind: "warmer", n }, "plan", "too cold", { need: n });

Deno.test("ring keeps the newest items, oldest first, in a fixed backing array", () => {
  const ring = new Ring<number>(3);
  assert.equal(ring.size, 0);
  assert.equal(ring.last(), undefined);
  assert.deepEqual(ring.toArray(), []);
  for (let i = 1; i <= 10; i++) {
    ring.push(i);
    assert.equal(ring.slots, 3);
    assert.equal(ring.last(), i);
  }
  assert.equal(ring.size, 3);
  assert.deepEqual(ring.toArray(), [8, 9, 10]);
  ring.replaceLast(99);
  assert.deepEqual(ring.toArray(), [8, 9, 99]);
  assert.throws(() => new Ring(0), RangeError);
  assert.throws(() => new Ring(1.5), RangeError);
});

Deno.test("history is bounded by historyPoints whatever the number of ticks", () => {
  const history = new History(100);
  for (let n = 1; n <= 1_000; n++) {
    history.record(n % 10 === 0 ? missing(n) : tick(n));
    const stats = history.stats();
    assert.ok(stats.points <= 100);
    assert.equal(stats.pointSlots, 100);
    assert.equal(stats.decisionSlots, 50);
  }
  const points = history.points();
  assert.equal(points.length, 100);
  assert.deepEqual(points.map((p) => p.tick), Array.from({ length: 100 }, (_, i) => 901 + i));
  assert.equal(history.capacity, 100);
  assert.equal(history.lastPoint()?.tick, 1_000);
});

function missing(n: number): RelayEvent {
  return {
    type: "missing",
    at: 1_000 * n,
    tick: n,
    signal: "metric",
    reason: "timeout",
    consecutive: 1,
  };
}

Deno.test("a missing sample is kept as a gap", () => {
  const history = new History(10);
  history.record(tick(1));
  const change = history.record(missing(2));
  history.record(tick(3));
  assert.equal(change.decision, undefined);
  assert.deepEqual(change.point, {
    t: 2_000,
    tick: 2,
    target: null,
    metric: null,
    warmers: 0,
    coolers: 0,
    kills: 0,
    running: null,
    pending: null,
    missing: "metric",
  });
  assert.deepEqual(history.points().map((p) => p.metric), [1, null, 3]);
});

Deno.test("a tick point carries the decision's counts and the task counts", () => {
  const history = new History(10);
  const { point, decision } = history.record(tick(4, warm(2)));
  assert.deepEqual(point, {
    t: 4_000,
    tick: 4,
    target: 10,
    metric: 4,
    warmers: 2,
    coolers: 0,
    kills: 0,
    running: 1,
    pending: 0,
  });
  assert.equal(decision?.action, "warm");
  assert.equal(decision?.count, 2);
  assert.equal(decision?.launched, 2);
  assert.equal(decision?.reason, "too cold");
  assert.deepEqual(decision?.detail, { need: 2 });
});

Deno.test("the last 50 decisions are kept; quiet ticks with the same reason are merged", () => {
  const history = new History(1_000);
  let n = 0;
  for (let i = 0; i < 80; i++) {
    history.record(tick(++n, warm(1)));
    history.record(tick(++n));
    history.record(tick(++n)); // merged with the previous wait
  }
  const decisions = history.decisions();
  assert.equal(decisions.length, 50);
  assert.equal(history.stats().decisionSlots, 50);
  // Alternating: start 1 warmer, wait ×2.
  const last = decisions.at(-1)!;
  assert.equal(last.action, "wait");
  assert.equal(last.repeat, 2);
  assert.equal(last.tick, n);
  assert.equal(last.since, (n - 1) * 1_000);
  assert.equal(last.t, n * 1_000);
  assert.equal(decisions.at(-2)!.action, "warm");
  // Ids increase; a merged tick keeps its entry's id.
  for (let i = 1; i < decisions.length; i++) assert.ok(decisions[i].id > decisions[i - 1].id);

  // A different reason, or an action, starts a new entry.
  const before = history.decisions().at(-1)!.id;
  history.record(tick(++n, noAction("paused")));
  history.record(tick(++n, warm(1)));
  history.record(tick(++n, warm(1)));
  const tail = history.decisions().slice(-3);
  assert.deepEqual(tail.map((d) => [d.action, d.reason, d.repeat]), [
    ["wait", "paused", 1],
    ["warm", "too cold", 1],
    ["warm", "too cold", 1],
  ]);
  assert.ok(tail[0].id > before);
});

Deno.test("decisionAction names what a decision does", () => {
  assert.deepEqual(decisionAction(warm(3)), { action: "warm", count: 3 });
  assert.deepEqual(decisionAction({ ...noAction("x"), coolers: 2 }), { action: "cool", count: 2 });
  assert.deepEqual(decisionAction({ ...noAction("x"), kills: 1 }), { action: "kill", count: 1 });
  assert.deepEqual(
    decisionAction({ ...noAction("x"), cancel: { kind: "warmer", count: 4 } }),
    { action: "cancel", count: 4 },
  );
  assert.deepEqual(decisionAction(noAction("x")), { action: "wait", count: 0 });
});

Deno.test("other events change nothing", () => {
  const history = new History(5);
  assert.deepEqual(history.record({ type: "warning", at: 1, message: "hi" }), {});
  assert.deepEqual(
    history.record({ type: "start", at: 1, executor: "local", law: "adaptive", dryRun: false }),
    {},
  );
  assert.equal(history.points().length, 0);
});
