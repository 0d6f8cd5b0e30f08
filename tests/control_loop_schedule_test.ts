import assert from "node:assert/strict";
import { systemClock, VirtualClock } from "../lib/clock.ts";
import { HARD_MAX_STARTS_PER_TICK, runLoop } from "../lib/control/loop.ts";
import { type ControlLaw, decide, noAction } from "../lib/control/types.ts";
import { EventBus, type RelayEvent } from "../lib/events.ts";
import type { Signal } from "../lib/signals/types.ts";
import { FakeExecutor } from "./support/fake_executor.ts";
import { LOOP_SETTINGS } from "./support/loop_settings.ts";

const constant = (v: number): Signal => ({ spec: String(v), read: () => Promise.resolve(v) });

function setup(law: ControlLaw, metric: Signal = constant(0), clock = new VirtualClock(1_000_000)) {
  const bus = new EventBus();
  const events: RelayEvent[] = [];
  bus.on((e) => events.push(e));
  const executor = new FakeExecutor(clock as VirtualClock);
  return {
    clock,
    events,
    executor,
    parts: { clock, metric, target: constant(0), executor, law, bus },
  };
}

Deno.test("after the process was stopped for 10 s, missed ticks are skipped, not run at once", async () => {
  const clock = new VirtualClock(1_000_000);
  let n = 0;
  const law: ControlLaw = {
    name: "stopped-once",
    decide() {
      if (++n === 3) clock.advance(10_000); // SIGSTOP for 10 s during tick 3
      return noAction("");
    },
  };
  const { events, parts } = setup(law, constant(0), clock);
  await runLoop(parts, { ...LOOP_SETTINGS, maxTicks: 6 }, new AbortController().signal);
  const at = events.filter((e) => e.type === "tick").map((e) => e.at - 1_000_000);
  // Ticks 1-3 on time; tick 4 at once when the process resumes; then one per second again.
  assert.deepEqual(at, [0, 1000, 12_000, 12_000, 13_000, 14_000]);
  const warning = events.find((e) => e.type === "warning");
  assert.ok(warning?.type === "warning");
  assert.match(warning.message, /^loop 9\.0 s behind schedule .*: skipped 9 ticks$/);
});

Deno.test("--duration is wall time: slow ticks do not stretch the run", async () => {
  const clock = new VirtualClock(1_000_000);
  // Every read takes 2.5 s of the loop's time, more than the 1 s delay.
  const slow: Signal = {
    spec: "slow",
    read: () => {
      clock.advance(2500);
      return Promise.resolve(1);
    },
  };
  const { parts } = setup({ name: "idle", decide: () => noAction("") }, slow, clock);
  const result = await runLoop(
    parts,
    { ...LOOP_SETTINGS, durationMs: 3000 },
    new AbortController().signal,
  );
  assert.equal(result.reason, "duration");
  assert.ok(clock.now() - 1_000_000 <= 5000 + 1, `ran ${clock.now() - 1_000_000} ms for a 3 s run`);
  assert.equal(result.ticks, 2);
});

Deno.test("--duration cuts a hanging read at the end of the run (real time)", async () => {
  const hang: Signal = { spec: "hang", read: () => new Promise(() => {}) };
  const { parts } = setup({ name: "idle", decide: () => noAction("") }, hang);
  const started = Date.now();
  const result = await runLoop(
    { ...parts, clock: systemClock },
    { ...LOOP_SETTINGS, durationMs: 300, signalTimeoutMs: 60_000 },
    new AbortController().signal,
  );
  assert.equal(result.reason, "duration");
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});

Deno.test("one tick starts at most HARD_MAX_STARTS_PER_TICK tasks, with a warning", async () => {
  const law: ControlLaw = {
    name: "wild",
    decide: () => decide({ type: "start", kind: "warmer", n: 1e11 }, "plan", "test"),
  };
  const { events, executor, parts } = setup(law);
  const started = performance.now();
  await runLoop(parts, { ...LOOP_SETTINGS, maxTicks: 1 }, new AbortController().signal);
  assert.ok(performance.now() - started < 2000);
  assert.deepEqual(executor.launches, [{ kind: "warmer", count: HARD_MAX_STARTS_PER_TICK }]);
  const warning = events.find((e) => e.type === "warning");
  assert.ok(warning?.type === "warning");
  assert.equal(
    warning.message,
    "the law asked for 100000000000 warmers in one tick: starting 1000 (the most one tick starts)",
  );
});
