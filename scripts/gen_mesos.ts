/**
 * Generates `lib/mesos/schema.ts` (the protobufjs JSON descriptor the codec uses) and
 * `lib/mesos/messages.ts` (the TypeScript types of the same messages) from the one source of both,
 * `lib/mesos/proto/mesos.proto` and `lib/mesos/proto/scheduler.proto`.
 *
 * `deno run --allow-read --allow-write=lib/mesos --allow-run scripts/gen_mesos.ts` writes them;
 * with `--check` it writes nothing and exits 1 when either file is not what the .proto files give.
 *
 * The parser reads the subset of proto2 those files use, one statement per line: `syntax`,
 * `package`, `import`, `message` and `enum` blocks (nested to any depth), fields
 * `LABEL TYPE NAME = NUMBER [default = VALUE];` and enum values `NAME = NUMBER;`. Type names
 * without a leading dot are relative to the file's package. `/** ... *\/` comments become JSDoc;
 * `// ts: ...` comments steer the TypeScript side (see mesos.proto).
 * @module
 */

/** A field as written. */
interface ProtoField {
  label: "required" | "optional" | "repeated";
  type: string;
  name: string;
  id: number;
  defaultValue?: string;
  flags: string[];
  doc?: string;
}

interface ProtoMessage {
  kind: "message";
  name: string;
  /** Full name, e.g. `mesos.v1.Resource.DiskInfo`. */
  full: string;
  tsName?: string;
  doc?: string;
  fields: ProtoField[];
  nested: (ProtoMessage | ProtoEnum)[];
}

interface ProtoEnum {
  kind: "enum";
  name: string;
  full: string;
  tsName?: string;
  doc?: string;
  values: [string, number][];
}

interface ProtoFile {
  pkg: string;
  items: (ProtoMessage | ProtoEnum)[];
}

/** Scalar proto types and their TypeScript types (proto3 JSON mapping with `longs: Number`). */
const SCALARS: Record<string, string> = {
  string: "string",
  bytes: "string",
  bool: "boolean",
  double: "number",
  float: "number",
  int32: "number",
  uint32: "number",
  sint32: "number",
  fixed32: "number",
  sfixed32: "number",
  int64: "number",
  uint64: "number",
  sint64: "number",
  fixed64: "number",
  sfixed64: "number",
};

const FIELD =
  /^(required|optional|repeated)\s+(\.?[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(?:\[\s*default\s*=\s*([^\]]+?)\s*\])?\s*;\s*(?:\/\/\s*(.*))?$/;
const ENUM_VALUE = /^(\w+)\s*=\s*(-?\d+)\s*;\s*(?:\/\/.*)?$/;
const OPEN = /^(message|enum)\s+(\w+)\s*\{$/;

/** Parses one .proto file of the subset; throws naming the file and line. */
export function parseProto(text: string, file: string): ProtoFile {
  let pkg = "";
  const root: (ProtoMessage | ProtoEnum)[] = [];
  const stack: (ProtoMessage | ProtoEnum)[] = [];
  let doc: string[] | undefined;
  let pendingDoc: string | undefined;
  let pendingTs: string | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    const fail = (why: string) => {
      throw new Error(`${file}:${i + 1}: ${why}: ${line}`);
    };
    if (doc) {
      const end = line.endsWith("*/");
      const body = line.replace(/\*\/$/, "").replace(/^\*\s?/, "").trimEnd();
      if (body !== "") doc.push(body);
      if (end) {
        pendingDoc = doc.join("\n");
        doc = undefined;
      }
      continue;
    }
    if (line === "") continue;
    if (line.startsWith("/**")) {
      const body = line.slice(3).replace(/\*\/$/, "").trim();
      if (line.endsWith("*/") && line.length > 4) pendingDoc = body;
      else doc = body ? [body] : [];
      continue;
    }
    if (line.startsWith("//")) {
      const ts = /^\/\/\s*ts:\s*(\w+)\s*$/.exec(line);
      if (ts) pendingTs = ts[1];
      continue;
    }
    const top = stack.at(-1);
    let m: RegExpExecArray | null;
    if ((m = /^syntax\s*=\s*"(\w+)";$/.exec(line))) {
      if (m[1] !== "proto2") fail("only proto2 is supported");
    } else if ((m = /^package\s+([\w.]+);$/.exec(line))) {
      pkg = m[1];
    } else if (/^import\s+"[^"]+";$/.test(line)) {
      // Cross-file references are written fully qualified; nothing to load.
    } else if ((m = OPEN.exec(line))) {
      if (top?.kind === "enum") fail("no blocks inside an enum");
      const full = `${top ? top.full : pkg}.${m[2]}`;
      const item: ProtoMessage | ProtoEnum = m[1] === "message"
        ? { kind: "message", name: m[2], full, fields: [], nested: [] }
        : { kind: "enum", name: m[2], full, values: [] };
      if (pendingTs) item.tsName = pendingTs;
      if (pendingDoc) item.doc = pendingDoc;
      (top ? (top as ProtoMessage).nested : root).push(item);
      stack.push(item);
    } else if (line === "}") {
      if (!stack.pop()) fail("unbalanced }");
    } else if (top?.kind === "message" && (m = FIELD.exec(line))) {
      const flags = (m[6] ?? "").replace(/^ts:\s*/, "").split(/\s+/).filter(Boolean);
      if (m[6] !== undefined && !/^ts:/.test(m[6])) flags.length = 0;
      top.fields.push({
        label: m[1] as ProtoField["label"],
        type: m[2],
        name: m[3],
        id: Number(m[4]),
        ...(m[5] !== undefined ? { defaultValue: m[5] } : {}),
        flags,
        ...(pendingDoc ? { doc: pendingDoc } : {}),
      });
    } else if (top?.kind === "enum" && (m = ENUM_VALUE.exec(line))) {
      top.values.push([m[1], Number(m[2])]);
    } else {
      fail("not understood");
    }
    pendingDoc = undefined;
    pendingTs = undefined;
  }
  if (stack.length > 0) throw new Error(`${file}: ${stack.at(-1)!.name} is not closed`);
  if (!pkg) throw new Error(`${file}: no package`);
  return { pkg, items: root };
}

/** Every message and enum of `files` by full name. */
function index(files: ProtoFile[]): Map<string, ProtoMessage | ProtoEnum> {
  const all = new Map<string, ProtoMessage | ProtoEnum>();
  const walk = (item: ProtoMessage | ProtoEnum) => {
    if (all.has(item.full)) throw new Error(`${item.full} is defined twice`);
    all.set(item.full, item);
    if (item.kind === "message") item.nested.forEach(walk);
  };
  for (const f of files) f.items.forEach(walk);
  return all;
}

/** The full name a field's type refers to, or the scalar type itself. */
function resolve(type: string, pkg: string, all: Map<string, unknown>, where: string): string {
  if (type in SCALARS) return type;
  const full = type.startsWith(".") ? type.slice(1) : `${pkg}.${type}`;
  if (!all.has(full)) throw new Error(`${where}: unknown type ${type}`);
  return full;
}

function defaultOf(text: string): unknown {
  if (text === "true" || text === "false") return text === "true";
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (/^"[^"]*"$/.test(text)) return JSON.parse(text);
  if (/^[A-Z_][A-Z0-9_]*$/.test(text)) return text; // an enum value, by name
  throw new Error(`bad default ${text}`);
}

/** The protobufjs JSON descriptor of `files`, and the always-present repeated fields. */
export function descriptor(files: ProtoFile[]): { schema: unknown; always: string[] } {
  const all = index(files);
  const always: string[] = [];
  const root: Record<string, unknown> = {};
  const toJson = (item: ProtoMessage | ProtoEnum, pkg: string): Record<string, unknown> => {
    if (item.kind === "enum") {
      return { edition: "proto2", values: Object.fromEntries(item.values) };
    }
    const fields: Record<string, unknown> = {};
    for (const f of item.fields) {
      const where = `${item.full}.${f.name}`;
      if (f.flags.includes("always")) {
        if (f.label !== "repeated") throw new Error(`${where}: "always" is for repeated fields`);
        always.push(where);
      }
      fields[f.name] = {
        edition: "proto2",
        ...(f.label === "optional" ? {} : { rule: f.label }),
        type: resolve(f.type, pkg, all, where),
        id: f.id,
        ...(f.defaultValue !== undefined
          ? { options: { default: defaultOf(f.defaultValue) } }
          : {}),
      };
    }
    const out: Record<string, unknown> = { fields };
    if (item.nested.length > 0) {
      out.nested = Object.fromEntries(item.nested.map((n) => [n.name, toJson(n, pkg)]));
    }
    return out;
  };
  for (const file of files) {
    let ns = root;
    for (const part of file.pkg.split(".")) {
      ns[part] ??= { nested: {} };
      ns = (ns[part] as { nested: Record<string, unknown> }).nested;
    }
    for (const item of file.items) ns[item.name] = toJson(item, file.pkg);
  }
  return { schema: { nested: root }, always };
}

/** The TypeScript declarations of `files`. */
export function typescript(files: ProtoFile[]): string {
  const all = index(files);
  const names = new Map<string, string>();
  const name = (item: ProtoMessage | ProtoEnum, parent?: string) => {
    const ts = item.tsName ?? `${parent ?? ""}${item.name}`;
    names.set(item.full, ts);
    if (item.kind === "message") { for (const n of item.nested) name(n, ts); }
  };
  for (const f of files) for (const item of f.items) name(item);
  const declared = new Map<string, string>();
  const out: string[] = [];
  const jsdoc = (text: string | undefined, indent: string) => {
    if (!text) return;
    const lines = text.split("\n");
    if (lines.length === 1) out.push(`${indent}/** ${lines[0]} */`);
    else out.push(`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`), `${indent} */`);
  };
  const emit = (item: ProtoMessage | ProtoEnum, pkg: string) => {
    const ts = names.get(item.full)!;
    let body: string;
    if (item.kind === "enum") {
      body = `export type ${ts} = ${item.values.map(([v]) => JSON.stringify(v)).join(" | ")};`;
    } else if (item.fields.length === 0) {
      body = `export type ${ts} = Record<string, never>;`;
    } else {
      const fields: string[] = [];
      for (const f of item.fields) {
        const where = `${item.full}.${f.name}`;
        const full = resolve(f.type, pkg, all, where);
        let type = full in SCALARS ? SCALARS[full] : names.get(full)!;
        if (f.flags.includes("string")) type = "string";
        const present = f.label === "required" ||
          (f.label === "optional" && f.flags.includes("required")) ||
          (f.label === "repeated" && f.flags.includes("always"));
        if (f.label === "repeated") type = `${type}[]`;
        if (f.doc) {
          const before = out.length;
          jsdoc(f.doc, "  ");
          fields.push(...out.splice(before));
        }
        fields.push(`  ${f.name}${present ? "" : "?"}: ${type};`);
      }
      body = `export interface ${ts} {\n${fields.join("\n")}\n}`;
    }
    // The ID messages share one type: declared once, checked to be the same.
    const seen = declared.get(ts);
    if (seen !== undefined) {
      if (seen !== body) throw new Error(`${item.full}: TypeScript name ${ts} is taken`);
    } else {
      declared.set(ts, body);
      out.push("");
      jsdoc(item.doc, "");
      out.push(body);
    }
    if (item.kind === "message") { for (const n of item.nested) emit(n, pkg); }
  };
  for (const f of files) for (const item of f.items) emit(item, f.pkg);
  return out.join("\n");
}

/**
 * JSON text of `value` for a line that already holds `used` characters at indentation `indent`:
 * on that line when it fits in {@linkcode LINE_WIDTH}, else one entry per line.
 */
function compact(value: unknown, indent: number, used = indent): string {
  const flat = JSON.stringify(value);
  const keyed = typeof value === "object" && value !== null ? Object.entries(value) : [];
  if (used + flat.length + 1 <= LINE_WIDTH || keyed.length === 0) return flat;
  const pad = " ".repeat(indent + 2);
  const entries = Array.isArray(value)
    ? value.map((v) => `${pad}${compact(v, indent + 2)}`)
    : keyed.map(([k, v]) => {
      const key = `${pad}${JSON.stringify(k)}: `;
      return `${key}${compact(v, indent + 2, key.length)}`;
    });
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  return `${open}\n${entries.join(",\n")},\n${" ".repeat(indent)}${close}`;
}

/** The line width of `deno fmt` in this repository (deno.json). */
const LINE_WIDTH = 100;

const GENERATED = "Generated by scripts/gen_mesos.ts from lib/mesos/proto/*.proto: do not edit.\n" +
  " * Change the .proto files and run the script.";

/** The two generated modules' text, unformatted. */
export function generate(mesos: string, scheduler: string): { schema: string; messages: string } {
  const files = [parseProto(mesos, "mesos.proto"), parseProto(scheduler, "scheduler.proto")];
  const { schema, always } = descriptor(files);
  const schemaTs = `/**
 * The protobuf schema of the Mesos v1 scheduler API messages Relay.Mesos uses, as a protobufjs
 * JSON descriptor (packages \`mesos.v1\` and \`mesos.v1.scheduler\`).
 * ${GENERATED}
 *
 * proto2 like the originals: \`required\` and \`optional\` fields with explicit presence, unpacked
 * repeated fields, and the proto2 \`[default = ...]\` values recorded as field options; every field
 * and enum says \`edition: "proto2"\` because protobufjs takes a JSON descriptor as proto3 otherwise.
 * @module
 */

import type protobuf from "protobufjs";

/** The whole schema (\`protobuf.Root.fromJSON\` input). */
export const MESOS_SCHEMA: protobuf.INamespace = ${compact(schema, 0)} as protobuf.INamespace;

/**
 * Repeated fields that \`messages.ts\` declares as always present (non-optional arrays; \`// ts:
 * always\` in the .proto). Protobuf cannot tell an empty repeated field from an absent one, so
 * decoding sets these to \`[]\` when absent, in both content types; every other repeated field is
 * left out when empty.
 */
export const ALWAYS_PRESENT_ARRAYS: ReadonlySet<string> = new Set(${JSON.stringify(always)});

/** Full names of the two top-level messages. */
export const EVENT_TYPE = "mesos.v1.scheduler.Event";
export const CALL_TYPE = "mesos.v1.scheduler.Call";
`;
  const messagesTs = `/**
 * TypeScript shapes of the Mesos v1 scheduler API messages Relay.Mesos uses.
 * ${GENERATED}
 *
 * They follow the proto3 JSON mapping: field names as in the .proto (snake_case), enums as their
 * names, \`bytes\` as Base64 strings, 64-bit numbers as numbers. The same objects are encoded as
 * JSON or as protobuf by \`codec.ts\`. Only the fields we read or write are listed; decoding keeps
 * unknown fields out.
 * @module
 */
${typescript(files)}
`;
  return { schema: schemaTs, messages: messagesTs };
}

async function format(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=ts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(`deno fmt failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

if (import.meta.main) {
  const dir = new URL("../lib/mesos/", import.meta.url);
  const read = (name: string) => Deno.readTextFileSync(new URL(name, dir));
  const { schema, messages } = generate(read("proto/mesos.proto"), read("proto/scheduler.proto"));
  const outputs: [string, string][] = [
    ["schema.ts", await format(schema)],
    ["messages.ts", await format(messages)],
  ];
  const check = Deno.args.includes("--check");
  let stale = 0;
  for (const [name, text] of outputs) {
    if (check) {
      if (read(name) !== text) {
        console.error(`lib/mesos/${name} is not what lib/mesos/proto/*.proto give`);
        stale++;
      }
    } else {
      Deno.writeTextFileSync(new URL(name, dir), text);
      console.log(`wrote lib/mesos/${name}`);
    }
  }
  if (stale > 0) {
    console.error(
      "run: deno run --allow-read --allow-write=lib/mesos --allow-run scripts/gen_mesos.ts",
    );
    Deno.exit(1);
  }
}
