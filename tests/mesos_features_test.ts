/**
 * What a Mesos user expects of a framework, end to end against the in-repo test master with real
 * task processes: PARTITION_AWARE (an unreachable task is not lost until gone) and GPU agents
 * offered only because GPU_RESOURCES is asked for.
 */
import assert from "node:assert/strict";
import { startTestMaster, type TestMaster } from "./support/mesos_master.ts";
import { type FrameworkHarness, startFramework } from "./support/mesos_harness.ts";
import { untilWithin } from "./support/until.ts";

const until = untilWithin(8_000);

async function finish(h: FrameworkHarness, master: TestMaster) {
  await h.executor.shutdown("kill", 0);
  await master.close();
  await Deno.remove(h.stateDir, { recursive: true });
}

Deno.test("PARTITION_AWARE: an unreachable task stays running until its agent is back or gone", async () => {
  const master = await startTestMaster({
    agents: [
      { id: "agent-1", hostname: "a1", resources: { cpus: 1, mem: 256, disk: 0 } },
      { id: "agent-2", hostname: "a2", resources: { cpus: 1, mem: 256, disk: 0 } },
    ],
    heartbeatSeconds: 1,
  });
  const h = await startFramework({ leader: () => master.url });
  const running = () => h.executor.tasks().filter((t) => t.state === "running");
  try {
    await until("subscribed", () => h.executor.connected);
    assert.ok(
      master.frameworks()[0].info.capabilities!.some((c) => c.type === "PARTITION_AWARE"),
    );
    h.executor.launch("warmer", 2);
    await until("two running", () => running().length === 2);
    const onAgent1 = master.tasks().find((t) => t.agentId === "agent-1")!.taskId;

    master.partitionAgent("agent-1");
    await until("TASK_UNREACHABLE seen", () => h.logs.some((l) => /is unreachable/.test(l)));
    assert.equal(running().length, 2, "not counted lost while unreachable");
    assert.equal(
      master.updatesSent.filter((u) => u.status.state === "TASK_UNREACHABLE").length,
      1,
    );

    master.healPartition("agent-1");
    await until("back", () => h.logs.some((l) => l.includes(`task ${onAgent1} is reachable`)));
    assert.equal(running().length, 2);

    // Partitioned again, then removed for good: gone, so lost.
    master.partitionAgent("agent-1");
    master.removeAgent("agent-1");
    await until("gone", () => h.executor.tasks().find((t) => t.id === onAgent1)?.state === "lost");
    assert.equal(running().length, 1);
    assert.ok(master.updatesSent.some((u) => u.status.state === "TASK_GONE"));
    assert.equal(h.executor.stats.updates.TASK_LOST, undefined, "never TASK_LOST: partition aware");
  } finally {
    await finish(h, master);
  }
});

Deno.test("GPU tasks: GPU_RESOURCES is asked for, so the GPU agent's offers come and tasks launch", async () => {
  const agents = [
    { id: "gpu-1", hostname: "g1", resources: { cpus: 4, mem: 1024, disk: 0, gpus: 2 } },
  ];
  for (const gpus of [1, 0]) {
    const master = await startTestMaster({ agents, heartbeatSeconds: 1 });
    const h = await startFramework({
      leader: () => master.url,
      taskResources: { cpus: 1, mem: 128, disk: 0, gpus },
    });
    try {
      await until("subscribed", () => h.executor.connected);
      h.executor.launch("warmer", 2);
      if (gpus > 0) {
        await until(
          "two GPU tasks running",
          () => h.executor.tasks().filter((t) => t.state === "running").length === 2,
        );
        for (const t of master.launchedTasks) {
          assert.deepEqual(t.resources.find((r) => r.name === "gpus")?.scalar, { value: 1 });
        }
      } else {
        // Without GPUs asked for, GPU_RESOURCES is not claimed: Mesos keeps GPU agents away.
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(master.offersSent.length, 0);
        assert.ok(
          !master.frameworks()[0].info.capabilities!.some((c) => c.type === "GPU_RESOURCES"),
        );
      }
    } finally {
      await finish(h, master);
    }
  }
});
