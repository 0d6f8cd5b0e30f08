/**
 * Wire fidelity with a master that behaves as a real one does where the plain test master is
 * lenient: reserved and disk resources checked for containment field by field, launches refused,
 * acknowledgements lost, calls answered 400. The real scheduler client and Mesos executor against
 * the in-repo test master, with real task processes.
 */
import assert from "node:assert/strict";
import type { Resource, TaskInfo } from "../lib/mesos/messages.ts";
import { layoutAgent, startTestMaster, type TestMaster } from "./support/mesos_master.ts";
import { type FrameworkHarness, startFramework } from "./support/mesos_harness.ts";
import { untilWithin } from "./support/until.ts";

const until = untilWithin(8_000);

async function finish(h: FrameworkHarness, master: TestMaster) {
  await h.executor.shutdown("kill", 0);
  await master.close();
  await Deno.remove(h.stateDir, { recursive: true });
}

function updatesOf(master: TestMaster, state: string) {
  return master.updatesSent.filter((u) => u.status.state === state);
}

const OWNER = { labels: [{ key: "owner", value: "ops" }] };
/** A dynamic reservation in the pre-refinement format: `role` plus `reservation`. */
const RESERVED_CPUS: Resource = {
  name: "cpus",
  type: "SCALAR",
  scalar: { value: 2 },
  role: "relay",
  reservation: { principal: "ops", labels: OWNER },
};
/** A dynamic reservation in the refinement format: `reservations`, no `role`. */
const REFINED_MEM: Resource = {
  name: "mem",
  type: "SCALAR",
  scalar: { value: 512 },
  reservations: [{ type: "DYNAMIC", role: "relay", principal: "ops", labels: OWNER }],
};
const PATH_DISK: Resource = {
  name: "disk",
  type: "SCALAR",
  scalar: { value: 1000 },
  role: "*",
  disk: { source: { type: "PATH", path: { root: "/mnt/path1" }, profile: "fast" } },
  provider_id: { value: "rp-1" },
};
const MOUNT_DISK: Resource = {
  name: "disk",
  type: "SCALAR",
  scalar: { value: 500 },
  role: "*",
  disk: { source: { type: "MOUNT", mount: { root: "/mnt/m1" } } },
};
const VOLUME: Resource = {
  name: "disk",
  type: "SCALAR",
  scalar: { value: 200 },
  role: "relay",
  reservation: { principal: "ops" },
  disk: {
    persistence: { id: "vol-1", principal: "ops" },
    volume: { mode: "RW", container_path: "data" },
  },
};
const plain = (name: string, value: number): Resource => ({
  name,
  type: "SCALAR",
  scalar: { value },
  role: "*",
});

Deno.test("reserved cpus, refined mem, PATH and MOUNT disks are echoed field for field and launch", async () => {
  const master = await startTestMaster({
    heartbeatSeconds: 1,
    agents: [
      layoutAgent("agent-a", "a", [
        RESERVED_CPUS,
        plain("cpus", 1),
        REFINED_MEM,
        VOLUME,
        PATH_DISK,
      ]),
      layoutAgent("agent-b", "b", [plain("cpus", 1), plain("mem", 256), MOUNT_DISK]),
    ],
  });
  const h = await startFramework({
    leader: () => master.url,
    roles: ["relay"],
    taskResources: { cpus: 1, mem: 128, disk: 100, gpus: 0 },
  });
  try {
    await until("subscribed", () => h.executor.connected);
    h.executor.launch("warmer", 4);
    await until(
      "four running tasks",
      () => master.tasks().filter((t) => t.state === "TASK_RUNNING").length === 4,
    );
    assert.deepEqual(updatesOf(master, "TASK_ERROR").map((u) => u.status.message), []);
    const byAgent = (id: string) => master.launchedTasks.filter((t) => t.agent_id.value === id);
    const strip = (t: TaskInfo) =>
      t.resources.map(({ scalar, allocation_info: _a, ...identity }) => ({
        ...identity,
        amount: scalar!.value,
      }));
    const { scalar: _c, ...cpus } = RESERVED_CPUS;
    const { scalar: _m, ...mem } = REFINED_MEM;
    const { scalar: _d, ...disk } = PATH_DISK;
    // On agent a: two tasks from the reserved cpus, the third from the unreserved one; all mem
    // from the refined reservation and disk from the PATH disk; the persistent volume untouched.
    assert.deepEqual(byAgent("agent-a").map(strip), [
      [{ ...cpus, amount: 1 }, { ...mem, amount: 128 }, { ...disk, amount: 100 }],
      [{ ...cpus, amount: 1 }, { ...mem, amount: 128 }, { ...disk, amount: 100 }],
      [
        { name: "cpus", type: "SCALAR", role: "*", amount: 1 },
        { ...mem, amount: 128 },
        { ...disk, amount: 100 },
      ],
    ]);
    // On agent b the MOUNT disk is taken whole.
    const { scalar: _md, ...mount } = MOUNT_DISK;
    assert.deepEqual(byAgent("agent-b").map(strip), [[
      { name: "cpus", type: "SCALAR", role: "*", amount: 1 },
      { name: "mem", type: "SCALAR", role: "*", amount: 128 },
      { ...mount, amount: 500 },
    ]]);
    for (const t of master.launchedTasks) {
      for (const r of t.resources) assert.equal(r.allocation_info?.role, "relay");
    }
  } finally {
    await finish(h, master);
  }
});

const AGENTS = [
  { id: "agent-1", hostname: "a1", resources: { cpus: 4, mem: 1024, disk: 1000 } },
  { id: "agent-2", hostname: "a2", resources: { cpus: 4, mem: 1024, disk: 1000 } },
];

/**
 * What a control loop does when launches keep failing: every 100 ms, the executor's upkeep, and
 * when no warmer waits, starts or runs, it asks for `need` more.
 */
async function keepLaunching(h: FrameworkHarness, need: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    h.executor.tick();
    const live = h.executor.tasks().filter((t) =>
      t.state === "pending" || t.state === "starting" || t.state === "running"
    );
    if (live.length === 0) h.executor.launch("warmer", need);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const state of ["TASK_ERROR", "TASK_DROPPED"] as const) {
  Deno.test(`launches refused with ${state}: backed off (1, 2, 4 s), said once, counted`, async () => {
    const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
    master.refuseLaunches(Infinity, state);
    const h = await startFramework({ leader: () => master.url, refuseSeconds: 1 });
    try {
      await until("subscribed", () => h.executor.connected);
      await keepLaunching(h, 3, 5000);
      const accepts = master.callsOfType("ACCEPT").length;
      const refused = updatesOf(master, state).length;
      const offerCalls = master.calls.filter((c) => c.type === "SUPPRESS" || c.type === "REVIVE");
      // Refusals start pauses of 1, 2 and 4 s: launches at about 0, 1, 3 s in 5 s (a round may
      // take two offers). Without backoff: 20+ of each in 5 s.
      assert.ok(accepts >= 3 && accepts <= 6, `${accepts} ACCEPTs in 5 s`);
      assert.ok(offerCalls.length <= 10, `${offerCalls.length} SUPPRESS/REVIVE calls in 5 s`);
      assert.equal(h.executor.stats.launchesRefused.warmer, refused);
      const said = h.logs.filter((l) => /^warn .*the master refused a warmer launch/.test(l));
      assert.equal(said.length, 1, h.logs.join("\n"));
      assert.match(said[0], new RegExp(state));
      assert.equal(master.subscriptions, 1);
      console.log(
        `${state}: ${accepts} ACCEPTs, ${refused} refused, ${offerCalls.length} offer calls`,
      );
    } finally {
      await finish(h, master);
    }
  });
}

Deno.test("an update re-sent after its acknowledgement was lost is acknowledged again", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1, resendSeconds: 0.3 });
  master.loseAcks(2);
  const h = await startFramework({ leader: () => master.url });
  try {
    await until("subscribed", () => h.executor.connected);
    h.executor.launch("warmer", 2);
    await until(
      "two running tasks, every update acknowledged",
      () =>
        master.tasks().filter((t) => t.state === "TASK_RUNNING").length === 2 &&
        master.unacknowledged() === 0,
    );
    assert.equal(master.lostAcks.length, 2);
    for (const uuid of master.lostAcks) assert.equal(master.ackCount(uuid), 1, uuid);
    assert.ok(h.executor.stats.duplicateUpdates >= 2, `${h.executor.stats.duplicateUpdates}`);
    assert.equal(master.subscriptions, 1);
  } finally {
    await finish(h, master);
  }
});

Deno.test("a 400 on a call is logged and counted, not a re-subscription; a 403 re-subscribes", async () => {
  const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
  master.failCalls("ACCEPT", 400, 2);
  const h = await startFramework({ leader: () => master.url });
  try {
    await until("subscribed", () => h.executor.connected);
    for (let round = 0; round < 3; round++) {
      h.executor.launch("warmer", 1);
      await until(
        `round ${round} decided`,
        () => h.executor.tasks().every((t) => t.state !== "pending" && t.state !== "starting"),
      );
    }
    const states = h.executor.tasks().map((t) => t.state);
    assert.deepEqual(states, ["lost", "lost", "running"]);
    assert.equal(master.subscriptions, 1, "the subscription stayed");
    assert.equal(h.client().reconnects, 0);
    assert.deepEqual(h.executor.stats.callsRejected, { 400: 2 });
    assert.equal(h.logs.filter((l) => /^warn .*ACCEPT answered 400/.test(l)).length, 2);
    assert.ok(!h.logs.some((l) => /dropping the stream/.test(l)));
    // A 403 says the subscription is gone: subscribe again.
    master.failCalls("KILL", 403, 1);
    h.executor.kill(h.executor.tasks().filter((t) => t.state === "running").map((t) => t.id));
    await until("re-subscribed after a 403", () => master.subscriptions === 2, 5000);
    assert.deepEqual(h.executor.stats.callsRejected, { 400: 2, 403: 1 });
  } finally {
    await finish(h, master);
  }
});

Deno.test("relay.mesos --docker-image: tasks get no PATH of ours unless --env PATH", async () => {
  const { runRelay, sleepWarmersOnMesos } = await import("./support/relay_process.ts");
  for (const asked of [false, true]) {
    const master = await startTestMaster({ agents: AGENTS, heartbeatSeconds: 1 });
    const stateDir = await Deno.makeTempDir();
    try {
      const r = await runRelay(
        sleepWarmersOnMesos(master.url, stateDir, 1, [
          "--docker-image",
          "busybox:1.36",
          "--env",
          "QUEUE=q1",
          ...(asked ? ["--env", "PATH"] : []),
          "--delay",
          "0.2",
          "--duration",
          "2",
          "--on-exit",
          "kill",
        ]),
        { env: { PATH: `/scheduler/only:${Deno.env.get("PATH")}` } },
      );
      assert.equal(r.code, 0, r.stderr);
      const info = master.launchedTasks[0];
      assert.equal(info.container?.docker?.image, "busybox:1.36");
      const names = info.command!.environment!.variables.map((v) => v.name);
      if (asked) {
        assert.deepEqual(names, ["QUEUE", "PATH", "RELAY_TASK_ID", "RELAY_TASK_KIND"]);
        const path = info.command!.environment!.variables.find((v) => v.name === "PATH")!;
        assert.match(path.value, /^\/scheduler\/only:/);
      } else {
        assert.deepEqual(names, ["QUEUE", "RELAY_TASK_ID", "RELAY_TASK_KIND"]);
      }
    } finally {
      await master.close();
      await Deno.remove(stateDir, { recursive: true });
    }
  }
});
