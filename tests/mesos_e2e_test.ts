/**
 * Relay.Mesos end to end against the in-repo test master: the real scheduler client, the Mesos
 * executor, the control loop and real task processes, over HTTP on loopback.
 */
import assert from "node:assert/strict";
import { systemClock } from "../lib/clock.ts";
import { AdaptiveLaw } from "../lib/control/adaptive.ts";
import { runLoop } from "../lib/control/loop.ts";
import { WARMERS_KILL as KILL_MODE } from "../sim/limits.ts";
import { EventBus } from "../lib/events.ts";
import { createSignal } from "../lib/signals/sources.ts";
import { startTestMaster, type TestAgent, type TestMaster } from "./support/mesos_master.ts";
import {
  type FrameworkHarness,
  type FrameworkSettings,
  startFramework,
} from "./support/mesos_harness.ts";
import { untilWithin } from "./support/until.ts";

const AGENTS: TestAgent[] = [
  { id: "agent-1", hostname: "a1", resources: { cpus: 4, mem: 1024, disk: 1000 } },
  { id: "agent-2", hostname: "a2", resources: { cpus: 4, mem: 1024, disk: 1000 } },
];

type Harness = FrameworkHarness;

function framework(
  leader: () => string | undefined,
  opts: Omit<FrameworkSettings, "leader"> = {},
): Promise<Harness> {
  return startFramework({ leader, ...opts });
}

const until = untilWithin(10_000);

/** Ticks the loop runs on after `done` first holds, so a late extra launch would still show. */
const SETTLE_TICKS = 5;

/**
 * Runs the loop with metric = our running tasks against `target` for `seconds`, or until
 * {@linkcode SETTLE_TICKS} ticks after `done(ticks)` first holds.
 */
async function control(
  h: Harness,
  target: string,
  seconds: number,
  done?: (ticks: { metric: number }[]) => boolean,
) {
  const bus = new EventBus();
  const ticks: { target: number; metric: number; launched: number }[] = [];
  const stop = new AbortController();
  let doneAt: number | undefined;
  bus.on((e) => {
    if (e.type !== "tick") return;
    ticks.push({ target: e.target, metric: e.metric, launched: e.launched.length });
    if (doneAt === undefined && done?.(ticks)) doneAt = ticks.length;
    if (doneAt !== undefined && ticks.length >= doneAt + SETTLE_TICKS) stop.abort();
  });
  await runLoop(
    {
      clock: systemClock,
      metric: createSignal("tasks:running"),
      target: createSignal(target),
      executor: h.executor,
      law: new AdaptiveLaw(KILL_MODE, { initialEffect: 1, response: "level" }),
      bus,
    },
    {
      delayMs: 200,
      durationMs: seconds * 1000,
      maxTicks: 0,
      maxMissing: 0,
      signalTimeoutMs: 1000,
      dryRun: false,
    },
    stop.signal,
  );
  return ticks;
}

async function finish(h: Harness, master: TestMaster) {
  await h.executor.shutdown("kill", 0);
  await master.close();
  await Deno.remove(h.stateDir, { recursive: true });
}

for (const contentType of ["protobuf", "json"] as const) {
  Deno.test(`${contentType}: the loop reaches its target through offers, launches and updates`, async () => {
    const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
    const h = await framework(() => master.url, { contentType });
    try {
      const ticks = await control(h, "3", 5, (t) => t.at(-1)!.metric === 3);
      assert.equal(ticks.at(-1)!.metric, 3);
      const launched = ticks.reduce((a, t) => a + t.launched, 0);
      assert.equal(launched, 3, "no repeat launches while tasks start");
      assert.equal(master.launchedTasks.length, 3);
      assert.equal(master.frameworks()[0].contentType, contentType);
      // Every update that carried a uuid was acknowledged exactly once.
      for (const [uuid, count] of master.acks) assert.equal(count, 1, `uuid ${uuid}`);
      assert.ok(master.acks.size >= 6, `${master.acks.size} acks (STARTING and RUNNING each)`);
    } finally {
      await finish(h, master);
    }
  });
}

Deno.test("master restart mid-run: same FrameworkID, reconciled, nothing launched twice", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  const h = await framework(() => master.url);
  try {
    const first = control(h, "2", 6, (t) => h.client().reconnects >= 1 && t.at(-1)!.metric === 2);
    await until(
      "two running tasks",
      () => h.executor.tasks().filter((t) => t.state === "running").length === 2,
    );
    const frameworkId = h.executor.frameworkId;
    await master.crash();
    await new Promise((r) => setTimeout(r, 500));
    await master.restart();
    const ticks = await first;
    assert.equal(h.executor.frameworkId, frameworkId);
    assert.equal(master.frameworks().length, 1, "re-subscribed as the same framework");
    assert.equal(master.launchedTasks.length, 2, "no task launched twice");
    assert.ok(master.callsOfType("RECONCILE").length >= 2, "reconciled after re-subscribing");
    assert.equal(ticks.at(-1)!.metric, 2);
    for (const [uuid, count] of master.acks) assert.equal(count, 1, `uuid ${uuid}`);
    assert.ok(h.client().reconnects >= 1);
  } finally {
    await finish(h, master);
  }
});

Deno.test("a restarted Relay.Mesos adopts its running tasks instead of launching anew", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  const first = await framework(() => master.url);
  try {
    await control(first, "2", 3, (t) => t.at(-1)!.metric === 2);
    await first.executor.shutdown("leave", 0);
    const second = await framework(() => master.url, { stateDir: first.stateDir });
    const ticks = await control(second, "2", 3, (t) => t.at(-1)!.metric === 2);
    assert.equal(master.frameworks().length, 1);
    assert.equal(master.launchedTasks.length, 2, "adopted, not relaunched");
    assert.equal(ticks.at(-1)!.metric, 2);
    assert.equal(ticks.reduce((a, t) => a + t.launched, 0), 0);
    await second.executor.shutdown("kill", 0);
  } finally {
    await master.close();
    await Deno.remove(first.stateDir, { recursive: true });
  }
});

Deno.test("a non-leading master redirects (307) to the leader", async () => {
  const leader = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  const follower = await startTestMaster({ agents: [], heartbeatSeconds: 1 });
  follower.setLeader(leader.url);
  const h = await framework(() => follower.url);
  try {
    await until("subscribed", () => h.executor.connected);
    assert.equal(h.client().leader, leader.url);
    const ticks = await control(h, "1", 2, (t) => t.at(-1)!.metric === 1);
    assert.equal(ticks.at(-1)!.metric, 1);
  } finally {
    await finish(h, leader);
    await follower.close();
  }
});

Deno.test("503 while electing is retried until a leader answers", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  master.setElecting(true);
  const h = await framework(() => master.url);
  try {
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(h.executor.connected, false);
    master.setElecting(false);
    await until("subscribed after the election", () => h.executor.connected);
    assert.ok(h.logs.some((l) => /503/.test(l)), "the 503 was logged");
  } finally {
    await finish(h, master);
  }
});

Deno.test("lost heartbeats: the stream is declared dead and re-subscribed as the same framework", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 0.5 });
  const h = await framework(() => master.url);
  try {
    await until("subscribed", () => h.executor.connected);
    const id = h.executor.frameworkId;
    master.stopHeartbeats(true);
    await until(
      "heartbeat loss noticed",
      () => h.logs.some((l) => /heartbeats lost/.test(l)),
      5000,
    );
    master.stopHeartbeats(false);
    await until("re-subscribed", () => h.client().reconnects >= 1 && h.executor.connected, 5000);
    assert.equal(h.executor.frameworkId, id);
    assert.ok(master.subscriptions >= 2, `${master.subscriptions} subscriptions`);
  } finally {
    await finish(h, master);
  }
});

Deno.test("starved of offers: demand does not pile up; on recovery only the current need starts", async () => {
  // One agent with room for one task: the second must wait.
  const master = await startTestMaster({
    agents: [{ id: "small", hostname: "s", resources: { cpus: 1, mem: 256, disk: 100 } }],
    heartbeatSeconds: 1,
  });
  const h = await framework(() => master.url, { warmer: "sleep 2" });
  try {
    const ticks = await control(h, "2", 7);
    const requested = ticks.reduce((a, t) => a + t.launched, 0);
    // Tasks live 2 s, one at a time: about one request per life, never a pile.
    assert.ok(requested <= 6, `requested ${requested}`);
    const pendingMax = Math.max(...ticks.map((t) => t.launched));
    assert.ok(pendingMax <= 2, `largest burst ${pendingMax}`);
    assert.ok(master.launchedTasks.length <= requested);
  } finally {
    await finish(h, master);
  }
});

Deno.test("multi-role: offers for several roles are used with their allocation echoed", async () => {
  const master = await startTestMaster({
    agents: [{
      id: "r",
      hostname: "r",
      resources: { cpus: 2, mem: 512, disk: 100 },
      roles: ["batch"],
    }],
    heartbeatSeconds: 1,
  });
  const h = await framework(() => master.url, { roles: ["prod", "batch"] });
  try {
    const ticks = await control(h, "2", 3, (t) => t.at(-1)!.metric === 2);
    assert.equal(ticks.at(-1)!.metric, 2);
    const launch = master.callsOfType("ACCEPT")[0].accept!.operations[0].launch!.task_infos[0];
    assert.ok(launch.resources.every((r) => r.allocation_info?.role === "batch"));
  } finally {
    await finish(h, master);
  }
});
