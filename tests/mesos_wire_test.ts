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

async function until(what: string, ok: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
