/**
 * Seeded fuzzing of everything that parses untrusted input: RecordIO framing, Mesos event
 * decoding (protobuf and JSON), signal specs, sample text and options/YAML. Each must either
 * succeed or throw its own typed error with a one-line message; nothing else may escape.
 */
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../lib/config/parse.ts";
import { CodecError, decodeEvent, encodeEvent } from "../lib/mesos/codec.ts";
import type { Event } from "../lib/mesos/messages.ts";
import { RecordIODecoder, RecordIOError } from "../lib/mesos/recordio.ts";
import { parseSample } from "../lib/signals/number.ts";
import { parseSignalSpec } from "../lib/signals/spec.ts";
import { SignalReadError, SignalSpecError } from "../lib/signals/types.ts";
import { seededRandom } from "../sim/plants.ts";

const ROUNDS = 3000;
const random = seededRandom(20261128);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => int(256));
}

/** Random text biased toward the characters parsers care about. */
function text(max: number): string {
  const alphabet = "0123456789.-+eE:,=/#~%\\n \t{}[]\"'abcxyz:sinecmdfilehttp";
  return Array.from({ length: int(max) }, () => alphabet[int(alphabet.length)]).join("");
}

function mutate(data: Uint8Array): Uint8Array {
  const out = Uint8Array.from(data);
  for (let i = 0, n = 1 + int(4); i < n && out.length > 0; i++) out[int(out.length)] = int(256);
  return int(4) === 0 ? out.subarray(0, int(out.length + 1)) : out;
}

/** Refusals seen, per input kind: the fuzzing must reach the error paths. */
const refused: Record<string, number> = {};
const accepted: Record<string, number> = {};

/** Runs `fn`; only `allowed` errors with a one-line message may come out. */
function contained(what: string, fn: () => unknown, ...allowed: (new (...a: never[]) => Error)[]) {
  try {
    fn();
    accepted[what] = (accepted[what] ?? 0) + 1;
  } catch (err) {
    refused[what] = (refused[what] ?? 0) + 1;
    assert.ok(
      allowed.some((type) => err instanceof type),
      `${what}: unexpected ${(err as Error)?.name}: ${(err as Error)?.message}`,
    );
    const message = (err as Error).message;
    assert.ok(message.length > 0 && !message.includes("\n"), `${what}: message "${message}"`);
  }
}

const SAMPLE_EVENTS: Event[] = [
  { type: "HEARTBEAT" },
  {
    type: "SUBSCRIBED",
    subscribed: { framework_id: { value: "fw" }, heartbeat_interval_seconds: 15 },
  },
  {
    type: "UPDATE",
    update: {
      status: {
        task_id: { value: "t" },
        state: "TASK_RUNNING",
        agent_id: { value: "a" },
        uuid: "AAECAwQFBgcICQoLDA0ODw==",
      },
    },
  },
  {
    type: "OFFERS",
    offers: {
      offers: [{
        id: { value: "o" },
        framework_id: { value: "fw" },
        agent_id: { value: "a" },
        hostname: "h",
        resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 1 } }],
      }],
    },
  },
];

Deno.test("fuzz: the RecordIO decoder returns records or a RecordIOError, never hangs", () => {
  for (let round = 0; round < ROUNDS; round++) {
    const decoder = new RecordIODecoder(1024);
    const input = int(2) ? bytes(int(64)) : new TextEncoder().encode(text(40));
    contained("recordio", () => {
      for (let at = 0; at < input.length;) {
        const step = 1 + int(8);
        decoder.push(input.subarray(at, at + step));
        at += step;
      }
    }, RecordIOError);
  }
});

Deno.test("fuzz: mangled protobuf and JSON events decode or give a CodecError", () => {
  for (let round = 0; round < ROUNDS; round++) {
    const event = pick(SAMPLE_EVENTS);
    const protobuf = mutate(encodeEvent(event, "protobuf"));
    contained("protobuf event", () => decodeEvent(protobuf, "protobuf"), CodecError);
    const json = new TextEncoder().encode(
      JSON.stringify(event).split("").map((c) => (int(30) === 0 ? text(2) : c)).join(""),
    );
    contained("json event", () => decodeEvent(json, "json"), CodecError);
    contained(
      "random bytes",
      () => decodeEvent(bytes(int(80)), pick(["protobuf", "json"])),
      CodecError,
    );
  }
});

Deno.test("fuzz: signal specs and samples parse or give their own errors", () => {
  const prefixes = [
    "",
    "cmd:",
    "file:",
    "http://h/",
    "sine:",
    "square:",
    "schedule:",
    "tasks:",
    "module:",
  ];
  for (let round = 0; round < ROUNDS; round++) {
    contained("spec", () => parseSignalSpec(pick(prefixes) + text(30)), SignalSpecError);
    contained("sample", () => parseSample(text(20)), SignalReadError);
  }
});

Deno.test("fuzz: flags, env values and YAML files parse or give a ConfigError", () => {
  const flags = ["--delay", "--max-running", "--target", "--metric", "--dry-run", "--env", "--law"];
  for (let round = 0; round < ROUNDS / 3; round++) {
    const argv = ["--metric", "1", "--target", "0", "--warmer", "w"];
    for (let i = int(4); i > 0; i--) argv.push(pick(flags), text(8));
    const yaml = pick(["delay: ", "max_running: ", "env:\n  - ", "target: ", "- ", "{", ""]) +
      text(20);
    contained(
      "config",
      () =>
        parseConfig({
          argv,
          env: { RELAY_CONFIG: "fuzz.yaml", RELAY_DRY_RUN: pick(["yes", "no", text(4)]) },
          readTextFile: () => yaml,
        }),
      ConfigError,
    );
  }
});

Deno.test("fuzz: every input kind was both accepted and refused at least once", () => {
  for (const what of ["recordio", "protobuf event", "json event", "spec", "sample", "config"]) {
    assert.ok((refused[what] ?? 0) > 0, `${what} never refused`);
    assert.ok((accepted[what] ?? 0) > 0, `${what} never accepted`);
  }
});
