/**
 * Faults on the Mesos connection, end to end in one process: the real scheduler client, the Mesos
 * executor and the control loop against the in-repo test master, with real task processes. Each
 * stream fault (a stream cut mid-frame, a bad length line, a record that does not decode) must end
 * the same way: re-subscribed with backoff as the same framework, reconciled, no task id launched
 * twice, every status update acknowledged (once per delivery at most), and the loop ticking on
 * through the outage. A 400 on ACCEPT or ACKNOWLEDGE ends the same way but without re-subscribing:
 * a 400 is about that call, not the subscription. (Master restart, 307, 503 and lost heartbeats are in
 * mesos_e2e_test.ts.)
 */
import assert from "node:assert/strict";
import { systemClock } from "../lib/clock.ts";
import { AdaptiveLaw } from "../lib/control/adaptive.ts";
import { runLoop } from "../lib/control/loop.ts";
import { EventBus } from "../lib/events.ts";
import type { ContentType } from "../lib/mesos/codec.ts";
import { createSignal } from "../lib/signals/sources.ts";
import { WARMERS_KILL } from "../sim/limits.ts";
import { startTestMaster, type StreamFault, type TestMaster } from "./support/mesos_master.ts";
import { type FrameworkHarness, startFramework } from "./support/mesos_harness.ts";
import { untilWithin } from "./support/until.ts";

const AGENTS = [
  { id: "agent-1", hostname: "a1", resources: { cpus: 4, mem: 1024, disk: 1000 } },
  { id: "agent-2", hostname: "a2", resources: { cpus: 4, mem: 1024, disk: 1000 } },
];
const DELAY_MS = 200;
/** The client's backoff in these tests: attempt n waits between 2^n × 50 and 2^n × 100 ms. */
const BACKOFF = { initial: 100, max: 1000 };

interface Tick {
  at: number;
  metric: number;
  launched: number;
}

type Harness = FrameworkHarness;

function framework(master: TestMaster, contentType: ContentType): Promise<Harness> {
  return startFramework({
    leader: () => master.url,
    contentType,
    heartbeatFloorMs: 3000,
    backoffMs: BACKOFF,
    frameworkName: "faults",
  });
}

/** Ticks the loop runs on after `done` first holds, so a late extra launch would still show. */
const SETTLE_TICKS = 5;

/**
 * The loop with metric = our running tasks and a constant target, for at most `seconds`: it
 * stops {@linkcode SETTLE_TICKS} ticks after `done(ticks)` first holds at a tick.
 */
async function control(
  h: Harness,
  target: number,
  seconds: number,
  done: (ticks: Tick[]) => boolean,
): Promise<Tick[]> {
  const bus = new EventBus();
  const ticks: Tick[] = [];
  const stop = new AbortController();
  let doneAt: number | undefined;
  bus.on((e) => {
    if (e.type !== "tick") return;
    ticks.push({ at: e.at, metric: e.metric, launched: e.launched.length });
    if (doneAt === undefined && done(ticks)) doneAt = ticks.length;
    if (doneAt !== undefined && ticks.length >= doneAt + SETTLE_TICKS) stop.abort();
  });
  await runLoop(
    {
      clock: systemClock,
      metric: createSignal("tasks:running"),
      target: createSignal(String(target)),
      executor: h.executor,
      law: new AdaptiveLaw(WARMERS_KILL, { initialEffect: 1, response: "level" }),
      bus,
    },
    {
      delayMs: DELAY_MS,
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

const until = untilWithin(10_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What every fault must leave behind: one framework at the master, the FrameworkID unchanged,
 * re-subscribed or not as `resubscribed` says, no task id in two LAUNCH operations, every update
 * with a uuid acknowledged at least once and at most once per delivery, and ticks that never
 * stopped (no gap much longer than the delay).
 */
async function assertSurvived(
  master: TestMaster,
  h: Harness,
  id: string,
  ticks: Tick[],
  resubscribed = true,
) {
  assert.equal(h.executor.frameworkId, id, "same FrameworkID");
  assert.equal(master.frameworks().length, 1, "one framework at the master");
  assert.equal(master.frameworks()[0].id, id);
  if (resubscribed) assert.ok(h.client().reconnects >= 1, `${h.client().reconnects} reconnects`);
  else {
    assert.equal(h.client().reconnects, 0, "no re-subscription");
    assert.equal(master.subscriptions, 1);
  }
  const launches = new Map<string, number>();
  for (const call of master.callsOfType("ACCEPT")) {
    for (const op of call.accept!.operations) {
      for (const t of op.launch?.task_infos ?? []) {
        launches.set(t.task_id.value, (launches.get(t.task_id.value) ?? 0) + 1);
      }
    }
  }
  for (const [task, n] of launches) assert.equal(n, 1, `task ${task} in ${n} LAUNCH operations`);
  // Updates still in flight at the end of the run get their (one) acknowledgement now.
  await until("every update acknowledged", () => master.unacknowledged() === 0, 5000);
  const uuids = new Set(master.updatesSent.flatMap((u) => u.status.uuid ? [u.status.uuid] : []));
  assert.ok(uuids.size >= 6, `${uuids.size} updates with a uuid`);
  const deliveries = new Map<string, number>();
  for (const u of master.updatesSent) {
    if (u.status.uuid) deliveries.set(u.status.uuid, (deliveries.get(u.status.uuid) ?? 0) + 1);
  }
  for (const uuid of uuids) {
    const acks = master.ackCount(uuid);
    assert.ok(acks >= 1 && acks <= deliveries.get(uuid)!, `update ${uuid}: ${acks} acks`);
  }
  for (let i = 1; i < ticks.length; i++) {
    const gap = ticks[i].at - ticks[i - 1].at;
    assert.ok(gap < DELAY_MS * 3, `tick ${i}: ${gap} ms after the previous one`);
  }
}

async function finish(h: Harness, master: TestMaster) {
  await h.executor.shutdown("kill", 0);
  await master.close();
  await Deno.remove(h.stateDir, { recursive: true });
}

const STREAM_FAULTS: [StreamFault, ContentType][] = [
  ["mid-frame", "protobuf"],
  ["bad-length", "protobuf"],
  ["garbage", "protobuf"],
  ["garbage", "json"],
];

for (const [fault, contentType] of STREAM_FAULTS) {
  Deno.test(`stream fault ${fault} (${contentType}) during an election: backoff, same framework, nothing twice`, async () => {
    const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
    const h = await framework(master, contentType);
    let victim: ReturnType<TestMaster["tasks"]>[number] | undefined;
    try {
      // Done once back, the dead task replaced and three running again.
      const run = control(h, 3, 7, (ticks) =>
        victim !== undefined && h.client().reconnects >= 1 &&
        master.task(victim.taskId)?.state === "TASK_FAILED" &&
        master.launchedTasks.length >= 4 && ticks.at(-1)!.metric === 3);
      await until(
        "three running tasks",
        () => master.tasks().filter((t) => t.state === "TASK_RUNNING").length === 3,
      );
      const id = h.executor.frameworkId!;
      const reconcilesBefore = master.callsOfType("RECONCILE").length;
      // The fault, then 1.2 s in which no master answers (503), and a task dies meanwhile: its
      // TASK_FAILED waits at the agent for the new subscription.
      const faultAt = Date.now();
      master.setElecting(true);
      assert.equal(master.breakStreams(fault), 1);
      await until("disconnect noticed", () => !h.executor.connected, 2000);
      assert.ok(h.executor.stats.disconnectedSince !== undefined, "the outage is on record");
      victim = master.tasks().find((t) => t.state === "TASK_RUNNING")!;
      Deno.kill(-victim.pid!, "SIGKILL");
      await sleep(1200);
      master.setElecting(false);
      await until("re-subscribed", () => h.executor.connected && h.client().reconnects >= 1, 3000);
      const backAt = Date.now();
      const ticks = await run;

      await assertSurvived(master, h, id, ticks);
      assert.ok(
        h.logs.some((l) => /disconnected: stream (broken|closed)/.test(l)),
        h.logs.filter((l) => /disconnected/.test(l)).join("\n"),
      );
      assert.ok(master.callsOfType("RECONCILE").length > reconcilesBefore, "reconciled");
      // Backoff: the SUBSCRIBE attempts refused with 503 come further and further apart.
      const tries = master.answered.filter((a) =>
        a.status === 503 && a.call === "SUBSCRIBE" && a.at >= faultAt
      );
      assert.ok(tries.length >= 3 && tries.length <= 8, `${tries.length} attempts in 1.2 s`);
      const gaps = tries.slice(1).map((t, i) => t.at - tries[i].at);
      for (let i = 0; i < gaps.length; i++) {
        assert.ok(gaps[i] >= BACKOFF.initial / 2 - 5, `gap ${i}: ${gaps[i]} ms`);
        if (i > 0) assert.ok(gaps[i] >= gaps[i - 1] * 0.8, `gaps ${gaps.join(", ")} ms`);
      }
      // The loop ticked through the outage.
      const during = ticks.filter((t) => t.at > faultAt && t.at < backAt).length;
      assert.ok(
        during >= Math.floor((backAt - faultAt) / DELAY_MS) - 1,
        `${during} ticks in the outage`,
      );
      // The dead task was reported once and replaced once: four launches for a need of three.
      assert.equal(master.task(victim!.taskId)!.state, "TASK_FAILED");
      assert.equal(
        master.launchedTasks.length,
        4,
        master.launchedTasks.map((t) => t.task_id.value).join(),
      );
      assert.equal(ticks.at(-1)!.metric, 3);
      console.log(
        `${fault}/${contentType}: outage ${backAt - faultAt} ms, ${during} ticks in it, ` +
          `${tries.length} refused subscribes (gaps ${gaps.join(", ")} ms)`,
      );
    } finally {
      await finish(h, master);
    }
  });
}

Deno.test("a slow SUPPRESS is not overtaken by the REVIVE after it: offers keep coming", async () => {
  // Each call is its own HTTP request: a REVIVE sent while the SUPPRESS made at subscription is
  // still on its way would be carried out first and leave the framework suppressed for good.
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  master.delayCalls("SUPPRESS", 600);
  const h = await framework(master, "protobuf");
  try {
    const ticks = await control(h, 3, 3, (t) => t.at(-1)!.metric === 3);
    const order = master.calls.map((c) => c.type).filter((t) => t === "SUPPRESS" || t === "REVIVE");
    assert.deepEqual(order.slice(0, 2), ["SUPPRESS", "REVIVE"], "carried out in the order meant");
    assert.equal(master.launchedTasks.length, 3);
    assert.equal(ticks.at(-1)!.metric, 3);
  } finally {
    await finish(h, master);
  }
});

Deno.test("400 on ACCEPT: tasks counted lost, offer handed back, the need launched anew once", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  master.failCalls("ACCEPT", 400, 1);
  const h = await framework(master, "protobuf");
  try {
    const ticks = await control(h, 3, 5, (t) => t.at(-1)!.metric === 3);
    const id = h.executor.frameworkId!;
    await assertSurvived(master, h, id, ticks, false);
    const refused = master.answered.filter((a) => a.call === "ACCEPT" && a.status === 400);
    assert.equal(refused.length, 1);
    assert.ok(h.logs.some((l) => /ACCEPT answered 400/.test(l)), "the 400 is logged");
    assert.deepEqual(h.executor.stats.callsRejected, { 400: 1 });
    assert.ok(!h.logs.some((l) => /dropping the stream/.test(l)));
    // The offer of the refused ACCEPT is still outstanding at the master: it is declined.
    const offer = master.callsOfType("ACCEPT")[0].accept!.offer_ids[0].value;
    assert.ok(master.offersDeclined.includes(offer), "the refused ACCEPT's offer handed back");
    // The refused ACCEPT launched nothing; what it carried was relaunched under new ids.
    const refusedIds = master.callsOfType("ACCEPT")[0].accept!.operations[0].launch!.task_infos
      .map((t) => t.task_id.value);
    assert.ok(refusedIds.every((t) => master.task(t) === undefined));
    assert.equal(master.launchedTasks.length, 3, "exactly the need, once");
    assert.equal(ticks.at(-1)!.metric, 3);
  } finally {
    await finish(h, master);
  }
});

Deno.test("400 on ACKNOWLEDGE: the agent re-sends the update on the same stream; it is acknowledged", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  master.failCalls("ACKNOWLEDGE", 400, 1);
  const h = await framework(master, "protobuf");
  try {
    const ticks = await control(h, 3, 5, (t) => t.at(-1)!.metric === 3);
    const id = h.executor.frameworkId!;
    await assertSurvived(master, h, id, ticks, false);
    const refused = master.calls.filter((c) => c.type === "ACKNOWLEDGE");
    const first = refused[0].acknowledge!.uuid;
    // Refused once, then accepted once: two calls for that uuid, one that counted.
    assert.equal(refused.filter((c) => c.acknowledge!.uuid === first).length, 2);
    assert.equal(master.ackCount(first), 1);
    assert.equal(master.launchedTasks.length, 3);
    assert.equal(ticks.at(-1)!.metric, 3);
  } finally {
    await finish(h, master);
  }
});

Deno.test("ACCEPT carried out but answered 500: the launched tasks are tracked, not left running unseen", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  master.failCalls("ACCEPT", 500, 1, true);
  const h = await framework(master, "protobuf");
  try {
    const ticks = await control(
      h,
      3,
      6,
      (t) => t.at(-1)!.metric === 3 && h.logs.some((l) => /was launched after all/.test(l)),
    );
    const atMaster = master.tasks().filter((t) => t.state === "TASK_RUNNING").map((t) => t.taskId);
    const ours = h.executor.tasks().filter((t) => t.state === "running").map((t) => t.id);
    // What runs at the master is exactly what the loop counts: no task runs unaccounted for.
    assert.deepEqual(ours.toSorted(), atMaster.toSorted());
    assert.equal(atMaster.length, 3);
    assert.equal(ticks.at(-1)!.metric, 3);
    assert.ok(h.logs.some((l) => /ACCEPT answered 500/.test(l)));
    assert.ok(h.logs.some((l) => /was launched after all/.test(l)), "the lost task came back");
    for (const [uuid, n] of master.acks) assert.equal(n, 1, `uuid ${uuid} acknowledged ${n} times`);
  } finally {
    await finish(h, master);
  }
});
