import assert from "node:assert/strict";
import protobuf from "protobufjs";
import {
  CodecError,
  type ContentType,
  contentTypeOf,
  decodeCall,
  decodeEvent,
  encodeCall,
  encodeEvent,
  mediaType,
  referenceCodec,
} from "../lib/mesos/codec.ts";
import { CALL_TYPE, EVENT_TYPE, MESOS_SCHEMA } from "../lib/mesos/schema.ts";
import type { Call, Event, Offer, Resource, TaskInfo } from "../lib/mesos/messages.ts";

const CTS: ContentType[] = ["protobuf", "json"];
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const fw = { value: "7c1d3a52-0a3e-4c55-9f41-1e0d9b1c1a20-0001" };
const agent = { value: "agent-1" };

const scalar = (name: string, value: number, role = "relay"): Resource => ({
  name,
  type: "SCALAR",
  scalar: { value },
  role: "*",
  allocation_info: { role },
});

const task: TaskInfo = {
  name: "warmer 1",
  task_id: { value: "relay-warmer-1" },
  agent_id: agent,
  resources: [scalar("cpus", 0.1), scalar("mem", 32)],
  command: {
    shell: true,
    value: "echo hi",
    environment: { variables: [{ name: "RELAY_KIND", value: "warmer" }] },
    uris: [{ value: "http://example.invalid/x.tgz", extract: false, cache: true }],
    user: "nobody",
  },
  container: {
    type: "DOCKER",
    volumes: [{ container_path: "/data", host_path: "/tmp", mode: "RO" }],
    docker: {
      image: "busybox",
      network: "BRIDGE",
      privileged: false,
      parameters: [{ key: "env", value: "A=1" }],
      force_pull_image: true,
    },
  },
  labels: { labels: [{ key: "relay", value: "warmer" }, { key: "bare" }] },
};

const offer: Offer = {
  id: { value: "offer-1" },
  framework_id: fw,
  agent_id: agent,
  hostname: "agent1.local",
  resources: [
    scalar("cpus", 4),
    scalar("mem", 2048.5),
    { name: "ports", type: "RANGES", ranges: { range: [{ begin: 31000, end: 2 ** 53 - 1 }] } },
    { name: "zones", type: "SET", set: { item: ["a", "b"] } },
  ],
  allocation_info: { role: "relay" },
};

/** One call of every type in `messages.ts`, with every field we model filled somewhere. */
const CALLS: Call[] = [
  {
    type: "SUBSCRIBE",
    subscribe: {
      framework_info: {
        user: "root",
        name: "relay",
        id: fw,
        failover_timeout: 604800.5,
        checkpoint: true,
        role: "*",
        roles: ["relay", "other"],
        hostname: "sched.local",
        principal: "relay-principal",
        capabilities: [
          { type: "MULTI_ROLE" },
          { type: "PARTITION_AWARE" },
          { type: "TASK_KILLING_STATE" },
          { type: "GPU_RESOURCES" },
          { type: "REGION_AWARE" },
        ],
        labels: { labels: [{ key: "k", value: "v" }] },
      },
      suppressed_roles: ["other"],
    },
    framework_id: fw,
  },
  { framework_id: fw, type: "TEARDOWN" },
  {
    framework_id: fw,
    type: "ACCEPT",
    accept: {
      offer_ids: [{ value: "offer-1" }, { value: "offer-2" }],
      operations: [{ type: "LAUNCH", launch: { task_infos: [task] } }],
      filters: { refuse_seconds: 0.25 },
    },
  },
  {
    framework_id: fw,
    type: "DECLINE",
    decline: { offer_ids: [{ value: "offer-3" }], filters: { refuse_seconds: 31536000 } },
  },
  { framework_id: fw, type: "REVIVE", revive: { roles: ["relay"] } },
  { framework_id: fw, type: "REVIVE", revive: {} },
  { framework_id: fw, type: "KILL", kill: { task_id: { value: "t" }, agent_id: agent } },
  {
    framework_id: fw,
    type: "SHUTDOWN",
    shutdown: { executor_id: { value: "e" }, agent_id: agent },
  },
  {
    framework_id: fw,
    type: "ACKNOWLEDGE",
    acknowledge: { agent_id: agent, task_id: { value: "t" }, uuid: "3q2+7wABAgMEBQYHCAkKCw==" },
  },
  {
    framework_id: fw,
    type: "RECONCILE",
    reconcile: {
      tasks: [{ task_id: { value: "t1" }, agent_id: agent }, { task_id: { value: "t2" } }],
    },
  },
  { framework_id: fw, type: "RECONCILE", reconcile: { tasks: [] } },
  {
    framework_id: fw,
    type: "MESSAGE",
    message: { agent_id: agent, executor_id: { value: "e" }, data: "aGVsbG8=" },
  },
  {
    framework_id: fw,
    type: "REQUEST",
    request: { requests: [{ agent_id: agent, resources: [scalar("cpus", 1)] }] },
  },
  { framework_id: fw, type: "SUPPRESS", suppress: { roles: ["relay", "other"] } },
];

/** One event of every type. */
const EVENTS: Event[] = [
  {
    type: "SUBSCRIBED",
    subscribed: {
      framework_id: fw,
      heartbeat_interval_seconds: 15,
      master_info: {
        id: "master-1",
        ip: 4294967295,
        port: 5050,
        pid: "master@127.0.0.1:5050",
        hostname: "master.local",
        version: "1.11.0",
        address: { hostname: "master.local", ip: "127.0.0.1", port: 5050 },
      },
    },
  },
  { type: "OFFERS", offers: { offers: [offer, { ...offer, id: { value: "offer-2" } }] } },
  { type: "OFFERS", offers: { offers: [] } },
  { type: "INVERSE_OFFERS" },
  { type: "RESCIND", rescind: { offer_id: { value: "offer-1" } } },
  { type: "RESCIND_INVERSE_OFFER" },
  {
    type: "UPDATE",
    update: {
      status: {
        task_id: { value: "t" },
        state: "TASK_STARTING", // enum value 0: must survive as an explicitly present field
        message: "starting",
        source: "SOURCE_EXECUTOR",
        reason: "REASON_COMMAND_EXECUTOR_FAILED", // also value 0
        agent_id: agent,
        timestamp: 1718000000.123456,
        uuid: "AAECAwQFBgcICQoLDA0ODw==",
      },
    },
  },
  {
    type: "UPDATE",
    update: {
      status: {
        task_id: { value: "t" },
        state: "TASK_LOST",
        source: "SOURCE_MASTER",
        reason: "REASON_RECONCILIATION",
      },
    },
  },
  { type: "UPDATE_OPERATION_STATUS" },
  { type: "MESSAGE", message: { agent_id: agent, executor_id: { value: "e" }, data: "" } },
  { type: "FAILURE", failure: { agent_id: agent, executor_id: { value: "e" }, status: -9 } },
  { type: "FAILURE", failure: {} },
  { type: "ERROR", error: { message: "Framework has been removed" } },
  { type: "HEARTBEAT" },
  { type: "UNKNOWN" },
];

Deno.test("codec: media types", () => {
  assert.equal(mediaType("protobuf"), "application/x-protobuf");
  assert.equal(mediaType("json"), "application/json");
  assert.equal(contentTypeOf("application/json; charset=utf-8"), "json");
  assert.equal(contentTypeOf("Application/X-Protobuf"), "protobuf");
  assert.equal(contentTypeOf("text/plain"), undefined);
  assert.equal(contentTypeOf(null), undefined);
});

Deno.test("codec: every call type round-trips identically in both content types", () => {
  for (const call of CALLS) {
    const decoded = CTS.map((ct) => decodeCall(encodeCall(call, ct), ct));
    assert.deepEqual(decoded[0], call, `${call.type} via protobuf`);
    assert.deepEqual(decoded[1], call, `${call.type} via json`);
  }
});

Deno.test("codec: every event type round-trips identically in both content types", () => {
  for (const event of EVENTS) {
    const decoded = CTS.map((ct) => decodeEvent(encodeEvent(event, ct), ct));
    assert.deepEqual(decoded[0], event, `${event.type} via protobuf`);
    assert.deepEqual(decoded[1], event, `${event.type} via json`);
  }
});

Deno.test("codec: hand-built protobuf bytes match the .proto field numbers", () => {
  // Call{type = 2: KILL(6); kill = 6: Kill{task_id = 1: TaskID{value = 1: "a"}}}
  // TaskID{value:"a"} alone is 0a 01 61.
  const kill = encodeCall({ type: "KILL", kill: { task_id: { value: "a" } } }, "protobuf");
  assert.deepEqual(kill, Uint8Array.of(0x10, 0x06, 0x32, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0x61));

  // Call{type = 2: SUBSCRIBE(1); subscribe = 3: {framework_info = 1: {user = 1, name = 2}}}
  const subscribe = encodeCall(
    { type: "SUBSCRIBE", subscribe: { framework_info: { user: "u", name: "n" } } },
    "protobuf",
  );
  assert.deepEqual(
    subscribe,
    Uint8Array.of(0x10, 0x01, 0x1a, 0x08, 0x0a, 0x06, 0x0a, 0x01, 0x75, 0x12, 0x01, 0x6e),
  );

  // Call{framework_id = 1, type = 2: REVIVE(5), revive = 15: {roles = 1: "r"}}
  const revive = encodeCall(
    { framework_id: { value: "f" }, type: "REVIVE", revive: { roles: ["r"] } },
    "protobuf",
  );
  assert.deepEqual(
    revive,
    Uint8Array.of(0x0a, 0x03, 0x0a, 0x01, 0x66, 0x10, 0x05, 0x7a, 0x03, 0x0a, 0x01, 0x72),
  );

  // Event{type = 1: HEARTBEAT(8)}
  assert.deepEqual(decodeEvent(Uint8Array.of(0x08, 0x08), "protobuf"), { type: "HEARTBEAT" });

  // Fields in any order: Event{update = 5: {status = 1: {task_id = 1, state = 2: TASK_STARTING(0),
  // uuid = 11: 0x01 0x02}}, type = 1: UPDATE(4)}
  const update = Uint8Array.of(
    ...[0x2a, 0x0d, 0x0a, 0x0b],
    ...[0x0a, 0x03, 0x0a, 0x01, 0x74, 0x10, 0x00, 0x5a, 0x02, 0x01, 0x02],
    ...[0x08, 0x04],
  );
  assert.deepEqual(decodeEvent(update, "protobuf"), {
    type: "UPDATE",
    update: { status: { task_id: { value: "t" }, state: "TASK_STARTING", uuid: "AQI=" } },
  });

  // Filters.refuse_seconds = 1 is a double (fixed64 wire type 1).
  const decline = encodeCall(
    { type: "DECLINE", decline: { offer_ids: [], filters: { refuse_seconds: 1 } } },
    "protobuf",
  );
  assert.deepEqual(
    decline,
    Uint8Array.of(0x10, 0x04, 0x2a, 0x0b, 0x12, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
  );
});

Deno.test("codec: JSON OFFERS event in the documented shape (Offers wraps the list)", () => {
  const body = JSON.stringify({
    type: "OFFERS",
    offers: {
      offers: [{
        allocation_info: { role: "relay" },
        id: { value: "o-1" },
        framework_id: { value: "f-1" },
        agent_id: { value: "a-1" },
        hostname: "node-1",
        resources: [
          {
            allocation_info: { role: "relay" },
            name: "cpus",
            type: "SCALAR",
            scalar: { value: 2 },
            role: "*",
          },
          { name: "ports", type: "RANGES", ranges: { range: [{ begin: 31000, end: 31009 }] } },
        ],
        attributes: [{ name: "os", type: "TEXT", text: { value: "linux" } }],
        executor_ids: [{ value: "e-1" }],
      }],
    },
  });
  const event = decodeEvent(utf8(body), "json");
  assert.deepEqual(event, {
    type: "OFFERS",
    offers: {
      offers: [{
        id: { value: "o-1" },
        framework_id: { value: "f-1" },
        agent_id: { value: "a-1" },
        hostname: "node-1",
        resources: [
          {
            name: "cpus",
            type: "SCALAR",
            scalar: { value: 2 },
            role: "*",
            allocation_info: { role: "relay" },
          },
          { name: "ports", type: "RANGES", ranges: { range: [{ begin: 31000, end: 31009 }] } },
        ],
        // Attributes are kept (placement constraints read them); executor_ids are not modelled.
        attributes: [{ name: "os", type: "TEXT", text: { value: "linux" } }],
        allocation_info: { role: "relay" },
      }],
    },
  });
  // The same event through protobuf decodes to the same object.
  assert.deepEqual(decodeEvent(encodeEvent(event, "protobuf"), "protobuf"), event);
});

Deno.test("codec: JSON output uses the .proto names, enum names and Base64 bytes", () => {
  const json = JSON.parse(text(encodeCall(CALLS[8], "json")));
  assert.deepEqual(json, {
    framework_id: fw,
    type: "ACKNOWLEDGE",
    acknowledge: { agent_id: agent, task_id: { value: "t" }, uuid: "3q2+7wABAgMEBQYHCAkKCw==" },
  });
  const sub = JSON.parse(text(encodeCall(CALLS[0], "json")));
  assert.equal(sub.subscribe.framework_info.failover_timeout, 604800.5);
  assert.deepEqual(sub.subscribe.framework_info.capabilities[0], { type: "MULTI_ROLE" });
});

Deno.test("codec: absent fields stay absent; always-present arrays are filled", () => {
  const event = decodeEvent(
    utf8(JSON.stringify({
      type: "OFFERS",
      offers: {
        offers: [{ id: { value: "o" }, framework_id: fw, agent_id: agent, hostname: "h" }],
      },
    })),
    "json",
  );
  assert.deepEqual(event.offers?.offers[0].resources, []);
  // proto2 defaults are not filled in: CommandInfo.shell (default true) stays absent.
  const call = decodeCall(
    encodeCall({
      type: "ACCEPT",
      accept: {
        offer_ids: [],
        operations: [{
          type: "LAUNCH",
          launch: {
            task_infos: [{
              name: "n",
              task_id: { value: "t" },
              agent_id: agent,
              resources: [],
              command: { value: "true" },
            }],
          },
        }],
      },
    }, "protobuf"),
    "protobuf",
  );
  const command = call.accept!.operations[0].launch!.task_infos[0].command!;
  assert.deepEqual(command, { value: "true" });
  assert.equal("shell" in command, false);
  assert.equal("filters" in call.accept!, false);
  // Empty optional arrays are left out.
  assert.deepEqual(
    decodeCall(encodeCall({ type: "SUPPRESS", suppress: { roles: [] } }, "json"), "json"),
    {
      type: "SUPPRESS",
      suppress: {},
    },
  );
});

Deno.test("codec: doubles and 64-bit integers keep their values", () => {
  for (const ct of CTS) {
    const e = decodeEvent(
      encodeEvent({
        type: "UPDATE",
        update: { status: { task_id: { value: "t" }, state: "TASK_RUNNING", timestamp: Infinity } },
      }, ct),
      ct,
    );
    assert.equal(e.update?.status.timestamp, Infinity);
  }
  assert.match(
    text(encodeEvent({
      type: "UPDATE",
      update: { status: { task_id: { value: "t" }, state: "TASK_RUNNING", timestamp: -Infinity } },
    }, "json")),
    /"timestamp":"-Infinity"/,
  );
  // JSON int64/uint64 given as strings (proto3 JSON) decode to numbers.
  const e = decodeEvent(
    utf8(
      '{"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},' +
        '"agent_id":{"value":"a"},"hostname":"h","resources":[{"name":"ports","type":"RANGES",' +
        '"ranges":{"range":[{"begin":"1","end":"9007199254740991"}]}}]}]}}',
    ),
    "json",
  );
  assert.deepEqual(e.offers?.offers[0].resources[0].ranges, {
    range: [{ begin: 1, end: 9007199254740991 }],
  });
});

function assertCodecError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodecError, `expected CodecError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), "one-line message");
    return true;
  });
}

Deno.test("codec: bad JSON input gives CodecError", () => {
  const ev = (s: string) => () => decodeEvent(utf8(s), "json");
  assertCodecError(ev("{"), /mesos\.v1\.scheduler\.Event from json: malformed JSON/);
  assertCodecError(ev(""), /malformed JSON/);
  assertCodecError(() => decodeEvent(Uint8Array.of(0x7b, 0xff, 0x7d), "json"), /malformed JSON/);
  assertCodecError(ev("[]"), /expected an object for mesos\.v1\.scheduler\.Event, got an array/);
  assertCodecError(ev("null"), /expected an object/);
  assertCodecError(ev("{}"), /missing field mesos\.v1\.scheduler\.Event\.type/);
  assertCodecError(ev('{"type":"NOPE"}'), /unknown mesos\.v1\.scheduler\.Event\.Type value "NOPE"/);
  assertCodecError(ev('{"type":99}'), /unknown mesos\.v1\.scheduler\.Event\.Type value number 99/);
  assertCodecError(
    ev('{"type":"RESCIND","rescind":{}}'),
    /missing required field mesos\.v1\.scheduler\.Event\.Rescind\.offer_id \(at rescind\.offer_id\)/,
  );
  assertCodecError(
    ev('{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_BOGUS"}}}'),
    /unknown mesos\.v1\.TaskState value "TASK_BOGUS" in mesos\.v1\.TaskStatus\.state \(at update\.status\.state\)/,
  );
  assertCodecError(
    ev(
      '{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"!!"}}}',
    ),
    /mesos\.v1\.TaskStatus\.uuid must be a Base64 string/,
  );
  assertCodecError(
    ev(
      '{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"f"},"heartbeat_interval_seconds":"x"}}',
    ),
    /heartbeat_interval_seconds must be a number/,
  );
  assertCodecError(
    ev('{"type":"OFFERS","offers":{"offers":{}}}'),
    /mesos\.v1\.scheduler\.Event\.Offers\.offers must be an array/,
  );
  assertCodecError(
    ev('{"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"}}]}}'),
    /missing required field mesos\.v1\.Offer\.framework_id \(at offers\.offers\[0\]\.framework_id\)/,
  );
  assertCodecError(
    ev('{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":7}}}'),
    /mesos\.v1\.FrameworkID\.value must be a string, got number 7/,
  );
  assertCodecError(
    ev('{"type":"FAILURE","failure":{"status":1.5}}'),
    /mesos\.v1\.scheduler\.Event\.Failure\.status must be an integer in the int32 range/,
  );
});

Deno.test("codec: bad protobuf input gives CodecError", () => {
  const ev = (...b: number[]) => () => decodeEvent(Uint8Array.of(...b), "protobuf");
  assertCodecError(
    ev(0x12, 0x05, 0x01),
    /mesos\.v1\.scheduler\.Event from protobuf: malformed protobuf/,
  );
  assertCodecError(ev(0xff), /malformed protobuf/);
  assertCodecError(ev(), /missing field mesos\.v1\.scheduler\.Event\.type/);
  assertCodecError(ev(0x08, 0x63), /unknown mesos\.v1\.scheduler\.Event\.Type value number 99/);
  // UPDATE whose status lacks the required task_id and state.
  assertCodecError(
    ev(0x08, 0x04, 0x2a, 0x02, 0x0a, 0x00),
    /missing required field mesos\.v1\.TaskStatus\.task_id \(at update\.status\.task_id\)/,
  );
  // TaskState 42 does not exist.
  assertCodecError(
    ev(0x08, 0x04, 0x2a, 0x09, 0x0a, 0x07, 0x0a, 0x03, 0x0a, 0x01, 0x74, 0x10, 0x2a),
    /unknown mesos\.v1\.TaskState value number 42/,
  );
  assertCodecError(
    () => decodeCall(Uint8Array.of(0x10, 0x08, 0x42, 0x00), "protobuf"),
    /missing required field mesos\.v1\.scheduler\.Call\.Acknowledge\.agent_id/,
  );
});

Deno.test("codec: invalid objects are refused on encode", () => {
  assertCodecError(
    () => encodeCall({ type: "KILL", kill: {} } as unknown as Call, "protobuf"),
    /cannot encode mesos\.v1\.scheduler\.Call as protobuf: missing required field mesos\.v1\.scheduler\.Call\.Kill\.task_id/,
  );
  assertCodecError(
    () => encodeCall({ type: "WHATEVER" } as unknown as Call, "json"),
    /unknown mesos\.v1\.scheduler\.Call\.Type value "WHATEVER"/,
  );
  assertCodecError(
    () =>
      encodeCall({
        type: "ACCEPT",
        accept: {
          offer_ids: [{ value: "o" }],
          operations: [{ type: "LAUNCH", launch: { task_infos: [{ ...task, task_id: {} }] } }],
        },
      } as unknown as Call, "json"),
    /missing required field mesos\.v1\.TaskID\.value \(at accept\.operations\[0\]\.launch\.task_infos\[0\]\.task_id\.value\)/,
  );
  assertCodecError(
    () =>
      encodeEvent({
        type: "SUBSCRIBED",
        subscribed: { framework_id: fw, master_info: { id: "m", ip: -1, port: 1 } },
      }, "protobuf"),
    /mesos\.v1\.MasterInfo\.ip must be an integer in the uint32 range/,
  );
  assertCodecError(() => encodeEvent(null as unknown as Event, "json"), /expected an object/);
});

Deno.test("codec: random bytes never escape as anything but CodecError (seeded)", () => {
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const valid = [...EVENTS.map((e) => encodeEvent(e, "protobuf"))];
  for (let i = 0; i < 2000; i++) {
    let input: Uint8Array;
    if (i % 2 === 0) {
      input = Uint8Array.from(
        { length: Math.floor(random() * 40) },
        () => Math.floor(random() * 256),
      );
    } else {
      // Mutate a valid message: flip some bytes and maybe truncate.
      input = valid[i % valid.length].slice();
      for (let k = 0; k < 3; k++) {
        input[Math.floor(random() * input.length)] ^= 1 << Math.floor(random() * 8);
      }
      if (random() < 0.5) input = input.subarray(0, Math.floor(random() * input.length));
    }
    for (const ct of CTS) {
      try {
        decodeEvent(input, ct);
        decodeCall(input, ct);
      } catch (err) {
        assert.ok(err instanceof CodecError, `input ${input}: ${err}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The direct protobuf decoder and encoder against the reference path (protobufjs and the
// validation walk): the same objects (key order included), bytes and error messages.

/** The outcome of `f`: its value, or the error's text. */
function outcome(f: () => unknown): { ok: unknown } | { error: string } {
  try {
    return { ok: f() };
  } catch (err) {
    return { error: String(err) };
  }
}

function sameOutcome(a: () => unknown, b: () => unknown, what: string): boolean {
  const x = outcome(a);
  const y = outcome(b);
  assert.deepEqual(x, y, what);
  // deepEqual ignores key order; the JSON text does not.
  assert.equal(JSON.stringify(x), JSON.stringify(y), what);
  return "ok" in x;
}

function lcg(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

Deno.test("codec: direct protobuf decoding equals the reference path, also on broken input", () => {
  const valid = [
    ...EVENTS.map((e) => encodeEvent(e, "protobuf")),
    ...CALLS.map((c) => encodeCall(c, "protobuf")),
    // Strings below and above 13 bytes (decoded differently), non-ASCII, a byte-order mark.
    ...["ü", "\uFEFFhi", "\uFEFFhello, wörld and more", "日本語のテキストです", "😀".repeat(20)]
      .map((m) => encodeEvent({ type: "ERROR", error: { message: m } }, "protobuf")),
    // Fields out of number order, a singular field twice, a huge field number, a 5-byte varint.
    Uint8Array.of(0x2a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0x74, 0x08, 0x04),
    Uint8Array.of(0x08, 0x08, 0x08, 0x08),
    Uint8Array.of(0x08, 0x08, 0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00),
    Uint8Array.of(0x08, 0x88, 0x80, 0x80, 0x80, 0x00),
  ];
  const random = lcg(4242);
  let decoded = 0;
  for (let i = 0; i < 6000; i++) {
    let input = valid[i % valid.length].slice();
    if (i >= valid.length) {
      const flips = 1 + Math.floor(random() * 3);
      for (let k = 0; k < flips; k++) {
        const at = Math.floor(random() * input.length);
        if (random() < 0.5) input[at] ^= 1 << Math.floor(random() * 8);
        else input[at] = Math.floor(random() * 256);
      }
      if (random() < 0.2) input = input.subarray(0, Math.floor(random() * input.length));
      if (random() < 0.2) {
        const bytes = [...input];
        const at = Math.floor(random() * bytes.length);
        if (random() < 0.5) bytes.splice(at, 1 + Math.floor(random() * 3));
        else bytes.splice(at, 0, Math.floor(random() * 256), Math.floor(random() * 256));
        input = Uint8Array.from(bytes);
      }
    }
    const what = `input ${[...input]}`;
    if (
      sameOutcome(
        () => decodeEvent(input, "protobuf"),
        () => referenceCodec.decodeEvent(input, "protobuf"),
        what,
      )
    ) decoded++;
    sameOutcome(
      () => decodeCall(input, "protobuf"),
      () => referenceCodec.decodeCall(input, "protobuf"),
      what,
    );
  }
  assert.ok(decoded > 300, `enough inputs decode (${decoded})`);
});

/** A random object shaped by a message type; `bad` is the chance of a wrong or odd value. */
function randomMessage(
  type: protobuf.Type,
  random: () => number,
  bad: number,
  depth = 0,
): Record<string, unknown> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const value = (field: protobuf.Field): unknown => {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      return random() < bad / 2
        ? pick([null, "x", [], new Uint8Array(1)])
        : randomMessage(resolved, random, bad, depth + 1);
    }
    if (resolved instanceof protobuf.Enum) {
      const names = Object.keys(resolved.values);
      const r = random();
      if (r < bad) return pick(["NOPE", 999, -1, 1.5, null]);
      return r < 0.2 ? resolved.values[pick(names)] : pick(names);
    }
    const r = random();
    switch (field.type) {
      case "string":
        if (r < bad) return pick([5, null, true, {}]);
        if (r < 0.7) {
          return Array.from(
            { length: Math.floor(random() * 20) },
            () => String.fromCharCode(32 + Math.floor(random() * 95)),
          ).join("");
        }
        if (r < 0.85) return pick(["é", "日本語", "😀x", "a\uD800b", "\uDC00", "ü".repeat(100)]);
        return "x".repeat(Math.floor(random() * 300));
      case "bool":
        return r < bad ? pick([0, "true", null]) : r < 0.5;
      case "bytes": {
        if (r < bad) return pick(["abc$", "a", 5]);
        const bytes = Uint8Array.from(
          { length: Math.floor(random() * 20) },
          () => Math.floor(random() * 256),
        );
        return r < 0.5 ? bytes : btoa(String.fromCharCode(...bytes));
      }
      case "double":
      case "float":
        if (r < bad) return pick(["NaN", "1.5", "Infinity", "x", null]);
        return pick([0, -0, 1.5, 1e300, -3.25, NaN, Infinity, 0.1, 604800.5]);
      default: {
        if (r < bad) return pick(["42", "-1", 1.5, -1, 2 ** 53, 2 ** 60, null, "x", true]);
        if (field.type === "uint64") return pick([0, 1, 31000, 2 ** 40, 2 ** 53 - 1]);
        if (field.type === "uint32") return pick([0, 1, 5050, 2 ** 31, 2 ** 32 - 1]);
        return pick([0, 1, 300, 2 ** 31 - 1]);
      }
    }
  };
  const out: Record<string, unknown> = {};
  if (random() < 0.05) out.not_in_the_schema = 1;
  for (const field of type.fieldsArray) {
    const always = field.required || (depth === 0 && field.name === "type");
    if (!(always ? random() > bad / 2 : random() < (depth > 4 ? 0.15 : 0.5))) continue;
    if (field.repeated) {
      out[field.name] = random() < bad / 2
        ? pick(["x", {}, 5])
        : Array.from({ length: Math.floor(random() * 4) }, () => value(field));
    } else {
      out[field.name] = random() < bad / 3 ? null : value(field);
    }
  }
  return out;
}

Deno.test("codec: direct protobuf encoding equals the reference path, bytes and errors", () => {
  const root = protobuf.Root.fromJSON(MESOS_SCHEMA).resolveAll();
  const call = root.lookupType(CALL_TYPE);
  const event = root.lookupType(EVENT_TYPE);
  const random = lcg(777);
  let encoded = 0;
  for (let i = 0; i < 4000; i++) {
    const bad = [0, 0.003, 0.03][i % 3];
    const isCall = i % 2 === 0;
    const value = randomMessage(isCall ? call : event, random, bad);
    const bytes = (f: () => Uint8Array) => () => [...f()];
    const ok = isCall
      ? sameOutcome(
        bytes(() => encodeCall(value as unknown as Call, "protobuf")),
        bytes(() => referenceCodec.encodeCall(value as unknown as Call, "protobuf")),
        JSON.stringify(value),
      )
      : sameOutcome(
        bytes(() => encodeEvent(value as unknown as Event, "protobuf")),
        bytes(() => referenceCodec.encodeEvent(value as unknown as Event, "protobuf")),
        JSON.stringify(value),
      );
    if (ok) encoded++;
  }
  assert.ok(encoded > 1000, `enough objects encode (${encoded})`);
  // The fixed samples too, and a call big enough to grow the encoder's buffer.
  const big: Call = {
    type: "DECLINE",
    decline: { offer_ids: Array.from({ length: 5000 }, (_, i) => ({ value: `offer-${i}` })) },
  };
  for (const c of [...CALLS, big]) {
    assert.deepEqual(encodeCall(c, "protobuf"), referenceCodec.encodeCall(c, "protobuf"));
  }
  for (const e of EVENTS) {
    assert.deepEqual(encodeEvent(e, "protobuf"), referenceCodec.encodeEvent(e, "protobuf"));
  }
});
