/**
 * Encoding and decoding of scheduler `Call`s and `Event`s in the two content types of the Mesos v1
 * HTTP API, `application/x-protobuf` and `application/json`, with ONE code path: every object
 * goes through protobufjs `fromObject` / `toObject` on the schema of `schema.ts`, so the same
 * message decodes to the same object whichever content type carried it.
 *
 * Decoded objects follow `messages.ts` (the proto3 JSON mapping with the .proto field names):
 * - enums are their names (`enums: String`); 64-bit integers are numbers (`longs: Number`);
 *   `bytes` are standard Base64 strings with padding (`bytes: String`);
 * - absent optional fields stay absent (`defaults: false`): proto2 defaults such as
 *   `CommandInfo.shell = true` or `Filters.refuse_seconds = 5` are NOT filled in, readers apply
 *   them;
 * - empty repeated fields are absent (`arrays: false`), except the arrays `messages.ts` declares
 *   as non-optional (`ALWAYS_PRESENT_ARRAYS` in `schema.ts`), which are `[]` when empty: so
 *   `decode(encode(x))` deep-equals `x` for any well-typed `x` without empty optional arrays;
 * - fields the schema does not describe are dropped (JSON keys and protobuf field numbers alike).
 *
 * Every failure (bad protobuf bytes, bad UTF-8 or JSON, wrong value type, unknown enum value,
 * missing required field, missing `type`) throws `CodecError` with a one-line message naming the
 * message type and, when possible, the field and its path. Nothing else escapes.
 *
 * @example
 * ```ts
 * const body = encodeCall({ type: "REVIVE", framework_id: { value: "fw" } }, "json");
 * // body holds {"framework_id":{"value":"fw"},"type":"REVIVE"}
 * decodeCall(body, "json"); // => { framework_id: { value: "fw" }, type: "REVIVE" }
 * ```
 * @module
 */

import protobuf from "protobufjs";
import type { Call, Event } from "./messages.ts";
import { ALWAYS_PRESENT_ARRAYS, CALL_TYPE, EVENT_TYPE, MESOS_SCHEMA } from "./schema.ts";

/** The two encodings of the v1 API. */
export type ContentType = "protobuf" | "json";

/** A message could not be encoded or decoded; the message says which and where. */
export class CodecError extends Error {
  override name = "CodecError";
}

const MEDIA_TYPES: Record<ContentType, string> = {
  protobuf: "application/x-protobuf",
  json: "application/json",
};

/** The HTTP media type of a content type: `application/x-protobuf` or `application/json`. */
export function mediaType(ct: ContentType): string {
  return MEDIA_TYPES[ct];
}

/**
 * The content type named by a `Content-Type` / `Accept` header value (parameters such as
 * `; charset=utf-8` ignored), or undefined when it is neither of ours.
 * @example
 * ```ts
 * contentTypeOf("application/json; charset=utf-8"); // => "json"
 * contentTypeOf("text/plain");                      // => undefined
 * ```
 */
export function contentTypeOf(header: string | null | undefined): ContentType | undefined {
  const base = (header ?? "").split(";")[0].trim().toLowerCase();
  if (base === MEDIA_TYPES.json) return "json";
  if (base === MEDIA_TYPES.protobuf) return "protobuf";
  return undefined;
}

/** Serializes a call for `POST /api/v1/scheduler`. @throws CodecError */
export function encodeCall(call: Call, ct: ContentType): Uint8Array<ArrayBuffer> {
  return encodeMessage(CALL_TYPE, call, ct);
}

/** Parses one event record of the SUBSCRIBE stream. @throws CodecError */
export function decodeEvent(bytes: Uint8Array, ct: ContentType): Event {
  return decodeMessage(EVENT_TYPE, bytes, ct) as unknown as Event;
}

/** Parses a call body (the test master's side). @throws CodecError */
export function decodeCall(bytes: Uint8Array, ct: ContentType): Call {
  return decodeMessage(CALL_TYPE, bytes, ct) as unknown as Call;
}

/** Serializes an event (the test master's side). @throws CodecError */
export function encodeEvent(event: Event, ct: ContentType): Uint8Array<ArrayBuffer> {
  return encodeMessage(EVENT_TYPE, event, ct);
}

// ---------------------------------------------------------------------------------------------
// Roots. The strict root is the schema as written (proto2) and is what the validator reads. The
// wire root, which protobufjs encodes and decodes with, relaxes two proto2 rules so that nothing
// is thrown or dropped silently before our validator sees it: `required` fields become optional
// (protobufjs would throw a context-free "missing required" error; we name message, field and
// path) and enums become open (a proto2 parser drops an unknown enum number as an unknown field;
// we keep it and report it, as the JSON path does for an unknown name).

const strictRoot = protobuf.Root.fromJSON(MESOS_SCHEMA).resolveAll();
const wireRoot = protobuf.Root.fromJSON(relaxForWire(MESOS_SCHEMA)).resolveAll();

function relaxForWire(schema: protobuf.INamespace): protobuf.INamespace {
  const copy = structuredClone(schema) as Record<string, unknown>;
  const visit = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    // Without an edition, protobufjs reads an enum descriptor as proto3, i.e. open.
    if (record.values) delete record.edition;
    const fields = record.fields as Record<string, { rule?: string }> | undefined;
    for (const field of Object.values(fields ?? {})) {
      if (field.rule === "required") delete field.rule;
    }
    for (const child of Object.values((record.nested ?? {}) as Record<string, unknown>)) {
      visit(child);
    }
  };
  visit(copy);
  return copy as protobuf.INamespace;
}

/** toObject options for the objects we hand out (see the module doc). */
const OBJECT_OPTIONS: protobuf.IConversionOptions = {
  enums: String,
  longs: Number,
  bytes: String,
  defaults: false,
  arrays: false,
  objects: false,
  oneofs: false,
};
/** The same for JSON output: non-finite doubles become "NaN"/"Infinity" as proto3 JSON wants. */
const JSON_OPTIONS: protobuf.IConversionOptions = { ...OBJECT_OPTIONS, json: true };

const fullName = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, "");

// Fail fast if ALWAYS_PRESENT_ARRAYS names anything but a repeated field of the schema.
for (const name of ALWAYS_PRESENT_ARRAYS) {
  const dot = name.lastIndexOf(".");
  const field = strictRoot.lookupType(name.slice(0, dot)).fields[name.slice(dot + 1)];
  if (!field?.repeated) throw new Error(`schema: ${name} is not a repeated field`);
}

// ---------------------------------------------------------------------------------------------

function encodeMessage(
  typeName: string,
  value: unknown,
  ct: ContentType,
): Uint8Array<ArrayBuffer> {
  const what = `cannot encode ${typeName} as ${ct}`;
  const { strict, wire } = typesOf(typeName);
  validateTop(strict, value, what);
  try {
    const message = wire.fromObject(value as Record<string, unknown>);
    if (ct === "protobuf") return new Uint8Array(wire.encode(message).finish());
    return new TextEncoder().encode(JSON.stringify(wire.toObject(message, JSON_OPTIONS)));
  } catch (err) {
    throw new CodecError(`${what}: ${oneLine(err)}`);
  }
}

function decodeMessage(typeName: string, bytes: Uint8Array, ct: ContentType): unknown {
  const what = `cannot decode ${typeName} from ${ct}`;
  const { strict, wire } = typesOf(typeName);
  if (!(bytes instanceof Uint8Array)) throw new CodecError(`${what}: expected bytes`);
  let object: Record<string, unknown>;
  if (ct === "protobuf") {
    let message: protobuf.Message;
    try {
      message = wire.decode(bytes);
    } catch (err) {
      throw new CodecError(`${what}: malformed protobuf (${oneLine(err)})`);
    }
    object = wire.toObject(message, OBJECT_OPTIONS);
    validateTop(strict, object, what);
  } else if (ct === "json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (err) {
      throw new CodecError(`${what}: malformed JSON (${oneLine(err)})`);
    }
    validateTop(strict, parsed, what);
    try {
      object = wire.toObject(wire.fromObject(parsed as Record<string, unknown>), OBJECT_OPTIONS);
    } catch (err) {
      throw new CodecError(`${what}: ${oneLine(err)}`);
    }
  } else {
    throw new CodecError(`${what}: unknown content type`);
  }
  fillArrays(strict, object);
  return object;
}

const typeCache = new Map<string, { strict: protobuf.Type; wire: protobuf.Type }>();

/** The strict and the wire type of a message, looked up once. */
function typesOf(typeName: string): { strict: protobuf.Type; wire: protobuf.Type } {
  let types = typeCache.get(typeName);
  if (!types) {
    types = { strict: strictRoot.lookupType(typeName), wire: wireRoot.lookupType(typeName) };
    typeCache.set(typeName, types);
  }
  return types;
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0].slice(0, 300);
}

// ---------------------------------------------------------------------------------------------
// Validation of plain objects against the strict schema (before fromObject, after toObject).

function validateTop(type: protobuf.Type, value: unknown, what: string): void {
  const fail = (problem: string, path: string) =>
    new CodecError(`${what}: ${problem}${path ? ` (at ${path})` : ""}`);
  try {
    // The quick check passes nearly every message; only a doubtful one gets the slow, precise
    // walk, which finds and words the problem (paths are built only there).
    if (!isValid(type, value)) validate(type, value, "", fail);
  } catch (err) {
    if (err instanceof CodecError) throw err;
    // A stack overflow or similar on a pathological input: still a CodecError.
    throw new CodecError(`${what}: ${oneLine(err)}`);
  }
  if ((value as Record<string, unknown>).type == null) {
    throw fail(`missing field ${fullName(type)}.type`, "");
  }
}

type Fail = (problem: string, path: string) => CodecError;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

function validate(type: protobuf.Type, value: unknown, path: string, fail: Fail): void {
  if (!isPlainObject(value)) {
    throw fail(`expected an object for ${fullName(type)}, got ${describe(value)}`, path);
  }
  for (const field of type.fieldsArray) {
    const v = value[field.name];
    const at = path ? `${path}.${field.name}` : field.name;
    if (v === undefined || v === null) {
      if (field.required) throw fail(`missing required field ${fieldName(type, field)}`, at);
      continue;
    }
    if (field.repeated) {
      if (!Array.isArray(v)) {
        throw fail(`${fieldName(type, field)} must be an array, got ${describe(v)}`, at);
      }
      v.forEach((item, i) => validateValue(type, field, item, `${at}[${i}]`, fail));
    } else {
      validateValue(type, field, v, at, fail);
    }
  }
}

const fieldName = (type: protobuf.Type, field: protobuf.Field) => `${fullName(type)}.${field.name}`;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bytes";
  if (typeof value === "string") return `"${value.length > 40 ? value.slice(0, 40) + "…" : value}"`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const DECIMAL = /^-?\d+$/;
const FLOAT_SPECIAL = new Set(["NaN", "Infinity", "-Infinity"]);

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
  // 64-bit values become JS numbers (`longs: Number`): exact up to 2^53, rounded beyond.
  int64: [-(2 ** 63), 2 ** 63],
  sint64: [-(2 ** 63), 2 ** 63],
  sfixed64: [-(2 ** 63), 2 ** 63],
  uint64: [0, 2 ** 64],
  fixed64: [0, 2 ** 64],
};

function validateValue(
  type: protobuf.Type,
  field: protobuf.Field,
  v: unknown,
  at: string,
  fail: Fail,
): void {
  const name = fieldName(type, field);
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    validate(resolved, v, at, fail);
    return;
  }
  if (resolved instanceof protobuf.Enum) {
    const known = typeof v === "string"
      ? Object.hasOwn(resolved.values, v)
      : typeof v === "number" && Object.hasOwn(resolved.valuesById, v);
    if (!known) {
      throw fail(`unknown ${fullName(resolved)} value ${describe(v)} in ${name}`, at);
    }
    return;
  }
  const bad = (expected: string) => fail(`${name} must be ${expected}, got ${describe(v)}`, at);
  switch (field.type) {
    case "string":
      if (typeof v !== "string") throw bad("a string");
      return;
    case "bool":
      if (typeof v !== "boolean") throw bad("a boolean");
      return;
    case "bytes":
      if (v instanceof Uint8Array) return;
      if (typeof v !== "string" || !BASE64.test(v)) throw bad("a Base64 string");
      return;
    case "double":
    case "float":
      if (typeof v === "number") return;
      if (typeof v === "string" && (FLOAT_SPECIAL.has(v) || isNumeric(v))) return;
      throw bad("a number");
    default: {
      const range = INT_RANGES[field.type];
      if (!range) throw fail(`${name} has unsupported type ${field.type}`, at);
      const n = typeof v === "number"
        ? v
        : typeof v === "string" && DECIMAL.test(v)
        ? Number(v)
        : NaN;
      if (!Number.isInteger(n) || n < range[0] || n > range[1]) {
        throw bad(`an integer in the ${field.type} range`);
      }
    }
  }
}

function isNumeric(s: string): boolean {
  return s.trim() !== "" && Number.isFinite(Number(s));
}

/** Sets the always-present repeated fields to [] where a decoded object lacks them. */
function fillArrays(type: protobuf.Type, object: Record<string, unknown>): void {
  const plan = planOf(type);
  for (const name of plan.alwaysArrays) {
    if (object[name] === undefined) object[name] = [];
  }
  for (const field of plan.messages) {
    const value = object[field.name];
    if (value === undefined) continue;
    if (field.repeated) {
      for (const item of value as Record<string, unknown>[]) fillArrays(field.message!, item);
    } else {
      fillArrays(field.message!, value as Record<string, unknown>);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The quick check: the same rules as `validate`, from a plan computed once per message type, with
// no strings built. It only answers yes or no; `validate` explains a no.

type FieldKind = "message" | "enum" | "string" | "bool" | "bytes" | "float" | "int" | "other";

interface FieldPlan {
  readonly name: string;
  readonly repeated: boolean;
  readonly kind: FieldKind;
  readonly message?: protobuf.Type;
  readonly enumType?: protobuf.Enum;
  readonly range?: readonly [number, number];
}

interface TypePlan {
  readonly byName: ReadonlyMap<string, FieldPlan>;
  readonly required: readonly string[];
  readonly messages: readonly FieldPlan[];
  readonly alwaysArrays: readonly string[];
}

const plans = new Map<protobuf.Type, TypePlan>();

function planOf(type: protobuf.Type): TypePlan {
  let plan = plans.get(type);
  if (plan) return plan;
  const byName = new Map<string, FieldPlan>();
  const required: string[] = [];
  const messages: FieldPlan[] = [];
  const alwaysArrays: string[] = [];
  for (const field of type.fieldsArray) {
    const resolved = field.resolvedType;
    const kind: FieldKind = resolved instanceof protobuf.Type
      ? "message"
      : resolved instanceof protobuf.Enum
      ? "enum"
      : field.type === "string" || field.type === "bool" || field.type === "bytes"
      ? field.type
      : field.type === "double" || field.type === "float"
      ? "float"
      : INT_RANGES[field.type]
      ? "int"
      : "other";
    const fp: FieldPlan = {
      name: field.name,
      repeated: field.repeated,
      kind,
      ...(resolved instanceof protobuf.Type ? { message: resolved } : {}),
      ...(resolved instanceof protobuf.Enum ? { enumType: resolved } : {}),
      ...(kind === "int" ? { range: INT_RANGES[field.type] } : {}),
    };
    byName.set(field.name, fp);
    if (field.required) required.push(field.name);
    if (kind === "message") messages.push(fp);
    if (field.repeated && ALWAYS_PRESENT_ARRAYS.has(fieldName(type, field))) {
      alwaysArrays.push(field.name);
    }
  }
  plan = { byName, required, messages, alwaysArrays };
  plans.set(type, plan);
  return plan;
}

function isValid(type: protobuf.Type, value: unknown, depth = 0): boolean {
  if (depth > 64 || !isPlainObject(value)) return false;
  const plan = planOf(type);
  for (const name of plan.required) {
    if (value[name] == null) return false;
  }
  for (const key in value) {
    const field = plan.byName.get(key);
    if (field === undefined) continue;
    const v = value[key];
    if (v == null) continue;
    if (field.repeated) {
      if (!Array.isArray(v)) return false;
      for (const item of v) if (!isValidValue(field, item, depth)) return false;
    } else if (!isValidValue(field, v, depth)) {
      return false;
    }
  }
  return true;
}

function isValidValue(field: FieldPlan, v: unknown, depth: number): boolean {
  switch (field.kind) {
    case "message":
      return isValid(field.message!, v, depth + 1);
    case "enum":
      return typeof v === "string"
        ? Object.hasOwn(field.enumType!.values, v)
        : typeof v === "number" && Object.hasOwn(field.enumType!.valuesById, v);
    case "string":
      return typeof v === "string";
    case "bool":
      return typeof v === "boolean";
    case "bytes":
      return v instanceof Uint8Array || (typeof v === "string" && BASE64.test(v));
    case "float":
      return typeof v === "number" ||
        (typeof v === "string" && (FLOAT_SPECIAL.has(v) || isNumeric(v)));
    case "int": {
      const n = typeof v === "number"
        ? v
        : typeof v === "string" && DECIMAL.test(v)
        ? Number(v)
        : NaN;
      const [lo, hi] = field.range!;
      return Number.isInteger(n) && n >= lo && n <= hi;
    }
    default:
      return false;
  }
}
