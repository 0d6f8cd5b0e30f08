import assert from "node:assert/strict";
import { lastNonEmptyLine, parseSample } from "../lib/signals/number.ts";
import { parseSignalSpec } from "../lib/signals/spec.ts";
import { SignalReadError, SignalSpecError } from "../lib/signals/types.ts";

const KINDS =
  "(expected a number, cmd:, file:, http(s)://, sine:, square:, schedule:, tasks:, module:)";

/** The message of the SignalSpecError that parsing `spec` throws. */
function specError(spec: string): string {
  try {
    parseSignalSpec(spec);
  } catch (err) {
    assert.ok(err instanceof SignalSpecError, `${spec}: threw ${err}`);
    assert.ok(!err.message.includes("\n"), `${spec}: message is not one line`);
    return err.message;
  }
  throw new assert.AssertionError({ message: `${JSON.stringify(spec)} was accepted` });
}

Deno.test("parseSample accepts finite decimal numbers with sign, fraction, exponent", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["42", 42],
    ["-3.5", -3.5],
    ["+2", 2],
    ["1e3", 1000],
    ["1E-2", 0.01],
    ["-2.5e+2", -250],
    [".5", 0.5],
    ["5.", 5],
    ["  42\n", 42],
    ["\t-7\r\n", -7],
  ];
  for (const [text, value] of cases) assert.equal(parseSample(text), value, JSON.stringify(text));
});

Deno.test("parseSample refuses empty, non-finite, trailing garbage, hex and other notations", () => {
  const bad = [
    "",
    "   ",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "12abc",
    "abc12",
    "0x10",
    "0b1",
    "0o7",
    "1_000",
    "1,5",
    "1 2",
    "--1",
    "e5",
    "1e",
    ".",
    "1e999",
  ];
  for (const text of bad) {
    assert.throws(() => parseSample(text), (err: unknown) => {
      assert.ok(err instanceof SignalReadError, JSON.stringify(text));
      assert.equal(err.message, `not a number: ${JSON.stringify(text.trim())}`);
      return true;
    });
  }
});

Deno.test("parseSample shortens long garbage in its message to about 40 characters", () => {
  const long = "x".repeat(100);
  assert.throws(() => parseSample(long), {
    name: "SignalReadError",
    message: `not a number: "${"x".repeat(40)}…"`,
  });
});

Deno.test("lastNonEmptyLine skips trailing blank lines and handles CRLF", () => {
  assert.equal(lastNonEmptyLine("a\nb\n\n  \n"), "b");
  assert.equal(lastNonEmptyLine("1\r\n2\r\n"), "2");
  assert.equal(lastNonEmptyLine("only"), "only");
  assert.equal(lastNonEmptyLine(""), "");
  assert.equal(lastNonEmptyLine(" \n\t\n"), "");
});

Deno.test("numbers parse as constants", () => {
  assert.deepEqual(parseSignalSpec("0"), { kind: "constant", value: 0 });
  assert.deepEqual(parseSignalSpec("-3.5"), { kind: "constant", value: -3.5 });
  assert.deepEqual(parseSignalSpec("1e3"), { kind: "constant", value: 1000 });
  assert.deepEqual(parseSignalSpec(" +7 "), { kind: "constant", value: 7 });
});

Deno.test("cmd:, file: and tasks: parse", () => {
  assert.deepEqual(parseSignalSpec("cmd:echo 1 | wc -l"), {
    kind: "cmd",
    command: "echo 1 | wc -l",
  });
  assert.deepEqual(parseSignalSpec("CMD:true"), { kind: "cmd", command: "true" });
  assert.deepEqual(parseSignalSpec("file:/var/run/queue depth"), {
    kind: "file",
    path: "/var/run/queue depth",
  });
  assert.deepEqual(parseSignalSpec("file:rel/x.txt"), { kind: "file", path: "rel/x.txt" });
  assert.deepEqual(parseSignalSpec("tasks:running"), { kind: "tasks", state: "running" });
  assert.deepEqual(parseSignalSpec("tasks:pending"), { kind: "tasks", state: "pending" });
});

Deno.test("http(s) URLs parse; the fragment becomes a decoded JSON pointer, not part of the URL", () => {
  assert.deepEqual(parseSignalSpec("http://127.0.0.1:9000/depth"), {
    kind: "http",
    url: "http://127.0.0.1:9000/depth",
  });
  assert.deepEqual(parseSignalSpec("https://stats.example/q?x=1#/queue/depth"), {
    kind: "http",
    url: "https://stats.example/q?x=1",
    pointer: "/queue/depth",
  });
  // ~ escapes stay for the pointer evaluation; percent-escapes are decoded here.
  assert.deepEqual(parseSignalSpec("http://h/s#/a~1b/c~0d/0"), {
    kind: "http",
    url: "http://h/s",
    pointer: "/a~1b/c~0d/0",
  });
  assert.deepEqual(parseSignalSpec("http://h/s#/queue%20stats/%C3%A9"), {
    kind: "http",
    url: "http://h/s",
    pointer: "/queue stats/é",
  });
  assert.deepEqual(parseSignalSpec("http://h/s#"), { kind: "http", url: "http://h/s" });
});

Deno.test("sine: and square: parse with their defaults", () => {
  assert.deepEqual(parseSignalSpec("sine:period=600,min=0,max=40"), {
    kind: "sine",
    period: 600,
    min: 0,
    max: 40,
    phase: 0,
  });
  assert.deepEqual(parseSignalSpec("sine: max=4 , min=-4, period=1e2, phase=-30"), {
    kind: "sine",
    period: 100,
    min: -4,
    max: 4,
    phase: -30,
  });
  assert.deepEqual(parseSignalSpec("square:period=60,low=1,high=4"), {
    kind: "square",
    period: 60,
    low: 1,
    high: 4,
    duty: 0.5,
    phase: 0,
  });
  assert.deepEqual(parseSignalSpec("square:period=60,low=1,high=4,duty=0.25,phase=15"), {
    kind: "square",
    period: 60,
    low: 1,
    high: 4,
    duty: 0.25,
    phase: 15,
  });
});

Deno.test("schedule: entries are sorted seconds of day, with an optional tz", () => {
  assert.deepEqual(parseSignalSpec("schedule:00:00=40,08:00=5,20:00=40"), {
    kind: "schedule",
    entries: [
      { secondOfDay: 0, value: 40 },
      { secondOfDay: 8 * 3600, value: 5 },
      { secondOfDay: 20 * 3600, value: 40 },
    ],
  });
  assert.deepEqual(parseSignalSpec("schedule:20:00=40,tz=UTC,8:30:15=-5"), {
    kind: "schedule",
    entries: [
      { secondOfDay: 8 * 3600 + 30 * 60 + 15, value: -5 },
      { secondOfDay: 20 * 3600, value: 40 },
    ],
    tz: "UTC",
  });
  const paris = parseSignalSpec("schedule:tz=Europe/Paris,23:59:59=1");
  assert.deepEqual(paris, {
    kind: "schedule",
    entries: [{ secondOfDay: 86399, value: 1 }],
    tz: "Europe/Paris",
  });
});

Deno.test("module: parses a path and an export name that defaults to default", () => {
  assert.deepEqual(parseSignalSpec("module:./plugins/queue.ts#depth"), {
    kind: "module",
    path: "./plugins/queue.ts",
    exportName: "depth",
  });
  assert.deepEqual(parseSignalSpec("module:/abs/gen.ts"), {
    kind: "module",
    path: "/abs/gen.ts",
    exportName: "default",
  });
});

Deno.test("malformed specs are refused with a one-line message naming the problem", () => {
  const cases: [string, string][] = [
    ["", `empty signal spec ${KINDS}`],
    ["   ", `empty signal spec ${KINDS}`],
    ["foo:1", `unknown signal kind "foo:" ${KINDS}`],
    ["ftp://h/x", `unknown signal kind "ftp:" ${KINDS}`],
    ["12abc", `unknown signal kind "12abc" ${KINDS}`],
    ["1e999", "number out of range: 1e999"],
    ["cmd:", "cmd: empty command"],
    ["cmd:   ", "cmd: empty command"],
    ["file:", "file: empty path"],
    ["http://", "http: not a valid URL: http://"],
    ["http://h/x#queue", `http: the fragment must be a JSON pointer starting with /, got "#queue"`],
    ["http://h/x#/%E0%A4%A", `http: bad percent-encoding in fragment "#/%E0%A4%A"`],
    ["sine:min=0,max=40", `sine: missing "period"`],
    ["sine:period=600,max=40", `sine: missing "min"`],
    ["sine:period=-1,min=0,max=40", "sine: period must be > 0, got -1"],
    ["sine:period=0,min=0,max=40", "sine: period must be > 0, got 0"],
    ["sine:period=60,min=5,max=1", "sine: max (1) is below min (5)"],
    [
      "sine:period=60,min=0,max=1,amp=2",
      `sine: unknown key "amp" (expected period, min, max, phase)`,
    ],
    ["sine:period=60,period=30,min=0,max=1", `sine: "period" given twice`],
    ["sine:period=ten,min=0,max=1", `sine: period must be a number, got "ten"`],
    ["sine:period,min=0,max=1", `sine: period must be a number, got ""`],
    ["sine:period=60,min=0,max=Infinity", `sine: max must be a number, got "Infinity"`],
    ["square:period=60,high=1", `square: missing "low"`],
    ["square:period=60,low=0,high=x", `square: high must be a number, got "x"`],
    ["square:period=60,low=0,high=1,duty=1", "square: duty must be between 0 and 1, got 1"],
    ["square:period=60,low=0,high=1,duty=0", "square: duty must be between 0 and 1, got 0"],
    ["square:period=-5,low=0,high=1", "square: period must be > 0, got -5"],
    ["schedule:", "schedule: no HH:MM=VALUE entries"],
    ["schedule:tz=UTC", "schedule: no HH:MM=VALUE entries"],
    ["schedule:25:00=3", `schedule: bad time "25:00" (expected HH:MM or HH:MM:SS)`],
    ["schedule:08:60=3", `schedule: bad time "08:60" (expected HH:MM or HH:MM:SS)`],
    ["schedule:08:00:60=3", `schedule: bad time "08:00:60" (expected HH:MM or HH:MM:SS)`],
    ["schedule:noon=3", `schedule: bad time "noon" (expected HH:MM or HH:MM:SS)`],
    ["schedule:08:00", `schedule: expected HH:MM=VALUE, got "08:00"`],
    ["schedule:08:00=lots", `schedule: value at 08:00 must be a number, got "lots"`],
    ["schedule:08:00=", `schedule: value at 08:00 must be a number, got ""`],
    ["schedule:08:00=1,8:00=2", "schedule: time 8:00 given twice"],
    ["schedule:tz=Mars/Olympus,08:00=1", `schedule: unknown time zone "Mars/Olympus"`],
    ["schedule:tz=,08:00=1", `schedule: unknown time zone ""`],
    ["schedule:tz=UTC,tz=UTC,08:00=1", `schedule: "tz" given twice`],
    ["tasks:done", `tasks: expected tasks:running or tasks:pending, got "tasks:done"`],
    ["tasks:", `tasks: expected tasks:running or tasks:pending, got "tasks:"`],
    ["module:", "module: empty path"],
    ["module:#gen", "module: empty path"],
    ["module:./m.ts#bad-name", `module: bad export name "bad-name"`],
    ["module:./m.ts#", `module: bad export name ""`],
  ];
  for (const [spec, message] of cases) assert.equal(specError(spec), message, spec);
});
