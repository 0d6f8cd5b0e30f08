import assert from "node:assert/strict";
import { VirtualClock } from "../lib/clock.ts";
import { AdaptiveLaw } from "../lib/control/adaptive.ts";
import { EXIT_MISSING, runLoop } from "../lib/control/loop.ts";
import type { ControlLaw, Decision, Observation } from "../lib/control/types.ts";
import { decide, noAction } from "../lib/control/types.ts";
import { EventBus, type RelayEvent } from "../lib/events.ts";
import { WARMERS_KILL } from "../sim/limits.ts";
import type { Signal } from "../lib/signals/types.ts";
import { SignalReadError } from "../lib/signals/types.ts";
import { FakeExecutor } from "./support/fake_executor.ts";
import { LOOP_SETTINGS } from "./support/loop_settings.ts";

/** A signal that plays back a list; `null` entries fail, `"hang"` never resolves. */
function scripted(values: (number | null | "hang")[]): Signal {
  let i = 0;
  return {
    spec: "scripted",
    read(ctx) {
      const v = values[Math.min(i++, values.length - 1)];
      if (v === null) return Promise.reject(new SignalReadError("exit code 1"));
      if (v === "hang") {
        return new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(new SignalReadError("aborted")))
        );
      }
      return Promise.resolve(v);
    },
  };
}

/** A law that records what it saw and starts `warmers` each time. */
function recordingLaw(warmers = 0, kills = 0): ControlLaw & { seen: Observation[] } {
  const seen: Observation[] = [];
  return {
    name: "recording",
    seen,
    decide(obs): Decision {
      seen.push(obs);
      return warmers > 0
        ? decide({ type: "start", kind: "warmer", n: warmers }, "plan", "test")
        : decide({ type: "kill", n: kills }, "plan", "test");
    },
  };
}

function setup(metric: Signal, law: ControlLaw, startAs?: "running" | "pending") {
  const clock = new VirtualClock(1_000_000);
  const bus = new EventBus();
  const events: RelayEvent[] = [];
  bus.on((e) => events.push(e));
  const executor = new FakeExecutor(clock, startAs);
  const parts = { clock, metric, target: scripted([0]), executor, law, bus };
  return { clock, bus, events, executor, parts };
}

Deno.test("a missing sample takes no action, is reported, and the loop goes on", async () => {
  const law = recordingLaw(1);
  const { events, executor, parts } = setup(scripted([5, null, 7]), law);
  const result = await runLoop(
    parts,
    { ...LOOP_SETTINGS, maxTicks: 3 },
    new AbortController().signal,
  );
  assert.deepEqual(result, { reason: "max-ticks", ticks: 3, exitCode: 0 });
  assert.deepEqual(law.seen.map((o) => o.metric), [5, 7]);
  assert.equal(executor.launches.length, 2);
  const missing = events.filter((e) => e.type === "missing");
  assert.equal(missing.length, 1);
  assert.equal(missing[0].type === "missing" && missing[0].reason, "exit code 1");
});

Deno.test("--max-missing stops after N consecutive misses with exit code 3", async () => {
  const law = recordingLaw();
  const { parts } = setup(scripted([1, null, null, 2, null, null, null, 9]), law);
  const result = await runLoop(
    parts,
    { ...LOOP_SETTINGS, maxMissing: 3 },
    new AbortController().signal,
  );
  assert.equal(result.exitCode, EXIT_MISSING);
  assert.equal(result.reason, "max-missing");
  assert.equal(result.ticks, 7);
  assert.deepEqual(law.seen.map((o) => o.metric), [1, 2]);
});

Deno.test("a hanging read times out as a missing sample", async () => {
  const law = recordingLaw();
  const { events, parts } = setup(scripted(["hang", 4]), law);
  await runLoop(
    parts,
    { ...LOOP_SETTINGS, maxTicks: 2, signalTimeoutMs: 50 },
    new AbortController().signal,
  );
  const missing = events.find((e) => e.type === "missing");
  assert.ok(missing && missing.type === "missing");
  assert.match(missing.reason, /timed out after 0.05 s/);
  assert.deepEqual(law.seen.map((o) => o.metric), [4]);
});

Deno.test("--duration ends the run cleanly in virtual time", async () => {
  const { clock, parts } = setup(scripted([1]), recordingLaw());
  const start = clock.now();
  const result = await runLoop(
    parts,
    { ...LOOP_SETTINGS, durationMs: 5000 },
    new AbortController().signal,
  );
  assert.equal(result.reason, "duration");
  assert.equal(result.ticks, 5);
  assert.equal(clock.now() - start, 5000);
});

Deno.test("an abort stops the loop with exit code 0", async () => {
  const ac = new AbortController();
  const law: ControlLaw = {
    name: "stopper",
    decide(obs) {
      if (obs.t > 1002) ac.abort();
      return noAction("");
    },
  };
  const { parts } = setup(scripted([1]), law);
  const result = await runLoop(parts, LOOP_SETTINGS, ac.signal);
  assert.equal(result.reason, "signal");
  assert.equal(result.exitCode, 0);
});

Deno.test("dry run decides and logs but launches nothing", async () => {
  const { events, executor, parts } = setup(scripted([3]), recordingLaw(2));
  await runLoop(
    parts,
    { ...LOOP_SETTINGS, maxTicks: 3, dryRun: true },
    new AbortController().signal,
  );
  assert.equal(executor.launches.length, 0);
  const ticks = events.filter((e) => e.type === "tick");
  assert.equal(ticks.length, 3);
  assert.ok(ticks.every((e) => e.type === "tick" && e.dryRun && e.decision.warmers === 2));
});

/** Three running warmers started a second apart, then one tick whose law kills two. */
async function killTwoOfThree(killOrder?: "newest" | "oldest"): Promise<string[][]> {
  const clock = new VirtualClock(0);
  const executor = new FakeExecutor(clock);
  for (let i = 0; i < 3; i++) {
    if (i > 0) clock.advance(1000);
    executor.launch("warmer", 1);
  }
  await runLoop(
    {
      clock,
      bus: new EventBus(),
      executor,
      metric: scripted([9]),
      target: scripted([0]),
      law: recordingLaw(0, 2),
    },
    { ...LOOP_SETTINGS, maxTicks: 1, ...(killOrder ? { killOrder } : {}) },
    new AbortController().signal,
  );
  return executor.kills;
}

Deno.test("kills stop the newest warmers first", async () => {
  assert.deepEqual(await killTwoOfThree(), [["fake-warmer-2", "fake-warmer-1"]]);
});

Deno.test("--kill-order oldest stops the oldest running warmers first", async () => {
  assert.deepEqual(await killTwoOfThree("oldest"), [["fake-warmer-0", "fake-warmer-1"]]);
});

Deno.test("an executor error becomes a warning and the loop keeps ticking", async () => {
  const { events, executor, parts } = setup(scripted([1]), recordingLaw(1));
  executor.failNextLaunch = true;
  const result = await runLoop(
    parts,
    { ...LOOP_SETTINGS, maxTicks: 3 },
    new AbortController().signal,
  );
  assert.equal(result.ticks, 3);
  const warning = events.find((e) => e.type === "warning");
  assert.ok(warning && warning.type === "warning");
  assert.match(warning.message, /executor refused the decision: no capacity/);
  assert.equal(executor.launches.length, 2);
});

Deno.test("tasks still pending are counted: no repeat launches while a task waits to start", async () => {
  const law = new AdaptiveLaw(WARMERS_KILL, { initialEffect: 1, response: "level" });
  const { executor, parts } = setup(scripted([0]), law, "pending");
  parts.target = scripted([1]);
  await runLoop(parts, { ...LOOP_SETTINGS, maxTicks: 20 }, new AbortController().signal);
  assert.deepEqual(executor.launches, [{ kind: "warmer", count: 1 }]);
});

Deno.test("while paused the loop reads and reports but decides and launches nothing", async () => {
  const law = recordingLaw(1);
  const { events, executor, parts } = setup(scripted([5]), law);
  const control = { paused: true };
  await runLoop(parts, { ...LOOP_SETTINGS, maxTicks: 3, control }, new AbortController().signal);
  assert.equal(law.seen.length, 0);
  assert.equal(executor.launches.length, 0);
  const ticks = events.filter((e) => e.type === "tick");
  assert.equal(ticks.length, 3);
  assert.ok(
    ticks.every((e) => e.type === "tick" && e.metric === 5 && e.decision.reason === "paused"),
  );
});
