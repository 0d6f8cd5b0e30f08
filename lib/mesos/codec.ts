/**
 * Encoding and decoding of scheduler `Call`s and `Event`s in the two content types of the Mesos v1
 * HTTP API, `application/x-protobuf` and `application/json`, with ONE reference path: every
 * object goes through protobufjs `fromObject` / `toObject` on the schema of `schema.ts`, so the
 * same message decodes to the same object whichever content type carried it.
 *
 * For protobuf, a direct decoder and encoder generated from the same schema (bytes to plain
 * objects and back in one pass) handle the common case and hand everything unusual or wrong to
 * the reference path, so results, key order and error messages are the reference path's; the
 * tests compare the two on valid, random and broken input. `referenceCodec` is the reference
 * path alone. The direct path is what keeps a 1000-offer OFFERS event under the goal of 5 ms
 * (p99) from its frame to the ACCEPT sent; the reference path alone takes about three times as
 * long (`deno task bench`, scheduler overhead).
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

/**
 * The reference path alone: protobufjs `decode` and `toObject` or `fromObject` and `encode`, with
 * the validation walk, without the direct protobuf decoder and encoder that the functions above
 * try first. The same results and errors, only slower: for the tests that check that the two
 * agree, and for the benchmark.
 */
export const referenceCodec = {
  decodeEvent: (bytes: Uint8Array, ct: ContentType): Event =>
    decodeMessage(EVENT_TYPE, bytes, ct, false) as unknown as Event,
  decodeCall: (bytes: Uint8Array, ct: ContentType): Call =>
    decodeMessage(CALL_TYPE, bytes, ct, false) as unknown as Call,
  encodeCall: (call: Call, ct: ContentType): Uint8Array<ArrayBuffer> =>
    encodeMessage(CALL_TYPE, call, ct, false),
  encodeEvent: (event: Event, ct: ContentType): Uint8Array<ArrayBuffer> =>
    encodeMessage(EVENT_TYPE, event, ct, false),
};

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
  fast = true,
): Uint8Array<ArrayBuffer> {
  const what = `cannot encode ${typeName} as ${ct}`;
  const { strict, wire } = typesOf(typeName);
  if (ct === "protobuf" && fast) {
    const direct = encodeDirect(strict, value);
    if (direct !== undefined) return direct;
  }
  validateTop(strict, value, what);
  try {
    const message = wire.fromObject(value as Record<string, unknown>);
    if (ct === "protobuf") return new Uint8Array(wire.encode(message).finish());
    return new TextEncoder().encode(JSON.stringify(wire.toObject(message, JSON_OPTIONS)));
  } catch (err) {
    throw new CodecError(`${what}: ${oneLine(err)}`);
  }
}

function decodeMessage(
  typeName: string,
  bytes: Uint8Array,
  ct: ContentType,
  fast = true,
): unknown {
  const what = `cannot decode ${typeName} from ${ct}`;
  const { strict, wire } = typesOf(typeName);
  if (!(bytes instanceof Uint8Array)) throw new CodecError(`${what}: expected bytes`);
  let object: Record<string, unknown>;
  if (ct === "protobuf") {
    if (fast) {
      const direct = decodeDirect(strict, bytes);
      if (direct !== undefined) return direct;
    }
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

// ---------------------------------------------------------------------------------------------
// The direct protobuf decoder: bytes straight to the plain object `decodeMessage` would return,
// in one pass, without protobufjs `Message` instances, `toObject` or a validation walk (each of
// which allocates or visits every field again). It handles the common case only and gives up
// (returns undefined) on anything else — a field out of field-number order or repeated when
// singular, a wire type that does not match the schema, a missing required field, an unknown enum
// number, a varint of 5 bytes or more (7 for uint64), a group, truncation, deep nesting — and the
// caller then takes the reference path (protobufjs, then validation), which decides and words
// every error. So the result, key order included, is the reference path's: keys in field-number
// order as `toObject` writes them, then the always-present arrays it fills in. Strings and Base64
// come from the protobufjs helpers the reference path uses, or from the TextDecoder they use.
//
// Like protobufjs, it is generated code: one function per message type with the field names
// written in, so that V8 sees fixed property names (a generic loop storing `out[field.name]` is
// dominated by megamorphic keyed stores).

const K_MESSAGE = 0;
const K_ENUM = 1;
const K_STRING = 2;
const K_BYTES = 3;
const K_BOOL = 4;
const K_INT32 = 5;
const K_UINT32 = 6;
const K_UINT64 = 7;
const K_DOUBLE = 8;
const K_FLOAT = 9;
const K_UNSUPPORTED = 10;

const WIRE_KINDS: Record<string, number> = {
  string: K_STRING,
  bytes: K_BYTES,
  bool: K_BOOL,
  int32: K_INT32,
  uint32: K_UINT32,
  uint64: K_UINT64,
  double: K_DOUBLE,
  float: K_FLOAT,
};

/**
 * How the generated coders handle a field: message, enum, one of the scalar kinds, or
 * K_UNSUPPORTED (maps, oneofs, other scalar types and `unsupportedName`), left to protobufjs.
 */
function fieldKind(field: protobuf.Field, unsupportedName?: string): number {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return K_MESSAGE;
  if (resolved instanceof protobuf.Enum) return K_ENUM;
  if (field.map || field.partOf || field.name === unsupportedName) return K_UNSUPPORTED;
  return WIRE_KINDS[field.type] ?? K_UNSUPPORTED;
}

/** The protobuf wire type of a field kind: 2 length-delimited, 1 64-bit, 5 32-bit, 0 varint. */
function wireTypeOf(kind: number): number {
  if (kind === K_MESSAGE || kind === K_STRING || kind === K_BYTES) return 2;
  if (kind === K_DOUBLE) return 1;
  if (kind === K_FLOAT) return 5;
  return 0;
}

/** Nesting deeper than this takes the reference path (Mesos messages nest about 8 deep). */
const MAX_FAST_DEPTH = 32;

type DirectDecoder = (bytes: Uint8Array) => Record<string, unknown> | undefined;

const directDecoders = new Map<protobuf.Type, DirectDecoder>();

/** The decoded object, or undefined when the reference path must decide. */
function decodeDirect(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> | undefined {
  let decoder = directDecoders.get(type);
  if (!decoder) {
    decoder = compileDirect(type);
    directDecoders.set(type, decoder);
  }
  return decoder(bytes);
}

/** `root` and every message type reachable from it, in visiting order, with their positions. */
function reachableTypes(
  root: protobuf.Type,
): { index: Map<protobuf.Type, number>; order: protobuf.Type[] } {
  const index = new Map<protobuf.Type, number>();
  const order: protobuf.Type[] = [];
  const visit = (type: protobuf.Type) => {
    if (index.has(type)) return;
    index.set(type, order.length);
    order.push(type);
    for (const field of type.fieldsArray) {
      if (field.resolvedType instanceof protobuf.Type) visit(field.resolvedType);
    }
  };
  visit(root);
  return { index, order };
}

/** Generates the decoder of `root` and of every message type reachable from it. */
function compileDirect(root: protobuf.Type): DirectDecoder {
  const { index, order } = reachableTypes(root);
  const enums: (string | undefined)[][] = [];
  const functions = order.map((type, n) => {
    const known: number[] = [];
    const cases: string[] = [];
    const required: string[] = [];
    for (const field of type.fieldsArray) {
      known.push(field.id);
      const prop = `o[${JSON.stringify(field.name)}]`;
      if (field.required) required.push(`if(${prop}===undefined)throw G;`);
      const resolved = field.resolvedType;
      // A field named __proto__ would be stored on the prototype: left to protobufjs.
      const kind = fieldKind(field, "__proto__");
      if (kind === K_UNSUPPORTED) continue; // known, so its tags give up in `default`
      const wireType = wireTypeOf(kind);
      let read: string;
      switch (kind) {
        case K_MESSAGE:
          read = `{const n=v32(end),stop=pos+n;if(stop>end)throw G;v=m${
            index.get(resolved as protobuf.Type)
          }(stop,depth+1);}`;
          break;
        case K_STRING:
          // Below 13 bytes protobufjs's reader gives a flat string; above, a rope of 8-byte
          // pieces that costs a copy when first read (a Map key, the DECLINE that echoes an
          // offer id). TextDecoder gives the same text (it is what protobufjs falls back on)
          // as one flat string.
          read = "{const n=v32(end),s=pos;pos+=n;if(pos>end)throw G;" +
            "v=n<13?utf8(buf,s,pos):td.decode(buf.subarray(s,pos));}";
          break;
        case K_BYTES:
          read = "{const n=v32(end),s=pos;pos+=n;if(pos>end)throw G;v=b64(buf,s,pos);}";
          break;
        case K_ENUM: {
          const names: (string | undefined)[] = [];
          const byId = (resolved as protobuf.Enum).valuesById;
          for (const key of Object.keys(byId)) {
            const number = Number(key);
            if (Number.isInteger(number) && number >= 0 && number < 1 << 16) {
              names[number] = byId[number];
            }
          }
          enums.push(names);
          read = `v=E[${enums.length - 1}][v32(end)];if(v===undefined)throw G;`;
          break;
        }
        case K_BOOL:
          read = "v=v32(end)!==0;";
          break;
        case K_INT32:
        case K_UINT32:
          read = "v=v32(end);"; // below 2^28: the same as int32 and uint32
          break;
        case K_UINT64:
          read = "v=v53(end);";
          break;
        case K_DOUBLE:
          read = "v=f64(end);";
          break;
        default:
          read = "v=f32(end);";
      }
      const store = field.repeated
        ? `{const a=${prop};if(a===undefined)${prop}=[v];else a.push(v);}`
        : `${prop}=v;`;
      // Keys must come in field-number order, as toObject writes them; a singular field seen
      // twice (merged or overwritten by protobufjs) is left to the reference path.
      cases.push(
        `case ${field.id * 8 + wireType}:if(last${
          field.repeated ? ">" : ">="
        }${field.id})throw G;last=${field.id};${read}${store}break;`,
      );
    }
    const alwaysArrays = planOf(type).alwaysArrays
      .map((name) => `if(o[${JSON.stringify(name)}]===undefined)o[${JSON.stringify(name)}]=[];`)
      .join("");
    const knownCheck = known.length ? `switch(t>>>3){case ${known.join(":case ")}:throw G;}` : "";
    return `function m${n}(end,depth){if(depth>${MAX_FAST_DEPTH})throw G;const o={};let last=0,v;` +
      `while(pos<end){const t=v32(end);switch(t){${cases.join("")}default:` +
      `if(t>>>3===0)throw G;${knownCheck}skip(t&7,end);}}` +
      `if(pos!==end)throw G;${required.join("")}${alwaysArrays}return o;}`;
  });
  const source = `"use strict";let buf=EMPTY,pos=0;
const sc=new Uint8Array(8),sc64=new Float64Array(sc.buffer),sc32=new Float32Array(sc.buffer);
const LE=new Uint8Array(new Uint16Array([1]).buffer)[0]===1;
function v32(end){let value=0;for(let shift=0;shift<28;shift+=7){if(pos>=end)throw G;
const b=buf[pos++];value|=(b&127)<<shift;if(b<128)return value;}throw G;}
function v53(end){let value=0,scale=1;for(let i=0;i<7;i++){if(pos>=end)throw G;
const b=buf[pos++];value+=(b&127)*scale;if(b<128)return value;scale*=128;}throw G;}
function f64(end){if(pos+8>end)throw G;for(let i=0;i<8;i++)sc[LE?i:7-i]=buf[pos+i];pos+=8;return sc64[0];}
function f32(end){if(pos+4>end)throw G;for(let i=0;i<4;i++)sc[LE?i:3-i]=buf[pos+i];pos+=4;return sc32[0];}
function skip(wireType,end){switch(wireType){
case 0:for(let i=0;;i++){if(i===10||pos>=end)throw G;if(buf[pos++]<128)return;}
case 1:pos+=8;break;case 2:{const n=v32(end);pos+=n;break;}case 5:pos+=4;break;default:throw G;}
if(pos>end)throw G;}
${functions.join("\n")}
return function decode(bytes){buf=bytes;pos=0;try{const o=m0(bytes.length,0);
return o.type==null?undefined:o;}catch{return undefined;}finally{buf=EMPTY;}};`;
  return new Function("G", "EMPTY", "E", "utf8", "td", "b64", source)(
    new Error("take the reference path"),
    new Uint8Array(0),
    enums,
    protobuf.util.utf8.read,
    new TextDecoder("utf-8", { ignoreBOM: true }),
    protobuf.util.base64.encode,
  ) as DirectDecoder;
}

// ---------------------------------------------------------------------------------------------
// The direct protobuf encoder: a plain object straight to the bytes `encodeMessage` would give,
// checking the validation rules as it writes, without protobufjs `fromObject` (which builds a
// `Message` for every nested object) or a separate validation walk. It writes only values it is
// sure of — strings, booleans, enum names or known enum numbers, non-negative safe integers,
// numbers for doubles, Base64 strings or bytes — and gives up (returns undefined) on anything
// else: a wrong type, a missing required field, a numeric string, a negative integer, a value the
// reference path might convert. The caller then takes the reference path, which encodes or words
// the error. Non-ASCII strings and Base64 go through the protobufjs helpers the reference path
// uses, so the bytes are the same.

type DirectEncoder = (value: unknown) => Uint8Array<ArrayBuffer> | undefined;

const directEncoders = new Map<protobuf.Type, DirectEncoder>();

function encodeDirect(type: protobuf.Type, value: unknown): Uint8Array<ArrayBuffer> | undefined {
  let encoder = directEncoders.get(type);
  if (!encoder) {
    encoder = compileEncoder(type);
    directEncoders.set(type, encoder);
  }
  return encoder(value);
}

function compileEncoder(root: protobuf.Type): DirectEncoder {
  const { index, order } = reachableTypes(root);
  const enums: Record<string, number>[] = [];
  const known: Record<number, true>[] = [];
  const functions = order.map((type, n) => {
    const body: string[] = [];
    for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
      const resolved = field.resolvedType;
      const kind = fieldKind(field);
      const tag = varintBytes(field.id * 8 + wireTypeOf(kind));
      const writeTag = `ensure(${tag.length});${tag.map((b) => `buf[pos++]=${b};`).join("")}`;
      let write: string;
      switch (kind) {
        case K_MESSAGE:
          write = `${writeTag}ensure(1);const at=pos++;e${
            index.get(resolved as protobuf.Type)
          }(x,depth+1);delim(at);`;
          break;
        case K_STRING:
          write = `if(typeof x!=="string")throw G;${writeTag}ws(x);`;
          break;
        case K_BYTES:
          write = `${writeTag}wb(x);`;
          break;
        case K_ENUM: {
          const names: Record<string, number> = Object.create(null);
          const numbers: Record<number, true> = Object.create(null);
          const e = resolved as protobuf.Enum;
          for (const name of Object.keys(e.values)) names[name] = e.values[name];
          for (const key of Object.keys(e.valuesById)) numbers[Number(key)] = true;
          enums.push(names);
          known.push(numbers);
          const k = enums.length - 1;
          write = `let e;if(typeof x==="string"){e=N[${k}][x];if(e===undefined)throw G;}` +
            `else if(typeof x==="number"&&K[${k}][x]===true)e=x;else throw G;` +
            `if(!(e>=0))throw G;${writeTag}wv(e);`;
          break;
        }
        case K_BOOL:
          write = `if(typeof x!=="boolean")throw G;${writeTag}ensure(1);buf[pos++]=x?1:0;`;
          break;
        case K_INT32:
          write = `if(!Number.isInteger(x)||x<0||x>2147483647)throw G;${writeTag}wv(x);`;
          break;
        case K_UINT32:
          write = `if(!Number.isInteger(x)||x<0||x>4294967295)throw G;${writeTag}wv(x);`;
          break;
        case K_UINT64:
          write = `if(!Number.isSafeInteger(x)||x<0)throw G;${writeTag}wv(x);`;
          break;
        case K_DOUBLE:
          write = `if(typeof x!=="number")throw G;${writeTag}ensure(8);f64[0]=x;` +
            `for(let i=0;i<8;i++)buf[pos++]=sc[LE?i:7-i];`;
          break;
        case K_FLOAT:
          write = `if(typeof x!=="number")throw G;${writeTag}ensure(4);f32[0]=x;` +
            `for(let i=0;i<4;i++)buf[pos++]=sc[LE?i:3-i];`;
          break;
        default:
          write = "throw G;";
      }
      const prop = `o[${JSON.stringify(field.name)}]`;
      const missing = field.required ? "else throw G;" : "";
      if (field.repeated) {
        body.push(
          `v=${prop};if(v!=null){if(!Array.isArray(v))throw G;` +
            `for(let i=0;i<v.length;i++){const x=v[i];${write}}}${missing}`,
        );
      } else {
        body.push(`v=${prop};if(v!=null){const x=v;${write}}${missing}`);
      }
    }
    return `function e${n}(o,depth){if(depth>${MAX_FAST_DEPTH}||typeof o!=="object"||o===null||` +
      `Array.isArray(o)||o instanceof Uint8Array)throw G;let v;${body.join("\n")}}`;
  });
  const source = `"use strict";let buf=new Uint8Array(4096),pos=0;
const sc=new Uint8Array(8),f64=new Float64Array(sc.buffer),f32=new Float32Array(sc.buffer);
const LE=new Uint8Array(new Uint16Array([1]).buffer)[0]===1;
function ensure(n){if(pos+n>buf.length){let size=buf.length*2;while(size<pos+n)size*=2;
const bigger=new Uint8Array(size);bigger.set(buf.subarray(0,pos));buf=bigger;}}
function wv(v){ensure(10);if(v<2147483648){while(v>127){buf[pos++]=(v&127)|128;v>>>=7;}buf[pos++]=v;return;}
while(v>127){buf[pos++]=(v%128)|128;v=Math.floor(v/128);}buf[pos++]=v;}
function vsize(v){let n=1;while(v>127){v=Math.floor(v/128);n++;}return n;}
function delim(at){const len=pos-at-1;if(len<128){buf[at]=len;return;}
const extra=vsize(len)-1;ensure(extra);buf.copyWithin(at+1+extra,at+1,pos);pos+=extra;
let p=at,v=len;while(v>127){buf[p++]=(v&127)|128;v>>>=7;}buf[p]=v;}
function ws(s){const n=s.length,start=pos;wv(n);ensure(n);let p=pos;
for(let i=0;i<n;i++){const c=s.charCodeAt(i);if(c>=128){p=-1;break;}buf[p++]=c;}
if(p>=0){pos=p;return;}
pos=start;const len=utf8len(s);wv(len);ensure(len);pos+=utf8write(s,buf,pos);}
function wb(x){if(x instanceof Uint8Array){wv(x.length);ensure(x.length);buf.set(x,pos);pos+=x.length;return;}
if(typeof x!=="string"||!B64.test(x))throw G;const len=b64len(x);wv(len);ensure(len);
buf.fill(0,pos,pos+len);b64decode(x,buf,pos);pos+=len;}
${functions.join("\n")}
let busy=false;
return function encode(value){if(busy)return undefined;busy=true;pos=0;
try{e0(value,0);if(value.type==null)return undefined;return buf.slice(0,pos);}catch{return undefined;}
finally{busy=false;if(buf.length>1048576)buf=new Uint8Array(4096);}};`;
  return new Function(
    "G",
    "N",
    "K",
    "B64",
    "utf8len",
    "utf8write",
    "b64len",
    "b64decode",
    source,
  )(
    new Error("take the reference path"),
    enums,
    known,
    BASE64,
    protobuf.util.utf8.length,
    protobuf.util.utf8.write,
    protobuf.util.base64.length,
    protobuf.util.base64.decode,
  ) as DirectEncoder;
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  while (value > 127) {
    out.push((value & 127) | 128);
    value >>>= 7;
  }
  out.push(value);
  return out;
}
