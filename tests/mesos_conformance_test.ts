/**
 * Conformance with the real Mesos v1 protos, read at test time from the system package
 * `golang-github-mesos-mesos-go-dev` (see `support/real_protos.ts`). Our test master shares
 * `codec.ts` and `schema.ts` with the client, so a misread field would look the same on both
 * sides; here the other side is the real `.proto` files:
 * - every message, field and enum value of `schema.ts` has the real name, number, label and type;
 * - the calls the Mesos executor makes (SUBSCRIBE, RECONCILE, SUPPRESS/REVIVE, ACCEPT/LAUNCH with
 *   reservations, disk sources and Docker, DECLINE, ACKNOWLEDGE, KILL), encoded by our codec in
 *   both content types, decode with the real protos to the values meant;
 * - events encoded with the real protos (SUBSCRIBED, OFFERS, UPDATE, RESCIND, FAILURE, ERROR,
 *   HEARTBEAT), with fields we do not model among them, decode with our codec to the same values.
 * When the package is missing the tests are skipped, loudly.
 */
// The real protos' decodings are read field by field as plain JSON-like objects.
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { VirtualClock } from "../lib/clock.ts";
import { type ContentType, decodeEvent, encodeCall } from "../lib/mesos/codec.ts";
import type { ClientHandlers, SchedulerConnection } from "../lib/mesos/connection.ts";
import { MesosExecutor } from "../lib/mesos/framework.ts";
import type { Call, Event } from "../lib/mesos/messages.ts";
import { CALL_TYPE, EVENT_TYPE, MESOS_SCHEMA } from "../lib/mesos/schema.ts";
import { loadRealProtos, MESOS_GO_PACKAGE, type RealProtos } from "./support/real_protos.ts";

const loaded = loadRealProtos();
const real: RealProtos | undefined = "missing" in loaded ? undefined : loaded;
if (!real) {
  console.warn(
    `\n*** mesos conformance tests SKIPPED: the real Mesos protos are not installed ` +
      `(${(loaded as { missing: string }).missing}). Install ${MESOS_GO_PACKAGE} ` +
      `(apt-get install ${MESOS_GO_PACKAGE}; .ci/run does it). ***\n`,
  );
}

function test(name: string, fn: (protos: RealProtos) => void | Promise<void>) {
  Deno.test({ name: `conformance: ${name}`, ignore: !real, fn: () => fn(real!) });
}

/** How a decoded message is read: the proto3 JSON forms `messages.ts` uses. */
const TO_OBJECT: protobuf.IConversionOptions = {
  enums: String,
  longs: Number,
  bytes: String,
  defaults: false,
  arrays: false,
};

/** Drops undefined values and empty arrays (absent and empty are the same on the wire). */
function norm(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(norm);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      out[k] = norm(v);
    }
    return out;
  }
  return value;
}

/** Decodes our encoding of `call` with the real protos (both content types). */
function realDecodeCall(protos: RealProtos, call: Call, ct: ContentType): unknown {
  const Type = protos.type(CALL_TYPE);
  const body = encodeCall(call, ct);
  if (ct === "protobuf") {
    // decode() checks the real `required` fields.
    return Type.toObject(Type.decode(body), TO_OBJECT);
  }
  const json = JSON.parse(new TextDecoder().decode(body));
  const message = Type.fromObject(json);
  assert.equal(Type.verify(message), null);
  // Through the real binary form, so required fields are checked here too.
  return Type.toObject(Type.decode(Type.encode(message).finish()), TO_OBJECT);
}

// ---- the schema, field by field ---------------------------------------------------------------

/**
 * What schema.ts has from Apache's later protos (the commit its header names) that mesos-go's
 * copies predate. Anything else missing from the real files is an error.
 */
const NEWER = new Set([
  "mesos.v1.Resource.DiskInfo.Source.id",
  "mesos.v1.Resource.DiskInfo.Source.metadata",
  "mesos.v1.Resource.DiskInfo.Source.profile",
  "mesos.v1.scheduler.Call.Type.UPDATE_FRAMEWORK",
  "mesos.v1.scheduler.Call.Type.RECONCILE_OPERATIONS",
  "mesos.v1.scheduler.Call.Type.ACKNOWLEDGE_OPERATION_STATUS",
  "mesos.v1.scheduler.Event.Type.UPDATE_OPERATION_STATUS",
  "mesos.v1.TaskStatus.Reason.REASON_AGENT_REREGISTERED",
  "mesos.v1.TaskStatus.Reason.REASON_AGENT_REMOVED_BY_OPERATOR",
  "mesos.v1.TaskStatus.Reason.REASON_AGENT_DRAINING",
  "mesos.v1.TaskStatus.Reason.REASON_MAX_COMPLETION_TIME_REACHED",
  "mesos.v1.Offer.Operation.Type.DESTROY_DISK",
  "mesos.v1.Offer.Operation.Type.CREATE_DISK",
  "mesos.v1.Offer.Operation.Type.SHRINK_VOLUME",
  "mesos.v1.Offer.Operation.Type.GROW_VOLUME",
  "mesos.v1.Resource.DiskInfo.Source.Type.RAW",
  "mesos.v1.Resource.DiskInfo.Source.Type.BLOCK",
]);

test("every message, field and enum value of schema.ts is the real one", (protos) => {
  const ours = protobuf.Root.fromJSON(MESOS_SCHEMA).resolveAll();
  let fields = 0;
  let values = 0;
  const notInReal: string[] = [];
  const rename = (t: protobuf.ReflectionObject | null) => t ? t.fullName.slice(1) : undefined;
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const child of ns.nestedArray) {
      const name = child.fullName.slice(1);
      if (child instanceof protobuf.Type) {
        const realType = protos.type(name);
        for (const f of child.fieldsArray) {
          const r = realType.fields[f.name];
          if (!r && NEWER.has(`${name}.${f.name}`)) {
            notInReal.push(`${name}.${f.name}`);
            continue;
          }
          assert.ok(r, `${name}.${f.name} is in the real ${realType.fullName}`);
          assert.equal(r.id, f.id, `${name}.${f.name} number`);
          assert.equal(r.rule ?? "optional", f.rule ?? "optional", `${name}.${f.name} label`);
          if (f.resolvedType) {
            const want = protos.root.lookup(
              rename(f.resolvedType)!.replace(/^mesos\.v1\b/, realPackage(protos)),
            );
            assert.equal(r.resolvedType, want, `${name}.${f.name} type ${f.type}`);
          } else {
            assert.equal(r.type, f.type, `${name}.${f.name} type`);
          }
          fields++;
        }
      } else if (child instanceof protobuf.Enum) {
        const realEnum = protos.enumOf(name);
        for (const [value, n] of Object.entries(child.values)) {
          if (realEnum.values[value] === undefined && NEWER.has(`${name}.${value}`)) {
            notInReal.push(`${name}.${value}`);
          } else assert.equal(realEnum.values[value], n, `${name}.${value}`);
          values++;
        }
        // Every value a master may send is known to us.
        for (const value of Object.keys(realEnum.values)) {
          assert.ok(child.values[value] !== undefined, `${name}.${value} missing from schema.ts`);
        }
      }
      if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) visit(child);
    }
  };
  visit(ours);
  assert.ok(fields > 150 && values > 100, `${fields} fields, ${values} enum values checked`);
  console.log(
    `${fields} fields and ${values} enum values match ${protos.files.join(", ")}; ` +
      `newer than these files (Apache's later protos): ${notInReal.join(", ") || "none"}`,
  );
});

function realPackage(protos: RealProtos): string {
  return protos.root.lookup("mesos.v1.FrameworkID") ? "mesos.v1" : "mesos";
}

// ---- calls: what the executor sends -------------------------------------------------------------

/** A connection that records each call as the client would send it (with the FrameworkID). */
class RecordingConnection implements SchedulerConnection {
  connected = false;
  reconnects = 0;
  readonly calls: Call[] = [];
  constructor(readonly handlers: ClientHandlers) {}
  start() {}
  call(call: Omit<Call, "framework_id">): Promise<void> {
    this.calls.push({ ...call, framework_id: { value: "fw-7" } } as Call);
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
}

/** An event encoded with the real protos, decoded by our codec: what the executor receives. */
function realEvent(protos: RealProtos, event: Record<string, unknown>, ct: ContentType): Event {
  const Type = protos.type(EVENT_TYPE);
  const message = Type.fromObject(event);
  assert.equal(Type.verify(message), null);
  const bytes = ct === "protobuf"
    ? Type.encode(message).finish()
    : new TextEncoder().encode(JSON.stringify(Type.toObject(message, TO_OBJECT)));
  return decodeEvent(bytes, ct);
}

const RESERVED_CPUS = {
  name: "cpus",
  type: "SCALAR",
  scalar: { value: 2 },
  role: "relay",
  reservation: { principal: "ops", labels: { labels: [{ key: "team", value: "q" }] } },
  allocation_info: { role: "relay" },
};
const REFINED_MEM = {
  name: "mem",
  type: "SCALAR",
  scalar: { value: 1024 },
  reservations: [
    { type: "STATIC", role: "relay" },
    { type: "DYNAMIC", role: "relay", principal: "ops" },
  ],
  allocation_info: { role: "relay" },
};
const MOUNT_DISK = {
  name: "disk",
  type: "SCALAR",
  scalar: { value: 300 },
  role: "*",
  disk: { source: { type: "MOUNT", mount: { root: "/mnt/d1" } } },
  provider_id: { value: "rp-1" },
  allocation_info: { role: "relay" },
};
const PATH_DISK = {
  name: "disk",
  type: "SCALAR",
  scalar: { value: 1000 },
  role: "*",
  disk: { source: { type: "PATH", path: { root: "/mnt/p1" } } },
  allocation_info: { role: "relay" },
};

for (const ct of ["protobuf", "json"] as const) {
  test(`${ct}: the executor's calls decode with the real protos to the values meant`, async (protos) => {
    const stateDir = await Deno.makeTempDir();
    let conn!: RecordingConnection;
    const executor = new MesosExecutor({
      connect: (h) => (conn = new RecordingConnection(h)),
      frameworkName: "queue",
      user: "relay",
      roles: ["relay"],
      principal: "ops",
      checkpoint: true,
      failoverTimeoutSeconds: 604800,
      hostname: "sched-1",
      labels: [{ key: "env", value: "prod" }],
      taskLabels: [{ key: "team", value: "queue" }],
      refuseSeconds: 7,
      killGraceSeconds: 12.5,
      taskResources: { cpus: 0.5, mem: 128, disk: 100, gpus: 0 },
      warmer: "exec ./warm --hard",
      cooler: "./cool",
      env: { QUEUE: "q1" },
      uris: ["https://files/warm.tgz"],
      docker: {
        image: "registry/warm:1.2",
        network: "BRIDGE",
        forcePull: true,
        volumes: [{ host: "/srv/data", container: "/data", mode: "RO" }],
        parameters: [{ key: "memory-swap", value: "-1" }],
      },
      stateDir,
      clock: new VirtualClock(1_000_000),
      log: () => {},
      onFatal: () => {},
    });
    try {
      await executor.start();
      const info = conn.handlers.frameworkInfo();
      // As the client sends it (client.ts #subscribe).
      const subscribe: Call = { type: "SUBSCRIBE", subscribe: { framework_info: info } };
      conn.connected = true;
      conn.handlers.onConnected({
        leader: "http://m:5050",
        frameworkId: "fw-7",
        heartbeatSeconds: 15,
      });
      const subscribed = realEvent(protos, {
        type: "SUBSCRIBED",
        subscribed: { framework_id: { value: "fw-7" }, heartbeat_interval_seconds: 15 },
      }, ct);
      conn.handlers.onEvent(subscribed);
      await new Promise((r) => setTimeout(r, 0));
      const ids = executor.launch("warmer", 2);
      await new Promise((r) => setTimeout(r, 0));
      conn.handlers.onEvent(realEvent(protos, {
        type: "OFFERS",
        offers: {
          offers: [
            {
              id: { value: "o-1" },
              framework_id: { value: "fw-7" },
              agent_id: { value: "ag-1" },
              hostname: "node1",
              resources: [RESERVED_CPUS, REFINED_MEM, MOUNT_DISK, PATH_DISK],
              allocation_info: { role: "relay" },
            },
            {
              id: { value: "o-2" },
              framework_id: { value: "fw-7" },
              agent_id: { value: "ag-2" },
              hostname: "node2",
              resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 }, role: "*" }],
            },
          ],
        },
      }, ct));
      const uuid = btoa(String.fromCharCode(...Array.from({ length: 16 }, (_, i) => i * 17)));
      conn.handlers.onEvent(realEvent(protos, {
        type: "UPDATE",
        update: {
          status: {
            task_id: { value: ids[0] },
            state: "TASK_RUNNING",
            source: "SOURCE_EXECUTOR",
            agent_id: { value: "ag-1" },
            timestamp: 1700000000.5,
            uuid,
          },
        },
      }, ct));
      // A re-subscription: RECONCILE names the tasks we know (then asks for all of them).
      conn.handlers.onConnected({
        leader: "http://m:5050",
        frameworkId: "fw-7",
        heartbeatSeconds: 15,
      });
      executor.kill([ids[0]]);
      await new Promise((r) => setTimeout(r, 0));

      const calls = [subscribe, ...conn.calls];
      const types = calls.map((c) => c.type);
      for (
        const t of ["SUBSCRIBE", "RECONCILE", "REVIVE", "ACCEPT", "DECLINE", "ACKNOWLEDGE", "KILL"]
      ) {
        assert.ok(types.includes(t as Call["type"]), `${t} in ${types.join(", ")}`);
      }
      await executor.shutdown("leave", 0); // SUPPRESS: nothing of ours is waiting.
      calls.push(...conn.calls.slice(calls.length - 1));
      assert.ok(calls.some((c) => c.type === "SUPPRESS"));

      // Each call, decoded by the real protos, is the call meant.
      for (const call of calls) {
        assert.deepEqual(norm(realDecodeCall(protos, call, ct)), norm(call), call.type);
      }

      // And, read from the real decoding, the parts that matter most.
      const byType = (t: string) => calls.find((c) => c.type === t)!;
      const sub = realDecodeCall(protos, subscribe, ct) as any;
      assert.deepEqual(sub.subscribe.framework_info.capabilities, [
        { type: "MULTI_ROLE" },
        { type: "PARTITION_AWARE" },
      ]);
      assert.deepEqual(sub.subscribe.framework_info.roles, ["relay"]);
      assert.equal(sub.subscribe.framework_info.failover_timeout, 604800);
      const accept = realDecodeCall(protos, byType("ACCEPT"), ct) as any;
      assert.deepEqual(accept.accept.offer_ids, [{ value: "o-1" }]);
      assert.equal(accept.accept.filters.refuse_seconds, 7);
      const [first, second] = accept.accept.operations[0].launch.task_infos;
      assert.equal(accept.accept.operations[0].type, "LAUNCH");
      assert.deepEqual(first.task_id, { value: ids[0] });
      assert.deepEqual(first.agent_id, { value: "ag-1" });
      assert.deepEqual(first.resources, [
        { ...RESERVED_CPUS, scalar: { value: 0.5 } },
        { ...REFINED_MEM, scalar: { value: 128 } },
        { ...MOUNT_DISK, scalar: { value: 300 } }, // a MOUNT disk: whole
      ]);
      assert.deepEqual(second.resources[2], { ...PATH_DISK, scalar: { value: 100 } });
      assert.deepEqual(first.container, {
        type: "DOCKER",
        docker: {
          image: "registry/warm:1.2",
          network: "BRIDGE",
          force_pull_image: true,
          parameters: [{ key: "memory-swap", value: "-1" }],
        },
        volumes: [{ container_path: "/data", host_path: "/srv/data", mode: "RO" }],
      });
      assert.equal(first.command.shell, true);
      assert.equal(first.command.value, "exec ./warm --hard");
      assert.deepEqual(first.command.uris, [{ value: "https://files/warm.tgz" }]);
      assert.deepEqual(first.command.environment.variables, [
        { name: "QUEUE", value: "q1" },
        { name: "RELAY_TASK_ID", value: ids[0] },
        { name: "RELAY_TASK_KIND", value: "warmer" },
      ]);
      assert.deepEqual(first.labels, {
        labels: [{ key: "relay.mesos.kind", value: "warmer" }, { key: "team", value: "queue" }],
      });
      const decline = realDecodeCall(protos, byType("DECLINE"), ct) as any;
      assert.deepEqual(decline.decline, {
        offer_ids: [{ value: "o-2" }],
        filters: { refuse_seconds: 7 },
      });
      const ack = realDecodeCall(protos, byType("ACKNOWLEDGE"), ct) as any;
      assert.deepEqual(ack.acknowledge, {
        agent_id: { value: "ag-1" },
        task_id: { value: ids[0] },
        uuid,
      });
      const reconcile = calls.filter((c) => c.type === "RECONCILE").map((c) =>
        (realDecodeCall(protos, c, ct) as any).reconcile
      );
      assert.deepEqual(reconcile, [
        {},
        {
          tasks: ids.map((id) => ({ task_id: { value: id }, agent_id: { value: "ag-1" } })),
        },
        {},
      ]);
      const kill = realDecodeCall(protos, byType("KILL"), ct) as any;
      const policy = { grace_period: { nanoseconds: 12_500_000_000 } };
      assert.deepEqual(first.kill_policy, policy);
      assert.deepEqual(kill.kill, {
        task_id: { value: ids[0] },
        agent_id: { value: "ag-1" },
        kill_policy: policy,
      });
      for (const c of calls.slice(1)) {
        assert.deepEqual(
          (realDecodeCall(protos, c, ct) as any).framework_id,
          { value: "fw-7" },
          c.type,
        );
      }
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  });
}

// ---- events: what a real master sends -----------------------------------------------------------

/** Events as a master encodes them; `extra` holds real fields that we do not model. */
const EVENTS: { event: Record<string, unknown>; extra: Record<string, unknown> }[] = [
  {
    event: {
      type: "SUBSCRIBED",
      subscribed: {
        framework_id: { value: "fw-7" },
        heartbeat_interval_seconds: 15,
        master_info: {
          id: "m-1",
          ip: 16777343,
          port: 5050,
          pid: "master@127.0.0.1:5050",
          hostname: "master1",
          version: "1.11.0",
          address: { hostname: "master1", ip: "127.0.0.1", port: 5050 },
        },
      },
    },
    extra: {},
  },
  {
    event: {
      type: "OFFERS",
      offers: {
        offers: [{
          id: { value: "o-1" },
          framework_id: { value: "fw-7" },
          agent_id: { value: "ag-1" },
          hostname: "node1",
          resources: [
            RESERVED_CPUS,
            REFINED_MEM,
            MOUNT_DISK,
            PATH_DISK,
            {
              name: "disk",
              type: "SCALAR",
              scalar: { value: 50 },
              role: "relay",
              reservation: { principal: "ops" },
              disk: {
                persistence: { id: "vol-1", principal: "ops" },
                volume: { mode: "RW", container_path: "data" },
              },
              shared: {},
              allocation_info: { role: "relay" },
            },
            {
              name: "ports",
              type: "RANGES",
              ranges: { range: [{ begin: 31000, end: 32000 }] },
              role: "*",
              revocable: {},
              allocation_info: { role: "relay" },
            },
          ],
          attributes: [
            { name: "rack", type: "TEXT", text: { value: "r1" } },
            { name: "weight", type: "SCALAR", scalar: { value: 2 } },
            { name: "disks", type: "SET", set: { item: ["ssd"] } },
            { name: "ids", type: "RANGES", ranges: { range: [{ begin: 1, end: 3 }] } },
          ],
          allocation_info: { role: "relay" },
        }],
      },
    },
    extra: {
      executor_ids: [{ value: "e-1" }],
      url: {
        scheme: "http",
        address: { hostname: "node1", ip: "10.0.0.1", port: 5051 },
        path: "/slave(1)",
      },
    },
  },
  {
    event: {
      type: "UPDATE",
      update: {
        status: {
          task_id: { value: "relay-warmer-000001-abcdef" },
          state: "TASK_FAILED",
          message: "Command exited with status 1",
          source: "SOURCE_EXECUTOR",
          reason: "REASON_COMMAND_EXECUTOR_FAILED",
          agent_id: { value: "ag-1" },
          timestamp: 1700000000.25,
          uuid: btoa("0123456789abcdef"),
        },
      },
    },
    extra: { healthy: false, labels: { labels: [{ key: "k", value: "v" }] } },
  },
  {
    event: {
      type: "UPDATE",
      update: {
        status: {
          task_id: { value: "relay-cooler-000002-abcdef" },
          state: "TASK_UNREACHABLE",
          source: "SOURCE_MASTER",
          reason: "REASON_AGENT_REMOVED",
          agent_id: { value: "ag-2" },
        },
      },
    },
    extra: {},
  },
  { event: { type: "RESCIND", rescind: { offer_id: { value: "o-1" } } }, extra: {} },
  {
    event: {
      type: "FAILURE",
      failure: { agent_id: { value: "ag-1" }, executor_id: { value: "e-1" }, status: 137 },
    },
    extra: {},
  },
  { event: { type: "ERROR", error: { message: "Framework has been removed" } }, extra: {} },
  { event: { type: "HEARTBEAT" }, extra: {} },
];

/** Puts `extra` into the innermost message that has those real fields (offer or status). */
function withExtra(event: Record<string, unknown>, extra: Record<string, unknown>) {
  const copy = structuredClone(event) as any;
  if (copy.offers) Object.assign(copy.offers.offers[0], extra);
  else if (copy.update) Object.assign(copy.update.status, extra);
  return copy;
}

for (const ct of ["protobuf", "json"] as const) {
  test(`${ct}: events encoded with the real protos decode with our codec to the same values`, (protos) => {
    for (const { event, extra } of EVENTS) {
      const ours = realEvent(protos, withExtra(event, extra), ct);
      assert.deepEqual(norm(ours), norm(event), String(event.type));
    }
  });
}
