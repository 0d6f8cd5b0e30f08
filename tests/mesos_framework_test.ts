import assert from "node:assert/strict";
import { ManualClock, until } from "./support/manual_clock.ts";
import { VirtualClock } from "../lib/clock.ts";
import type { BackendEvent, TaskEvent } from "../lib/executor/types.ts";
import type { ClientHandlers, SchedulerConnection } from "../lib/mesos/connection.ts";
import { MesosExecutor, type MesosExecutorOptions, taskStateOf } from "../lib/mesos/framework.ts";
import { REVIVE_AFTER_MS } from "../lib/mesos/offer_interest.ts";
import type { Call, Offer, TaskStatus } from "../lib/mesos/messages.ts";

/** A connection double: records calls, lets the test deliver events. */
class FakeConnection implements SchedulerConnection {
  connected = false;
  reconnects = 0;
  readonly calls: Omit<Call, "framework_id">[] = [];
  failing = new Set<string>();
  /** Calls of these types stay unanswered until `answer()`: a slow master. */
  holding = new Set<string>();
  readonly held: { type: string; answer: () => void }[] = [];
  constructor(readonly handlers: ClientHandlers) {}
  start() {}
  call(call: Omit<Call, "framework_id">): Promise<void> {
    this.calls.push(call);
    if (this.holding.has(call.type)) {
      return new Promise((resolve) => this.held.push({ type: call.type, answer: resolve }));
    }
    return this.failing.has(call.type)
      ? Promise.reject(new Error(`${call.type} refused`))
      : Promise.resolve();
  }
  /** Answers the oldest held call with 202. */
  answer() {
    this.held.shift()!.answer();
  }
  close() {
    return Promise.resolve();
  }
  subscribe(frameworkId = "fw-1") {
    this.connected = true;
    this.handlers.onConnected({ leader: "http://m:5050", frameworkId, heartbeatSeconds: 15 });
  }
  of(type: Call["type"]) {
    return this.calls.filter((c) => c.type === type);
  }
}

function offer(id: string, cpus: number, mem: number, role = "*"): Offer {
  return {
    id: { value: id },
    framework_id: { value: "fw-1" },
    agent_id: { value: `agent-${id}` },
    hostname: `host-${id}`,
    resources: [
      { name: "cpus", type: "SCALAR", scalar: { value: cpus }, role, allocation_info: { role } },
      { name: "mem", type: "SCALAR", scalar: { value: mem }, role, allocation_info: { role } },
    ],
  };
}

async function setup(overrides: Partial<MesosExecutorOptions> = {}) {
  const stateDir = await Deno.makeTempDir();
  let conn!: FakeConnection;
  const fatal: string[] = [];
  const logs: string[] = [];
  const executor = new MesosExecutor({
    connect: (h) => (conn = new FakeConnection(h)),
    frameworkName: "queue",
    user: "relay",
    roles: ["*"],
    checkpoint: true,
    failoverTimeoutSeconds: 3600,
    labels: [],
    refuseSeconds: 7,
    taskResources: { cpus: 1, mem: 64, disk: 0, gpus: 0 },
    warmer: "echo warm",
    cooler: "./consume",
    env: { PATH: "/bin", QUEUE: "q1" },
    uris: ["http://files/consume"],
    stateDir,
    clock: new VirtualClock(1000),
    log: (level, msg) => logs.push(`${level} ${msg}`),
    onFatal: (r) => fatal.push(r),
    ...overrides,
  });
  const events: TaskEvent[] = [];
  executor.onTaskEvent((e) => events.push(e));
  const backend: BackendEvent[] = [];
  executor.onBackendEvent((e) => backend.push(e));
  await executor.start();
  return { executor, conn, stateDir, fatal, logs, events, backend };
}

/** Lets answered calls' continuations run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

function update(task: string, state: TaskStatus["state"], uuid?: string): TaskStatus {
  return {
    task_id: { value: task },
    state,
    agent_id: { value: "agent-a" },
    ...(uuid ? { uuid } : {}),
  };
}

Deno.test("waiting tasks are packed into offers and launched with full TaskInfos", async () => {
  const { executor, conn, stateDir } = await setup();
  conn.subscribe();
  await settle();
  const ids = executor.launch("cooler", 3);
  conn.handlers.onEvent({
    type: "OFFERS",
    offers: { offers: [offer("a", 2.5, 512), offer("b", 4, 512)] },
  });
  const accepts = conn.of("ACCEPT");
  assert.equal(accepts.length, 2);
  assert.deepEqual(accepts.map((c) => c.accept!.offer_ids[0].value), ["a", "b"]);
  const first = accepts[0].accept!.operations[0].launch!.task_infos;
  assert.equal(first.length, 2);
  const info = first[0];
  assert.equal(info.name, "relay.mesos cooler queue");
  assert.equal(info.task_id.value, ids[0]);
  assert.equal(info.agent_id.value, "agent-a");
  assert.equal(info.command!.shell, true);
  assert.equal(info.command!.value, "./consume");
  assert.deepEqual(info.command!.uris, [{ value: "http://files/consume" }]);
  const vars = Object.fromEntries(
    info.command!.environment!.variables.map((v) => [v.name, v.value]),
  );
  assert.deepEqual(vars, {
    PATH: "/bin",
    QUEUE: "q1",
    RELAY_TASK_ID: ids[0],
    RELAY_TASK_KIND: "cooler",
  });
  assert.deepEqual(info.resources.map((r) => [r.name, r.scalar!.value, r.allocation_info?.role]), [
    ["cpus", 1, "*"],
    ["mem", 64, "*"],
  ]);
  assert.equal(accepts[0].accept!.filters!.refuse_seconds, 7);
  // Every task has its own id in its environment, though the rest of it is shared.
  const envIds = accepts.flatMap((c) =>
    c.accept!.operations[0].launch!.task_infos.map((i) =>
      i.command!.environment!.variables.find((v) => v.name === "RELAY_TASK_ID")!.value
    )
  );
  assert.deepEqual(envIds, ids);
  assert.ok(executor.tasks().every((t) => t.state === "starting"));
  await settle();
  // Suppressed while idle after subscribing, revived by the launch, suppressed again once
  // everything was placed.
  assert.deepEqual(
    conn.calls.map((c) => c.type),
    ["RECONCILE", "SUPPRESS", "REVIVE", "ACCEPT", "ACCEPT", "SUPPRESS"],
  );
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("offers are never held: unused ones are declined; SUPPRESS when idle, REVIVE on demand", async () => {
  const { executor, conn, stateDir } = await setup();
  conn.subscribe();
  assert.equal(conn.of("SUPPRESS").length, 1, "nothing waits after subscribing");
  await settle();
  conn.handlers.onEvent({
    type: "OFFERS",
    offers: { offers: [offer("a", 0.5, 512), offer("b", 4, 8)] },
  });
  const declines = conn.of("DECLINE");
  assert.equal(declines.length, 1);
  assert.deepEqual(declines[0].decline!.offer_ids.map((o) => o.value), ["a", "b"]);
  assert.equal(declines[0].decline!.filters!.refuse_seconds, 7);
  executor.launch("warmer", 1);
  assert.equal(conn.of("REVIVE").length, 1);
  executor.launch("warmer", 1);
  await settle();
  assert.equal(conn.of("REVIVE").length, 1, "revived once");
  // Too small offers leave the tasks waiting (starvation): still pending, nothing piles up.
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("c", 0.5, 512)] } });
  assert.deepEqual(executor.tasks().map((t) => t.state), ["pending", "pending"]);
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("SUPPRESS and REVIVE are never in flight together, so the master ends as the tasks need", async () => {
  // Calls travel on separate connections: a REVIVE sent while a SUPPRESS is on its way may
  // reach the master first and leave the framework suppressed while tasks wait (seen in CI).
  const { executor, conn, stateDir } = await setup();
  conn.holding.add("SUPPRESS").add("REVIVE");
  conn.subscribe();
  assert.deepEqual(conn.held.map((h) => h.type), ["SUPPRESS"]);
  executor.launch("cooler", 2);
  executor.tick();
  assert.equal(conn.of("REVIVE").length, 0, "waits for the SUPPRESS to be answered");
  conn.answer();
  await settle();
  assert.deepEqual(conn.held.map((h) => h.type), ["REVIVE"], "then revives");
  // Placed while the REVIVE is on its way: once it is answered, SUPPRESS follows.
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 4, 512)] } });
  assert.equal(conn.of("SUPPRESS").length, 1);
  conn.answer();
  await settle();
  assert.deepEqual(conn.calls.map((c) => c.type), [
    "RECONCILE",
    "SUPPRESS",
    "REVIVE",
    "ACCEPT",
    "SUPPRESS",
  ]);
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("a failed REVIVE is sent again on the next tick, not in a tight loop", async () => {
  const { executor, conn, stateDir, logs } = await setup();
  conn.subscribe();
  await settle();
  conn.failing.add("REVIVE");
  executor.launch("warmer", 1);
  await settle();
  assert.equal(conn.of("REVIVE").length, 1);
  assert.ok(logs.some((l) => l.startsWith("warn") && l.includes("REVIVE refused")));
  conn.failing.delete("REVIVE");
  executor.tick(); // the next tick
  await settle();
  executor.tick();
  await settle();
  assert.equal(conn.of("REVIVE").length, 2, "retried once, then known to be on");
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("tasks waiting 5 s with no offer get another REVIVE, at most every 5 s", async () => {
  const clock = new VirtualClock(1000);
  const { executor, conn, stateDir } = await setup({ clock });
  conn.subscribe();
  await settle();
  executor.launch("warmer", 1);
  await settle();
  assert.equal(conn.of("REVIVE").length, 1);
  clock.advance(REVIVE_AFTER_MS - 1);
  executor.tick();
  await settle();
  assert.equal(conn.of("REVIVE").length, 1, "not yet");
  clock.advance(1);
  executor.tick();
  await settle();
  assert.equal(conn.of("REVIVE").length, 2, "starving: revived again");
  executor.tick();
  await settle();
  assert.equal(conn.of("REVIVE").length, 2, "not again at once");
  // Offers that come, even unusable ones, show the master is offering: no REVIVE for 5 s.
  clock.advance(REVIVE_AFTER_MS - 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("c", 0.5, 512)] } });
  clock.advance(REVIVE_AFTER_MS - 1);
  executor.tick();
  await settle();
  assert.equal(conn.of("REVIVE").length, 2);
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("status updates are recorded, then every delivery with a uuid acknowledged", async () => {
  const { executor, conn, events, stateDir } = await setup();
  conn.subscribe();
  const [id] = executor.launch("cooler", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 2, 512)] } });
  conn.handlers.onEvent({
    type: "UPDATE",
    update: { status: update(id, "TASK_RUNNING", "dXVpZDE=") },
  });
  assert.equal(executor.tasks()[0].state, "running");
  // The agent re-sends until an ack arrives (the first may be lost): acknowledged again, counted.
  conn.handlers.onEvent({
    type: "UPDATE",
    update: { status: update(id, "TASK_RUNNING", "dXVpZDE=") },
  });
  conn.handlers.onEvent({
    type: "UPDATE",
    update: { status: update(id, "TASK_FINISHED", "dXVpZDI=") },
  });
  const acks = conn.of("ACKNOWLEDGE").map((c) => c.acknowledge!.uuid);
  assert.deepEqual(acks, ["dXVpZDE=", "dXVpZDE=", "dXVpZDI="]);
  assert.equal(executor.stats.duplicateUpdates, 1);
  assert.equal(executor.stats.acknowledged, 3);
  assert.equal(executor.tasks()[0].state, "finished");
  assert.deepEqual(events.map((e) => e.task.state), ["pending", "starting", "running", "finished"]);
  // Reconciliation answers carry no uuid and are not acknowledged.
  conn.handlers.onEvent({ type: "UPDATE", update: { status: update(id, "TASK_FINISHED") } });
  assert.equal(conn.of("ACKNOWLEDGE").length, 3);
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("failed, lost and dropped tasks carry their reason", async () => {
  const { executor, conn, stateDir } = await setup();
  conn.subscribe();
  const ids = executor.launch("warmer", 2);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 4, 512)] } });
  conn.handlers.onEvent({
    type: "UPDATE",
    update: {
      status: {
        ...update(ids[0], "TASK_FAILED", "dTE="),
        reason: "REASON_COMMAND_EXECUTOR_FAILED",
        message: "exit 2",
      },
    },
  });
  conn.handlers.onEvent({
    type: "UPDATE",
    update: { status: update(ids[1], "TASK_DROPPED", "dTI=") },
  });
  const byId = Object.fromEntries(executor.tasks().map((t) => [t.id, t]));
  assert.equal(byId[ids[0]].state, "failed");
  assert.equal(byId[ids[0]].reason, "REASON_COMMAND_EXECUTOR_FAILED: exit 2");
  assert.equal(byId[ids[1]].state, "lost");
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("kill: waiting tasks are cancelled here, launched ones through KILL", async () => {
  const { executor, conn, stateDir } = await setup();
  conn.subscribe();
  const [a] = executor.launch("warmer", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 1, 512)] } });
  const [b] = executor.launch("warmer", 1);
  executor.kill([a, b]);
  const kills = conn.of("KILL");
  assert.equal(kills.length, 1);
  assert.equal(kills[0].kill!.task_id.value, a);
  assert.equal(kills[0].kill!.agent_id!.value, "agent-a");
  assert.equal(executor.tasks().find((t) => t.id === b)!.state, "killed");
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("the FrameworkID is saved, reused after a restart, and running tasks are adopted", async () => {
  const first = await setup();
  first.conn.subscribe("fw-42");
  assert.equal(Deno.readTextFileSync(`${first.stateDir}/framework_id`).trim(), "fw-42");
  const second = await setup({ stateDir: first.stateDir });
  assert.equal(second.executor.frameworkId, "fw-42");
  assert.equal(second.conn.handlers.frameworkInfo().id?.value, "fw-42");
  assert.equal(second.conn.handlers.frameworkInfo().name, "Relay.Mesos: queue");
  second.conn.subscribe("fw-42");
  const reconcile = second.conn.of("RECONCILE");
  assert.equal(reconcile.length, 1);
  assert.deepEqual(reconcile[0].reconcile!.tasks, [], "implicit: all tasks of the framework");
  second.conn.handlers.onEvent({
    type: "UPDATE",
    update: { status: update("relay-cooler-000007-a1b2c3", "TASK_RUNNING") },
  });
  second.conn.handlers.onEvent({
    type: "UPDATE",
    update: { status: update("someone-else", "TASK_RUNNING") },
  });
  const tasks = second.executor.tasks();
  assert.deepEqual(tasks.map((t) => [t.id, t.kind, t.state]), [
    ["relay-cooler-000007-a1b2c3", "cooler", "running"],
  ]);
  await Deno.remove(first.stateDir, { recursive: true });
});

Deno.test("an ERROR event ends the run; a failed ACCEPT marks its tasks lost", async () => {
  const { executor, conn, fatal, stateDir } = await setup();
  conn.subscribe();
  conn.failing.add("ACCEPT");
  executor.launch("cooler", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 1, 512)] } });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(executor.tasks()[0].state, "lost");
  conn.handlers.onEvent({ type: "ERROR", error: { message: "Framework has been removed" } });
  assert.deepEqual(fatal, ["Mesos master sent ERROR: Framework has been removed"]);
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("Mesos task states map onto the executor-neutral ones", () => {
  assert.equal(taskStateOf("TASK_STAGING"), "starting");
  assert.equal(taskStateOf("TASK_KILLING"), "running");
  assert.equal(taskStateOf("TASK_ERROR"), "failed");
  assert.equal(taskStateOf("TASK_GONE"), "lost");
  assert.equal(taskStateOf("TASK_KILLED"), "killed");
});

Deno.test("multi-role offers: resources keep the role they were offered under", async () => {
  const { executor, conn, stateDir } = await setup({ roles: ["prod", "batch"] });
  conn.subscribe();
  assert.deepEqual(conn.handlers.frameworkInfo().roles, ["prod", "batch"]);
  assert.deepEqual(conn.handlers.frameworkInfo().capabilities, [
    { type: "MULTI_ROLE" },
    { type: "PARTITION_AWARE" },
  ]);
  executor.launch("cooler", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 1, 64, "batch")] } });
  const info = conn.of("ACCEPT")[0].accept!.operations[0].launch!.task_infos[0];
  assert.ok(info.resources.every((r) => r.allocation_info?.role === "batch" && r.role === "batch"));
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("ready: at once on a first subscription, after a settle time when resuming", async () => {
  const clock = new VirtualClock(0);
  const fresh = await setup({ clock });
  assert.equal(fresh.executor.ready(), false, "not before subscribing");
  fresh.conn.subscribe("fw-9");
  assert.equal(fresh.executor.ready(), true);
  const resumed = await setup({ clock, stateDir: fresh.stateDir, reconcileSettleMs: 2000 });
  resumed.conn.subscribe("fw-9");
  assert.equal(resumed.executor.ready(), false, "reconciliation answers may still come");
  clock.advance(2000);
  assert.equal(resumed.executor.ready(), true);
  await Deno.remove(fresh.stateDir, { recursive: true });
});

Deno.test("--docker-image: tasks carry a Docker ContainerInfo", async () => {
  const { executor, conn, stateDir } = await setup({
    docker: {
      image: "busybox:1.36",
      network: "BRIDGE",
      forcePull: true,
      volumes: [{ host: "/srv/data", container: "/data", mode: "RO" }],
      parameters: [{ key: "memory-swap", value: "-1" }],
    },
  });
  conn.subscribe();
  executor.launch("cooler", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 1, 64)] } });
  const info = conn.of("ACCEPT")[0].accept!.operations[0].launch!.task_infos[0];
  assert.deepEqual(info.container, {
    type: "DOCKER",
    docker: {
      image: "busybox:1.36",
      network: "BRIDGE",
      force_pull_image: true,
      parameters: [{ key: "memory-swap", value: "-1" }],
    },
    volumes: [{ container_path: "/data", host_path: "/srv/data", mode: "RO" }],
  });
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("task environment: RELAY_TASK_ID and RELAY_TASK_KIND override the configured env in place", async () => {
  const { executor, conn, stateDir } = await setup({
    env: { RELAY_TASK_KIND: "x", PATH: "/bin", RELAY_TASK_ID: "y" },
  });
  conn.subscribe();
  const warm = executor.launch("warmer", 1);
  const cool = executor.launch("cooler", 2);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 8, 1024)] } });
  const infos = conn.of("ACCEPT")[0].accept!.operations[0].launch!.task_infos;
  assert.deepEqual(
    infos.map((i) => [i.name, i.command!.value, i.labels!.labels[0].value]),
    [
      ["relay.mesos warmer queue", "echo warm", "warmer"],
      ["relay.mesos cooler queue", "./consume", "cooler"],
      ["relay.mesos cooler queue", "./consume", "cooler"],
    ],
  );
  assert.deepEqual(
    infos.map((i) => i.command!.environment!.variables),
    [...warm, ...cool].map((id, n) => [
      { name: "RELAY_TASK_KIND", value: n === 0 ? "warmer" : "cooler" },
      { name: "PATH", value: "/bin" },
      { name: "RELAY_TASK_ID", value: id },
    ]),
  );
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("seen uuids are forgotten after twice the retain time: memory stays flat", async () => {
  const clock = new VirtualClock(1000);
  const { executor, conn, stateDir } = await setup({ clock, retainMs: 60_000 });
  conn.subscribe();
  const [id] = executor.launch("cooler", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 2, 512)] } });
  const running = {
    type: "UPDATE" as const,
    update: { status: update(id, "TASK_RUNNING", "dTE=") },
  };
  conn.handlers.onEvent(running);
  clock.advance(60_000);
  executor.tick();
  conn.handlers.onEvent(running); // A duplicate within the window: acknowledged and counted.
  assert.equal(conn.of("ACKNOWLEDGE").length, 2);
  assert.equal(executor.stats.duplicateUpdates, 1);
  clock.advance(61_000);
  executor.tick(); // Prunes uuids older than 120 s.
  // The uuid is forgotten: acknowledged again, no longer known to be a duplicate.
  conn.handlers.onEvent(running);
  assert.equal(conn.of("ACKNOWLEDGE").length, 3);
  assert.equal(executor.stats.duplicateUpdates, 1);
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("a refused launch backs that kind off: capped exponential, said once, counted", async () => {
  const clock = new VirtualClock(1000);
  const { executor, conn, logs, stateDir } = await setup({ clock });
  conn.subscribe();
  const refuse = (ids: string[]) => {
    for (const id of ids) {
      conn.handlers.onEvent({
        type: "UPDATE",
        update: {
          status: {
            ...update(id, "TASK_ERROR"),
            source: "SOURCE_MASTER",
            reason: "REASON_TASK_INVALID",
            message: "Task uses more resources than available",
          },
        },
      });
    }
  };
  const accepts = () => conn.of("ACCEPT").length;
  // Two refused in one ACCEPT count as one refusal: a 1 s pause.
  executor.launch("warmer", 2);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 4, 512)] } });
  assert.equal(accepts(), 1);
  refuse(conn.of("ACCEPT")[0].accept!.operations[0].launch!.task_infos.map((t) => t.task_id.value));
  assert.deepEqual(executor.stats.launchesRefused, { warmer: 2 });
  const pauses: number[] = [];
  let last = clock.now();
  for (let round = 0; round < 8; round++) {
    const [id] = executor.launch("warmer", 1);
    // Offers during the pause are declined; a cooler is not held back by the warmers' pause.
    conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer(`w${round}`, 4, 512)] } });
    assert.equal(accepts(), round + 1, `round ${round}: nothing launched in the pause`);
    while (accepts() === round + 1) {
      clock.advance(250);
      executor.tick();
      conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer(`x${round}`, 4, 512)] } });
    }
    pauses.push(clock.now() - last);
    last = clock.now();
    const launched = conn.of("ACCEPT").at(-1)!.accept!.operations[0].launch!.task_infos;
    assert.ok(launched.some((t) => t.task_id.value === id));
    refuse(launched.map((t) => t.task_id.value));
  }
  assert.deepEqual(pauses, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  // Said once (warn), the rest at debug; cooler launches were never held back.
  assert.equal(
    logs.filter((l) => /^warn .*refused a warmer launch/.test(l)).length,
    1,
    logs.join("\n"),
  );
  const [cool] = executor.launch("cooler", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("c", 4, 512)] } });
  const infos = conn.of("ACCEPT").at(-1)!.accept!.operations[0].launch!.task_infos;
  assert.deepEqual(infos.map((t) => t.task_id.value), [cool]);
  // A warmer that runs ends the backoff.
  clock.advance(60_000);
  executor.tick();
  const [w] = executor.launch("warmer", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("y", 4, 512)] } });
  conn.handlers.onEvent({ type: "UPDATE", update: { status: update(w, "TASK_RUNNING", "dTE=") } });
  executor.launch("warmer", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("z", 4, 512)] } });
  assert.equal(conn.of("ACCEPT").at(-1)!.accept!.offer_ids[0].value, "z");
  assert.ok(logs.some((l) => /warmer launches accepted again/.test(l)));
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("while every waiting task is backed off, offers are suppressed; REVIVE when the pause ends", async () => {
  const clock = new VirtualClock(1000);
  const { executor, conn, stateDir } = await setup({ clock });
  conn.subscribe();
  await settle();
  const [id] = executor.launch("warmer", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 4, 512)] } });
  conn.handlers.onEvent({ type: "UPDATE", update: { status: update(id, "TASK_DROPPED") } });
  await settle();
  executor.launch("warmer", 1);
  executor.tick();
  await settle();
  const offerCalls = () =>
    conn.calls.filter((c) => c.type === "SUPPRESS" || c.type === "REVIVE").map((c) => c.type);
  assert.equal(offerCalls().at(-1), "SUPPRESS", offerCalls().join());
  clock.advance(1000);
  executor.tick();
  await settle();
  assert.equal(offerCalls().at(-1), "REVIVE", offerCalls().join());
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("killGraceSeconds (--task-kill-grace): kill_policy in every TaskInfo and KILL", async () => {
  for (const grace of [undefined, 2.5]) {
    const { executor, conn, stateDir } = await setup(
      grace === undefined ? {} : { killGraceSeconds: grace },
    );
    conn.subscribe();
    const [id] = executor.launch("warmer", 1);
    conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 2, 512)] } });
    executor.kill([id]);
    const info = conn.of("ACCEPT")[0].accept!.operations[0].launch!.task_infos[0];
    const kill = conn.of("KILL")[0].kill!;
    if (grace === undefined) {
      assert.equal(info.kill_policy, undefined);
      assert.equal(kill.kill_policy, undefined);
    } else {
      assert.deepEqual(info.kill_policy, { grace_period: { nanoseconds: 2_500_000_000 } });
      assert.deepEqual(kill.kill_policy, { grace_period: { nanoseconds: 2_500_000_000 } });
    }
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("GPU_RESOURCES is asked for exactly when tasks need GPUs", async () => {
  const gpu = await setup({ taskResources: { cpus: 1, mem: 64, disk: 0, gpus: 1 } });
  assert.deepEqual(gpu.conn.handlers.frameworkInfo().capabilities!.map((c) => c.type), [
    "MULTI_ROLE",
    "PARTITION_AWARE",
    "GPU_RESOURCES",
  ]);
  await Deno.remove(gpu.stateDir, { recursive: true });
});

Deno.test("taskLabels (--mesos-task-label) follow relay.mesos.kind on every TaskInfo", async () => {
  const { executor, conn, stateDir } = await setup({
    taskLabels: [{ key: "team", value: "queue" }, { key: "cost-center", value: "42" }],
  });
  conn.subscribe();
  executor.launch("warmer", 1);
  executor.launch("cooler", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 4, 512)] } });
  const infos = conn.of("ACCEPT")[0].accept!.operations[0].launch!.task_infos;
  assert.deepEqual(
    infos.map((i) => i.labels),
    ["warmer", "cooler"].map((kind) => ({
      labels: [
        { key: "relay.mesos.kind", value: kind },
        { key: "team", value: "queue" },
        { key: "cost-center", value: "42" },
      ],
    })),
  );
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("TASK_UNREACHABLE keeps a task as it was until it is back or gone", async () => {
  const { executor, conn, logs, events, stateDir } = await setup();
  conn.subscribe();
  const [a, b] = executor.launch("warmer", 2);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 4, 512)] } });
  conn.handlers.onEvent({ type: "UPDATE", update: { status: update(a, "TASK_RUNNING", "dTE=") } });
  const unreachable = (id: string) =>
    conn.handlers.onEvent({
      type: "UPDATE",
      update: {
        status: {
          ...update(id, "TASK_UNREACHABLE"),
          source: "SOURCE_MASTER",
          reason: "REASON_AGENT_REMOVED",
        },
      },
    });
  unreachable(a);
  unreachable(b); // b never ran: it stays starting, not made running
  const state = (id: string) => executor.tasks().find((t) => t.id === id)!.state;
  assert.equal(state(a), "running");
  assert.equal(state(b), "starting");
  assert.equal(logs.filter((l) => /unreachable/.test(l)).length, 2);
  // Back: a is running again (said once); gone: b is lost.
  conn.handlers.onEvent({ type: "UPDATE", update: { status: update(a, "TASK_RUNNING") } });
  assert.ok(logs.some((l) => l.includes(`task ${a} is reachable again`)));
  conn.handlers.onEvent({ type: "UPDATE", update: { status: update(b, "TASK_GONE") } });
  assert.equal(state(a), "running");
  assert.equal(state(b), "lost");
  assert.deepEqual(
    events.filter((e) => e.task.id === b).map((e) => e.task.state),
    ["pending", "starting", "lost"],
  );
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("holdLaunches (failures in a row): the kind's tasks wait through offers until the hold ends", async () => {
  const clock = new VirtualClock(1000);
  const { executor, conn, stateDir } = await setup({ clock });
  conn.subscribe();
  await settle();
  executor.holdLaunches("warmer", 3000);
  const [w] = executor.launch("warmer", 1);
  const [c] = executor.launch("cooler", 1);
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("a", 4, 512)] } });
  await settle();
  const launched = () =>
    conn.of("ACCEPT").flatMap((a) =>
      a.accept!.operations.flatMap((o) => o.launch?.task_infos ?? []).map((t) => t.task_id.value)
    );
  assert.deepEqual(launched(), [c], "the cooler goes, the held warmer waits");
  assert.equal(executor.tasks().find((t) => t.id === w)?.state, "pending");
  clock.advance(2000);
  executor.tick();
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers: [offer("b", 4, 512)] } });
  await settle();
  assert.deepEqual(launched(), [c, w], "launched once the hold ended");
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("backend events: down from start, connected, offers with what became of them, leader changes, disconnected", async () => {
  let leaderListener: ((leader?: string, previous?: string) => void) | undefined;
  const { executor, conn, stateDir, backend } = await setup({
    watchLeader: (listener) => leaderListener = listener,
  });
  assert.deepEqual(backend, [{ kind: "disconnected", reason: "subscribing" }]);
  assert.equal(executor.status().connected, false);
  assert.equal(executor.status().disconnectedSince, 1000, "down since start");
  conn.subscribe();
  executor.launch("cooler", 1);
  conn.handlers.onEvent({
    type: "OFFERS",
    offers: { offers: [offer("a", 1, 512), offer("b", 0.1, 8)] },
  });
  leaderListener!("http://m2:5050", "http://m:5050");
  conn.handlers.onDisconnected("stream ended");
  assert.deepEqual(backend.slice(1), [
    { kind: "connected", leader: "http://m:5050", frameworkId: "fw-1" },
    { kind: "offers", received: 2, used: 1, declined: 1 },
    { kind: "leader", leader: "http://m2:5050", previous: "http://m:5050" },
    { kind: "disconnected", reason: "stream ended" },
  ]);
  const status = executor.status();
  assert.equal(status.frameworkId, "fw-1");
  assert.equal(status.offersReceived, 2);
  assert.equal(status.offersUsed, 1);
  await executor.shutdown("leave", 0);
  await Deno.remove(stateDir, { recursive: true });
});

Deno.test("shutdown waits a little for its SUPPRESS to be taken, and no longer", async () => {
  for (const answered of [true, false]) {
    const clock = new ManualClock();
    const { executor, conn, stateDir } = await setup({ clock });
    conn.subscribe();
    conn.holding.add("SUPPRESS");
    const before = conn.of("SUPPRESS").length;
    let done = false;
    const shutdown = executor.shutdown("leave", 0).then(() => done = true);
    await until("the SUPPRESS is sent", () => conn.of("SUPPRESS").length === before + 1);
    await clock.advance(1000);
    assert.equal(done, false, "waiting for the master to take it");
    if (answered) conn.answer();
    else await clock.advance(1000);
    await until("shutdown done", () => done);
    await shutdown;
    await Deno.remove(stateDir, { recursive: true });
  }
});
