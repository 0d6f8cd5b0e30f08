import assert from "node:assert/strict";
import {
  type ContentType,
  contentTypeOf,
  decodeEvent,
  encodeCall,
  mediaType,
} from "../lib/mesos/codec.ts";
import type { Call, Event, FrameworkInfo, Offer, TaskInfo } from "../lib/mesos/messages.ts";
import { RecordIODecoder } from "../lib/mesos/recordio.ts";
import { startTestMaster, type TestAgent, type TestMaster } from "./support/mesos_master.ts";

const CTS: ContentType[] = ["json", "protobuf"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const AGENTS: TestAgent[] = [
  { id: "agent-1", hostname: "node1", resources: { cpus: 2, mem: 1024, disk: 1000 } },
];

/** Reads a SUBSCRIBE stream in the background; tests take events out of it by predicate. */
class EventReader {
  readonly all: Event[] = [];
  readonly #queue: Event[] = [];
  #wake?: () => void;
  error?: Error;
  ended = false;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly done: Promise<void>;

  constructor(body: ReadableStream<Uint8Array>, ct: ContentType) {
    const reader = body.getReader();
    this.#reader = reader;
    const decoder = new RecordIODecoder(1 << 20);
    this.done = (async () => {
      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const record of decoder.push(value)) {
            const event = decodeEvent(record, ct);
            this.all.push(event);
            this.#queue.push(event);
          }
          this.#wake?.();
        }
      } catch (err) {
        this.error = err as Error;
      } finally {
        this.ended = true;
        this.#wake?.();
      }
    })();
  }

  /** Removes and returns the first queued event matching `pred`, waiting up to `timeoutMs`. */
  async take(pred: (e: Event) => boolean, what: string, timeoutMs = 3000): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const i = this.#queue.findIndex(pred);
      if (i >= 0) return this.#queue.splice(i, 1)[0];
      if (this.ended) throw new Error(`stream ended while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Takes the next event of a type. */
  type(type: Event["type"], timeoutMs = 3000): Promise<Event> {
    return this.take((e) => e.type === type, type, timeoutMs);
  }

  /** Drops queued events matching `pred` (e.g. heartbeats) and returns how many. */
  drop(pred: (e: Event) => boolean): number {
    let n = 0;
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      if (pred(this.#queue[i])) {
        this.#queue.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  queued(pred: (e: Event) => boolean = () => true): Event[] {
    return this.#queue.filter(pred);
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
    await this.done;
  }
}

interface Subscription {
  ct: ContentType;
  response: Response;
  streamId: string;
  frameworkId: string;
  events: EventReader;
}

function subscribeCall(info: Partial<FrameworkInfo> = {}, suppressed?: string[]): Call {
  const framework_info: FrameworkInfo = { user: "tester", name: "relay-test", ...info };
  return {
    type: "SUBSCRIBE",
    ...(info.id ? { framework_id: info.id } : {}),
    subscribe: { framework_info, ...(suppressed ? { suppressed_roles: suppressed } : {}) },
  };
}

async function subscribe(
  master: TestMaster,
  ct: ContentType,
  info: Partial<FrameworkInfo> = {},
  suppressed?: string[],
): Promise<Subscription> {
  const response = await fetch(`${master.url}/api/v1/scheduler`, {
    method: "POST",
    headers: { "Content-Type": mediaType(ct), Accept: mediaType(ct) },
    body: encodeCall(subscribeCall(info, suppressed), ct),
  });
  assert.equal(response.status, 200);
  assert.equal(contentTypeOf(response.headers.get("Content-Type")), ct);
  const events = new EventReader(response.body!, ct);
  const first = await events.take(() => true, "first event");
  assert.equal(first.type, "SUBSCRIBED", JSON.stringify(first));
  return {
    ct,
    response,
    streamId: response.headers.get("Mesos-Stream-Id")!,
    frameworkId: first.subscribed!.framework_id.value,
    events,
  };
}

/** A non-subscribe call; returns status and body text. */
async function post(
  master: TestMaster,
  sub: Subscription,
  call: Omit<Call, "framework_id">,
  opts: { streamId?: string | null; frameworkId?: string } = {},
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { "Content-Type": mediaType(sub.ct) };
  const streamId = opts.streamId === undefined ? sub.streamId : opts.streamId;
  if (streamId !== null) headers["Mesos-Stream-Id"] = streamId;
  const full = { ...call, framework_id: { value: opts.frameworkId ?? sub.frameworkId } } as Call;
  const res = await fetch(`${master.url}/api/v1/scheduler`, {
    method: "POST",
    headers,
    body: encodeCall(full, sub.ct),
  });
  return { status: res.status, body: await res.text() };
}

async function expect202(master: TestMaster, sub: Subscription, call: Omit<Call, "framework_id">) {
  const { status, body } = await post(master, sub, call);
  assert.equal(status, 202, `${call.type}: ${body}`);
}

function launchCall(
  offer: Offer,
  tasks: TaskInfo[],
  refuseSeconds?: number,
): Omit<Call, "framework_id"> {
  return {
    type: "ACCEPT",
    accept: {
      offer_ids: [offer.id],
      operations: [{ type: "LAUNCH", launch: { task_infos: tasks } }],
      ...(refuseSeconds === undefined ? {} : { filters: { refuse_seconds: refuseSeconds } }),
    },
  };
}

function task(
  id: string,
  agentId: string,
  command: string,
  env: Record<string, string> = {},
): TaskInfo {
  return {
    name: id,
    task_id: { value: id },
    agent_id: { value: agentId },
    resources: [
      { name: "cpus", type: "SCALAR", scalar: { value: 0.1 } },
      { name: "mem", type: "SCALAR", scalar: { value: 32 } },
    ],
    command: {
      shell: true,
      value: command,
      environment: { variables: Object.entries(env).map(([name, value]) => ({ name, value })) },
    },
  };
}

const isUpdate = (taskId: string, state?: string) => (e: Event) =>
  e.type === "UPDATE" && e.update!.status.task_id.value === taskId &&
  (state === undefined || e.update!.status.state === state);

async function ack(master: TestMaster, sub: Subscription, e: Event) {
  const s = e.update!.status;
  await expect202(master, sub, {
    type: "ACKNOWLEDGE",
    acknowledge: { agent_id: s.agent_id!, task_id: s.task_id, uuid: s.uuid! },
  });
}

async function withMaster(
  opts: Parameters<typeof startTestMaster>[0],
  fn: (master: TestMaster) => Promise<void>,
): Promise<void> {
  const master = await startTestMaster(opts);
  try {
    await fn(master);
  } finally {
    await master.close();
  }
}

// ---------------------------------------------------------------------------------------------

for (const ct of CTS) {
  Deno.test(`master: SUBSCRIBE (${ct}) streams SUBSCRIBED then heartbeats`, async () => {
    await withMaster({ heartbeatSeconds: 0.15 }, async (master) => {
      const sub = await subscribe(master, ct);
      try {
        assert.match(sub.streamId, UUID);
        assert.equal(sub.events.all[0].subscribed!.heartbeat_interval_seconds, 0.15);
        assert.equal(sub.events.all[0].subscribed!.master_info!.port, master.port);
        await sub.events.type("HEARTBEAT");
        await sub.events.type("HEARTBEAT");
        master.stopHeartbeats();
        await new Promise((r) => setTimeout(r, 50));
        sub.events.drop((e) => e.type === "HEARTBEAT");
        await assert.rejects(sub.events.type("HEARTBEAT", 400), /timed out/);
        assert.equal(master.frameworks()[0].contentType, ct);
        assert.equal(master.subscriptions, 1);

        // A second subscription gets a fresh stream id and framework id.
        const other = await subscribe(master, ct);
        assert.notEqual(other.streamId, sub.streamId);
        assert.notEqual(other.frameworkId, sub.frameworkId);
        await other.events.cancel();
      } finally {
        await sub.events.cancel();
      }
    });
  });
}

Deno.test("master: Accept decides the stream's content type; 406/415/405/400 otherwise", async () => {
  await withMaster({}, async (master) => {
    const url = `${master.url}/api/v1/scheduler`;
    // JSON call, protobuf events.
    let res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/x-protobuf" },
      body: encodeCall(subscribeCall(), "json"),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Type"), "application/x-protobuf");
    const events = new EventReader(res.body!, "protobuf");
    assert.equal((await events.type("SUBSCRIBED")).type, "SUBSCRIBED");
    await events.cancel();

    res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/html" },
      body: encodeCall(subscribeCall(), "json"),
    });
    assert.equal(res.status, 406);
    await res.body?.cancel();

    res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "hello",
    });
    assert.equal(res.status, 415);
    await res.body?.cancel();

    res = await fetch(url, { method: "POST", body: new Uint8Array([1]) });
    assert.equal(res.status, 400); // no Content-Type (a Uint8Array body sets none)
    await res.body?.cancel();

    res = await fetch(url);
    assert.equal(res.status, 405);
    await res.body?.cancel();

    res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"type":"SUBSCRIBE"}',
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Expecting 'subscribe' to be present/);

    res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{not json",
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /malformed JSON/);

    res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Mesos-Stream-Id": crypto.randomUUID() },
      body: encodeCall(subscribeCall(), "json"),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /should not include the 'Mesos-Stream-Id'/);
  });
});

Deno.test("master: 400 on missing or wrong Mesos-Stream-Id, 403 when not subscribed", async () => {
  await withMaster({}, async (master) => {
    const sub = await subscribe(master, "json", { failover_timeout: 60 });
    try {
      let r = await post(master, sub, { type: "REVIVE" }, { streamId: null });
      assert.equal(r.status, 400);
      assert.match(r.body, /should include the 'Mesos-Stream-Id' header/);
      r = await post(master, sub, { type: "REVIVE" }, { streamId: crypto.randomUUID() });
      assert.equal(r.status, 400);
      assert.match(r.body, /didn't match/);
      r = await post(master, sub, { type: "REVIVE" }, { frameworkId: "never-subscribed" });
      assert.equal(r.status, 403);
      await expect202(master, sub, { type: "REVIVE" });
      // Missing framework_id is a validation error.
      const res = await fetch(`${master.url}/api/v1/scheduler`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Mesos-Stream-Id": sub.streamId },
        body: '{"type":"REVIVE"}',
      });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /Expecting 'framework_id'/);
    } finally {
      await sub.events.cancel();
    }
    // The stream is broken now: the framework is disconnected and calls get 403.
    await master.waitFor(() => !master.frameworks()[0].connected, "disconnect");
    const r = await post(master, sub, { type: "REVIVE" });
    assert.equal(r.status, 403);
    assert.match(r.body, /not subscribed/);
    assert.equal(master.callsOfType("REVIVE").length, 6);
  });
});

Deno.test("master: 307 to the leader when not leading, 503 while electing", async () => {
  await withMaster({}, async (master) => {
    const url = `${master.url}/api/v1/scheduler`;
    const init = () => ({
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: encodeCall(subscribeCall(), "json"),
      redirect: "manual" as const,
    });
    master.setLeader("http://127.0.0.2:5050");
    let res = await fetch(url, init());
    assert.equal(res.status, 307);
    assert.equal(res.headers.get("Location"), "//127.0.0.2:5050/api/v1/scheduler");
    await res.body?.cancel();
    master.setLeader("leader.example:5050");
    res = await fetch(url, init());
    assert.equal(res.headers.get("Location"), "leader.example:5050");
    await res.body?.cancel();
    master.setElecting(true);
    res = await fetch(url, init());
    assert.equal(res.status, 503);
    await res.body?.cancel();
    master.setElecting(false);
    master.setLeader(undefined);
    const sub = await subscribe(master, "json");
    await sub.events.cancel();
  });
});

for (const ct of CTS) {
  Deno.test(`master: offer, launch a real task, updates re-sent until acknowledged (${ct})`, async () => {
    await withMaster({ agents: AGENTS, resendSeconds: 0.2 }, async (master) => {
      const sub = await subscribe(master, ct);
      try {
        const offers = await sub.events.type("OFFERS");
        const offer = offers.offers!.offers[0];
        assert.equal(offer.agent_id.value, "agent-1");
        assert.equal(offer.hostname, "node1");
        assert.deepEqual(
          offer.resources.map((r) => [r.name, r.scalar?.value, r.role, r.allocation_info?.role]),
          [["cpus", 2, "*", "*"], ["mem", 1024, "*", "*"], ["disk", 1000, "*", "*"]],
        );
        await expect202(
          master,
          sub,
          launchCall(offer, [
            task("t-echo", "agent-1", 'echo "hi $GREETING"', { GREETING: "there" }),
          ]),
        );
        assert.deepEqual(master.offersAccepted, [offer.id.value]);

        // TASK_STARTING is re-sent (same uuid) until acknowledged.
        const starting = await sub.events.take(isUpdate("t-echo", "TASK_STARTING"), "STARTING");
        const status = starting.update!.status;
        assert.equal(status.source, "SOURCE_EXECUTOR");
        assert.equal(status.agent_id?.value, "agent-1");
        assert.equal(typeof status.timestamp, "number");
        assert.equal(atob(status.uuid!).length, 16);
        const again = await sub.events.take(isUpdate("t-echo", "TASK_STARTING"), "STARTING resent");
        assert.equal(again.update!.status.uuid, status.uuid);
        assert.equal(sub.events.queued(isUpdate("t-echo", "TASK_RUNNING")).length, 0);
        await ack(master, sub, starting);

        const running = await sub.events.take(isUpdate("t-echo", "TASK_RUNNING"), "RUNNING");
        assert.notEqual(running.update!.status.uuid, status.uuid);
        await ack(master, sub, running);
        const finished = await sub.events.take(isUpdate("t-echo", "TASK_FINISHED"), "FINISHED");
        await ack(master, sub, finished);

        const view = master.task("t-echo")!;
        assert.equal(view.stdout, "hi there\n");
        assert.equal(view.exitCode, 0);
        await master.waitFor(() => master.task("t-echo")!.completed, "completed");
        // Nothing is re-sent after the acknowledgements.
        await new Promise((r) => setTimeout(r, 300));
        sub.events.drop(isUpdate("t-echo", "TASK_STARTING"));
        assert.equal(sub.events.queued(isUpdate("t-echo")).length, 0);
        for (const e of [starting, running, finished]) {
          assert.equal(master.ackCount(e.update!.status.uuid!), 1);
        }
        assert.deepEqual(master.launchedTasks.map((t) => t.task_id.value), ["t-echo"]);
      } finally {
        await sub.events.cancel();
      }
    });
  });
}

Deno.test("master: a failing command gives TASK_FAILED; invalid accepts give master updates", async () => {
  await withMaster({ agents: AGENTS }, async (master) => {
    const sub = await subscribe(master, "protobuf", {
      capabilities: [{ type: "PARTITION_AWARE" }],
    });
    try {
      let offer = (await sub.events.type("OFFERS")).offers!.offers[0];
      await expect202(master, sub, launchCall(offer, [task("t-fail", "agent-1", "exit 3")], 0));
      const failed = await (async () => {
        for (;;) {
          const e = await sub.events.take(isUpdate("t-fail"), "update");
          await ack(master, sub, e);
          if (e.update!.status.state === "TASK_FAILED") return e;
        }
      })();
      assert.equal(failed.update!.status.message, "Command exited with status 3");

      // A used offer is no longer valid: TASK_DROPPED for a PARTITION_AWARE framework, no uuid.
      await expect202(master, sub, launchCall(offer, [task("t-dropped", "agent-1", "true")]));
      const dropped = await sub.events.take(isUpdate("t-dropped"), "dropped");
      assert.equal(dropped.update!.status.state, "TASK_DROPPED");
      assert.equal(dropped.update!.status.reason, "REASON_INVALID_OFFERS");
      assert.equal(dropped.update!.status.source, "SOURCE_MASTER");
      assert.equal(dropped.update!.status.uuid, undefined);

      // Too many resources: TASK_ERROR.
      offer = (await sub.events.type("OFFERS")).offers!.offers[0];
      const big = task("t-big", "agent-1", "true");
      big.resources[0].scalar!.value = 64;
      await expect202(master, sub, launchCall(offer, [big]));
      const error = await sub.events.take(isUpdate("t-big"), "error");
      assert.equal(error.update!.status.state, "TASK_ERROR");
      assert.equal(error.update!.status.reason, "REASON_TASK_INVALID");
      assert.match(error.update!.status.message!, /more resources/);
    } finally {
      await sub.events.cancel();
    }
  });
});

Deno.test("master: shell: false runs value with arguments[1..]; a missing binary fails", async () => {
  await withMaster({ agents: AGENTS }, async (master) => {
    const sub = await subscribe(master, "json");
    try {
      const offer = (await sub.events.type("OFFERS")).offers!.offers[0];
      const direct = task("t-direct", "agent-1", "");
      direct.command = { shell: false, value: "printf", arguments: ["printf", "%s|", "a b", "c"] };
      const missing = task("t-missing", "agent-1", "");
      missing.command = { shell: false, value: "/nonexistent/relay-binary" };
      await expect202(master, sub, launchCall(offer, [direct, missing]));
      const failed = await sub.events.take(isUpdate("t-missing", "TASK_FAILED"), "FAILED");
      assert.match(failed.update!.status.message!, /Failed to launch/);
      await master.waitFor(() => master.task("t-direct")?.exitCode === 0, "direct exit");
      assert.equal(master.task("t-direct")!.stdout, "a b|c|");
    } finally {
      await sub.events.cancel();
    }
  });
});

Deno.test("master: DECLINE filters an agent for refuse_seconds; REVIVE clears it", async () => {
  const agents: TestAgent[] = [
    ...AGENTS,
    { id: "agent-2", hostname: "node2", resources: { cpus: 1, mem: 512, disk: 100 } },
  ];
  await withMaster({ agents }, async (master) => {
    const sub = await subscribe(master, "json");
    try {
      const first = [await sub.events.type("OFFERS"), await sub.events.type("OFFERS")]
        .map((e) => e.offers!.offers[0]);
      const byAgent = new Map(first.map((o) => [o.agent_id.value, o]));
      assert.deepEqual([...byAgent.keys()].sort(), ["agent-1", "agent-2"]);

      // Decline agent-1 for 0.6 s, agent-2 with no filters (the 5 s default).
      const t0 = Date.now();
      await expect202(master, sub, {
        type: "DECLINE",
        decline: { offer_ids: [byAgent.get("agent-1")!.id], filters: { refuse_seconds: 0.6 } },
      });
      await expect202(master, sub, {
        type: "DECLINE",
        decline: { offer_ids: [byAgent.get("agent-2")!.id] },
      });
      assert.deepEqual(master.offersDeclined.length, 2);
      const again = (await sub.events.type("OFFERS", 2000)).offers!.offers[0];
      assert.equal(again.agent_id.value, "agent-1");
      assert.ok(Date.now() - t0 >= 550, `re-offered after ${Date.now() - t0} ms`);
      assert.equal(sub.events.queued((e) => e.type === "OFFERS").length, 0);

      // Decline for a long time, then REVIVE: offers come back at once.
      await expect202(master, sub, {
        type: "DECLINE",
        decline: { offer_ids: [again.id], filters: { refuse_seconds: 3600 } },
      });
      await assert.rejects(sub.events.type("OFFERS", 300), /timed out/);
      await expect202(master, sub, { type: "REVIVE" });
      const revived = [await sub.events.type("OFFERS", 500), await sub.events.type("OFFERS", 500)];
      assert.deepEqual(revived.map((e) => e.offers!.offers[0].agent_id.value).sort(), [
        "agent-1",
        "agent-2",
      ]);
    } finally {
      await sub.events.cancel();
    }
  });
});

Deno.test("master: SUPPRESS stops offers, REVIVE resumes them; RESCIND", async () => {
  await withMaster({ agents: AGENTS }, async (master) => {
    const sub = await subscribe(master, "protobuf");
    try {
      const offer = (await sub.events.type("OFFERS")).offers!.offers[0];
      await expect202(master, sub, { type: "SUPPRESS" });
      await expect202(master, sub, {
        type: "DECLINE",
        decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0 } },
      });
      await assert.rejects(sub.events.type("OFFERS", 400), /timed out/);
      assert.deepEqual(master.frameworks()[0].suppressed, ["*"]);
      await expect202(master, sub, { type: "REVIVE", revive: { roles: ["*"] } });
      const next = (await sub.events.type("OFFERS", 1000)).offers!.offers[0];
      assert.equal(master.rescind(next.id.value), true);
      const rescind = await sub.events.type("RESCIND");
      assert.equal(rescind.rescind!.offer_id.value, next.id.value);
      assert.equal(master.rescind("no-such-offer"), false);
      assert.deepEqual(master.offersRescinded, [next.id.value]);
    } finally {
      await sub.events.cancel();
    }
  });
});

Deno.test("master: MULTI_ROLE frameworks get offers per role; bad roles give ERROR", async () => {
  const agents: TestAgent[] = [
    { id: "a-web", hostname: "web", resources: { cpus: 1, mem: 256, disk: 0 }, roles: ["web"] },
    {
      id: "a-batch",
      hostname: "batch",
      resources: { cpus: 1, mem: 256, disk: 0 },
      roles: ["batch"],
    },
  ];
  await withMaster({ agents }, async (master) => {
    const sub = await subscribe(master, "json", {
      roles: ["web", "batch"],
      capabilities: [{ type: "MULTI_ROLE" }],
    });
    try {
      const offers = [await sub.events.type("OFFERS"), await sub.events.type("OFFERS")]
        .map((e) => e.offers!.offers[0]);
      for (const o of offers) {
        const role = o.agent_id.value === "a-web" ? "web" : "batch";
        assert.equal(o.allocation_info?.role, role);
        for (const r of o.resources) {
          assert.equal(r.role, role);
          assert.equal(r.allocation_info?.role, role);
        }
      }
    } finally {
      await sub.events.cancel();
    }
    // roles without MULTI_ROLE: the stream starts (and ends) with ERROR.
    const res = await fetch(`${master.url}/api/v1/scheduler`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: encodeCall(subscribeCall({ roles: ["web"] }), "json"),
    });
    assert.equal(res.status, 200);
    const events = new EventReader(res.body!, "json");
    const error = await events.type("ERROR");
    assert.match(error.error!.message, /MULTI_ROLE/);
    await events.done;
    assert.equal(events.ended, true);
  });
});

Deno.test("master: RECONCILE answers latest states without uuid; KILL gives TASK_KILLED", async () => {
  await withMaster({ agents: AGENTS }, async (master) => {
    const sub = await subscribe(master, "json", {
      capabilities: [{ type: "TASK_KILLING_STATE" }],
    });
    try {
      const offer = (await sub.events.type("OFFERS")).offers!.offers[0];
      await expect202(master, sub, launchCall(offer, [task("t-sleep", "agent-1", "sleep 30")]));
      await ack(master, sub, await sub.events.take(isUpdate("t-sleep", "TASK_STARTING"), "START"));
      await ack(master, sub, await sub.events.take(isUpdate("t-sleep", "TASK_RUNNING"), "RUN"));

      await expect202(master, sub, {
        type: "RECONCILE",
        reconcile: {
          tasks: [
            { task_id: { value: "t-sleep" } },
            { task_id: { value: "t-ghost" }, agent_id: { value: "agent-1" } },
            { task_id: { value: "t-nowhere" } },
          ],
        },
      });
      const explicit = await sub.events.take(isUpdate("t-sleep"), "reconcile");
      const s = explicit.update!.status;
      assert.equal(s.state, "TASK_RUNNING");
      assert.equal(s.uuid, undefined);
      assert.equal(s.source, "SOURCE_MASTER");
      assert.equal(s.reason, "REASON_RECONCILIATION");
      assert.equal(
        (await sub.events.take(isUpdate("t-ghost"), "ghost")).update!.status.state,
        "TASK_LOST",
      );
      assert.equal(
        (await sub.events.take(isUpdate("t-nowhere"), "nowhere")).update!.status.state,
        "TASK_LOST",
      );

      await expect202(master, sub, { type: "RECONCILE", reconcile: { tasks: [] } });
      const implicit = await sub.events.take(isUpdate("t-sleep"), "implicit");
      assert.equal(implicit.update!.status.state, "TASK_RUNNING");
      assert.equal(implicit.update!.status.uuid, undefined);

      await expect202(master, sub, {
        type: "KILL",
        kill: { task_id: { value: "t-sleep" }, agent_id: { value: "agent-1" } },
      });
      await ack(master, sub, await sub.events.take(isUpdate("t-sleep", "TASK_KILLING"), "KILLING"));
      const killed = await sub.events.take(isUpdate("t-sleep", "TASK_KILLED"), "KILLED");
      await ack(master, sub, killed);
      assert.equal(master.task("t-sleep")!.exitCode, 143);
      await master.waitFor(() => master.task("t-sleep")!.completed, "completed");

      // Once terminal and acknowledged, implicit reconciliation no longer mentions it.
      await expect202(master, sub, { type: "RECONCILE", reconcile: { tasks: [] } });
      await assert.rejects(sub.events.take(isUpdate("t-sleep"), "nothing", 300), /timed out/);
    } finally {
      await sub.events.cancel();
    }
  });
});

Deno.test("master: crash mid-stream, restart on the same port, tasks survive", async () => {
  await withMaster(
    { agents: AGENTS, heartbeatSeconds: 0.2, resendSeconds: 0.2 },
    async (master) => {
      const port = master.port;
      const sub = await subscribe(master, "protobuf", { failover_timeout: 3600 });
      const offer = (await sub.events.type("OFFERS")).offers!.offers[0];
      await expect202(
        master,
        sub,
        launchCall(offer, [task("t-long", "agent-1", "sleep 0.5; echo done")]),
      );
      await ack(master, sub, await sub.events.take(isUpdate("t-long", "TASK_STARTING"), "START"));
      await ack(master, sub, await sub.events.take(isUpdate("t-long", "TASK_RUNNING"), "RUN"));
      const pid = master.task("t-long")!.pid;

      await master.crash();
      await sub.events.done;
      assert.ok(sub.events.error, "the stream broke abruptly (not a clean end)");
      await assert.rejects(
        fetch(`${master.url}/api/v1/scheduler`, { method: "POST", body: "x" }),
        TypeError,
      );
      // The task finishes while the master is down.
      await master.waitFor(() => master.task("t-long")!.exitCode === 0, "task exit");

      await master.restart();
      assert.equal(master.port, port);
      const again = await subscribe(master, "protobuf", {
        id: { value: sub.frameworkId },
        failover_timeout: 3600,
      });
      try {
        assert.equal(again.frameworkId, sub.frameworkId);
        assert.notEqual(again.streamId, sub.streamId);
        // The old stream id is refused; the pending terminal update arrives and is acknowledged.
        assert.equal((await post(master, sub, { type: "REVIVE" })).status, 400);
        const finished = await again.events.take(isUpdate("t-long", "TASK_FINISHED"), "FINISHED");
        await ack(master, again, finished);
        assert.equal(master.task("t-long")!.pid, pid);
        assert.equal(master.task("t-long")!.stdout, "done\n");
        assert.equal(master.ackCount(finished.update!.status.uuid!), 1);
        await again.events.type("HEARTBEAT");
      } finally {
        await again.events.cancel();
      }
    },
  );
});

Deno.test("master: failover_timeout 0 tears the framework down on disconnect", async () => {
  await withMaster({ agents: AGENTS }, async (master) => {
    const sub = await subscribe(master, "json");
    const offer = (await sub.events.type("OFFERS")).offers!.offers[0];
    await expect202(master, sub, launchCall(offer, [task("t-orphan", "agent-1", "sleep 30")]));
    await sub.events.take(isUpdate("t-orphan", "TASK_STARTING"), "START");
    await sub.events.cancel();
    await master.waitFor(() => master.frameworks().length === 0, "framework removal");
    await master.waitFor(() => master.task("t-orphan")!.exitCode !== undefined, "task killed");
    // Re-subscribing with the removed id gets ERROR.
    const res = await fetch(`${master.url}/api/v1/scheduler`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: encodeCall(subscribeCall({ id: { value: sub.frameworkId } }), "json"),
    });
    const events = new EventReader(res.body!, "json");
    assert.equal((await events.type("ERROR")).error!.message, "Framework has been removed");
    await events.done;
  });
});

Deno.test("master: a newer SUBSCRIBE for the same framework cuts the older stream off", async () => {
  await withMaster({}, async (master) => {
    const first = await subscribe(master, "json", { failover_timeout: 60 });
    const second = await subscribe(master, "protobuf", {
      id: { value: first.frameworkId },
      failover_timeout: 60,
    });
    try {
      assert.equal((await first.events.type("ERROR")).error!.message, "Framework failed over");
      await first.events.done;
      assert.equal(first.events.error, undefined);
      assert.equal((await post(master, first, { type: "REVIVE" })).status, 400);
      await expect202(master, second, { type: "REVIVE" });
      await expect202(master, second, { type: "TEARDOWN" });
      await second.events.done;
      assert.equal(master.frameworks().length, 0);
    } finally {
      await second.events.cancel();
    }
  });
});
