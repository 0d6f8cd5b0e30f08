import assert from "node:assert/strict";
import { descriptor, parseProto, typescript } from "../scripts/gen_mesos.ts";

const root = new URL("../", import.meta.url);

/** Walks a protobufjs JSON descriptor by names: `at(schema, "nested", "p", ...)`. */
function at(value: unknown, ...path: string[]): unknown {
  return path.reduce((v, k) => (v as Record<string, unknown>)[k], value);
}

Deno.test("schema.ts and messages.ts are what lib/mesos/proto/*.proto give (scripts/gen_mesos.ts)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-run", "scripts/gen_mesos.ts", "--check"],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});

const A = `syntax = "proto2";
package p.a;
/** An id. */
// ts: Id
message AID {
  required string value = 1;
}
message Thing {
  optional AID id = 1;
  repeated Thing.Kind kinds = 2; // ts: always
  optional double weight = 3 [default = 5];
  optional Thing.Kind kind = 4 [default = BIG]; // ts: required
  enum Kind {
    SMALL = 0;
    BIG = 1;
  }
}
`;
const B = `syntax = "proto2";
package p.b;
message Other {
  required .p.a.Thing thing = 1;
}
`;

Deno.test("the .proto subset: labels, defaults, nesting, relative and qualified names, ts: flags", () => {
  const files = [parseProto(A, "a.proto"), parseProto(B, "b.proto")];
  const { schema, always } = descriptor(files);
  const thing = at(schema, "nested", "p", "nested", "a", "nested", "Thing");
  assert.deepEqual(at(thing, "fields", "kinds"), {
    edition: "proto2",
    rule: "repeated",
    type: "p.a.Thing.Kind",
    id: 2,
  });
  assert.deepEqual(at(thing, "fields", "weight", "options"), { default: 5 });
  assert.deepEqual(at(thing, "fields", "kind", "options"), { default: "BIG" });
  assert.deepEqual(at(thing, "nested", "Kind"), {
    edition: "proto2",
    values: { SMALL: 0, BIG: 1 },
  });
  const other = at(schema, "nested", "p", "nested", "b", "nested", "Other");
  assert.equal(at(other, "fields", "thing", "type"), "p.a.Thing");
  assert.deepEqual(always, ["p.a.Thing.kinds"]);

  const lines = typescript(files).split("\n");
  const thingAt = lines.indexOf("export interface Thing {");
  assert.deepEqual(lines.slice(thingAt, thingAt + 6), [
    "export interface Thing {",
    "  id?: Id;",
    "  kinds: ThingKind[];",
    "  weight?: number;",
    "  kind: ThingKind;",
    "}",
  ]);
  assert.ok(lines.includes("/** An id. */"));
  assert.ok(lines.includes('export type ThingKind = "SMALL" | "BIG";'));
});

Deno.test("the .proto subset parser says which file and line it cannot read", () => {
  const unknownType = `package p;\nmessage M {\n  optional Nope x = 1;\n}\n`;
  assert.throws(
    () => descriptor([parseProto(unknownType, "c.proto")]),
    /p\.M\.x: unknown type Nope/,
  );
  const noName = `package p;\nmessage M {\n  optional int32 = 1;\n}\n`;
  assert.throws(() => parseProto(noName, "d.proto"), /^Error: d\.proto:3: not understood/);
  assert.throws(() => parseProto(`package p;\nmessage M {\n`, "e.proto"), /M is not closed/);
});
