import assert from "node:assert/strict";
import { lastNonEmptyLine, parseSample } from "../lib/signals/number.ts";
import { createSignal, readWithTimeout, resolvePointer } from "../lib/signals/sources.ts";
import { parseSignalSpec } from "../lib/signals/spec.ts";
import { SignalSpecError } from "../lib/signals/types.ts";
import { scheduleAt, sineAt, squareAt } from "../lib/signals/waveforms.ts";

const CTX = { now: Date.UTC(2026, 10, 28, 12, 0, 0), tasks: { running: 3, pending: 2 } };

function read(spec: string, timeoutMs = 2000, now = CTX.now) {
  return readWithTimeout(createSignal(spec), { ...CTX, now }, timeoutMs);
}

Deno.test("sample text: finite decimal numbers only", () => {
  for (
    const [text, value] of [["42", 42], [" -3.5\n", -3.5], ["1e3", 1000], ["+.5", 0.5]] as const
  ) {
    assert.equal(parseSample(text), value);
  }
  for (const bad of ["", "NaN", "Infinity", "12abc", "0x10", "1,5", "1e999"]) {
    assert.throws(() => parseSample(bad), /not a number/, bad);
  }
  assert.equal(lastNonEmptyLine("a\nb\n\n  \n"), "b");
});

Deno.test("every spec kind parses", () => {
  assert.deepEqual(parseSignalSpec("-2.5"), { kind: "constant", value: -2.5 });
  assert.deepEqual(parseSignalSpec("cmd:echo 1"), { kind: "cmd", command: "echo 1" });
  assert.deepEqual(parseSignalSpec("file:/tmp/x"), { kind: "file", path: "/tmp/x" });
  assert.deepEqual(parseSignalSpec("http://h:9/s#/a~1b/0"), {
    kind: "http",
    url: "http://h:9/s",
    pointer: "/a~1b/0",
  });
  assert.deepEqual(parseSignalSpec("sine:period=600,min=0,max=40"), {
    kind: "sine",
    period: 600,
    min: 0,
    max: 40,
    phase: 0,
  });
  assert.equal(parseSignalSpec("square:period=60,low=1,high=4,duty=0.25").kind, "square");
  assert.deepEqual(parseSignalSpec("schedule:tz=UTC,20:00=40,08:00=5"), {
    kind: "schedule",
    entries: [{ secondOfDay: 8 * 3600, value: 5 }, { secondOfDay: 20 * 3600, value: 40 }],
    tz: "UTC",
  });
  assert.deepEqual(parseSignalSpec("tasks:pending"), { kind: "tasks", state: "pending" });
  assert.deepEqual(parseSignalSpec("module:./m.ts#rise"), {
    kind: "module",
    path: "./m.ts",
    exportName: "rise",
  });
  assert.equal(parseSignalSpec("module:./m.ts").kind, "module");
});

Deno.test("bad specs are refused with a message that says what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["", /empty signal spec/],
    ["foo:1", /unknown signal kind "foo:"/],
    ["12abc", /unknown signal kind/],
    ["cmd:  ", /cmd: empty command/],
    ["sine:min=0,max=1", /sine: missing "period"/],
    ["sine:period=-1,min=0,max=1", /sine: period must be > 0, got -1/],
    ["sine:period=5,min=3,max=1", /max \(1\) is below min \(3\)/],
    ["sine:period=5,min=0,max=1,colour=2", /unknown key "colour"/],
    ["sine:period=5,period=6,min=0,max=1", /"period" given twice/],
    ["square:period=5,low=0,high=x", /high must be a number, got "x"/],
    ["square:period=5,low=0,high=1,duty=1", /duty must be between 0 and 1/],
    ["schedule:25:00=3", /bad time "25:00"/],
    ["schedule:08:00=3,08:00=4", /given twice/],
    ["schedule:tz=Mars/Base,08:00=1", /unknown time zone "Mars\/Base"/],
    ["schedule:", /no HH:MM=VALUE entries/],
    ["tasks:done", /tasks:running or tasks:pending/],
    ["http://h/x#queue", /JSON pointer starting with \//],
    ["module:./m.ts#bad-name", /bad export name/],
  ];
  for (const [spec, pattern] of cases) {
    assert.throws(() => parseSignalSpec(spec), (err: unknown) => {
      assert.ok(err instanceof SignalSpecError, spec);
      assert.match(err.message, pattern, spec);
      return true;
    });
  }
});

Deno.test("waveforms at known instants", () => {
  const sine = { kind: "sine" as const, period: 60, min: 0, max: 10, phase: 0 };
  assert.equal(sineAt(sine, 0), 5);
  assert.ok(Math.abs(sineAt(sine, 15_000) - 10) < 1e-9);
  assert.ok(Math.abs(sineAt(sine, 45_000) - 0) < 1e-9);
  const square = { kind: "square" as const, period: 60, low: 1, high: 4, duty: 0.25, phase: 0 };
  assert.equal(squareAt(square, 10_000), 4);
  assert.equal(squareAt(square, 20_000), 1);
  assert.equal(squareAt(square, 70_000), 4);
});

Deno.test("schedule: latest entry at or before the time of day, wrapping past midnight", () => {
  const spec = parseSignalSpec("schedule:tz=UTC,08:00=5,20:00=40");
  if (spec.kind !== "schedule") throw new Error("not a schedule");
  const at = (h: number, m = 0) => scheduleAt(spec, Date.UTC(2026, 0, 1, h, m));
  assert.equal(at(7, 59), 40); // before the first entry: the last one still holds
  assert.equal(at(8), 5);
  assert.equal(at(19, 59), 5);
  assert.equal(at(20), 40);
  assert.equal(at(23, 59), 40);
  const paris = parseSignalSpec("schedule:tz=Europe/Paris,08:00=5,20:00=40");
  if (paris.kind !== "schedule") throw new Error("not a schedule");
  assert.equal(scheduleAt(paris, Date.UTC(2026, 0, 1, 7, 30)), 5); // 08:30 in Paris
});

Deno.test("constant, waveform and tasks signals read without I/O", async () => {
  assert.equal(await read("3"), 3);
  assert.equal(await read("tasks:running"), 3);
  assert.equal(await read("tasks:pending"), 2);
  assert.equal(await read("sine:period=60,min=0,max=10", 2000, 0), 5);
});

Deno.test("cmd: the last non-empty line; failures and garbage are missing samples", async () => {
  assert.equal(await read("cmd:echo first; echo 12.5; echo"), 12.5);
  await assert.rejects(read("cmd:echo oops >&2; exit 3"), /exit code 3: oops/);
  await assert.rejects(read("cmd:echo twelve"), /not a number: "twelve"/);
});

Deno.test("cmd: a hanging command times out and its processes are killed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const started = Date.now();
    await assert.rejects(
      read(`cmd:sleep 30 & echo $! > ${dir}/pid; wait`, 300),
      /timed out after 0.3 s/,
    );
    assert.ok(Date.now() - started < 3000);
    const pid = Number(Deno.readTextFileSync(`${dir}/pid`).trim());
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(alive(pid), false, `sleep ${pid} still running`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** True when the process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

Deno.test("file: read every tick; a missing file is a missing sample", async () => {
  const path = await Deno.makeTempFile();
  try {
    Deno.writeTextFileSync(path, "4\n");
    const signal = createSignal(`file:${path}`);
    assert.equal(await readWithTimeout(signal, CTX, 1000), 4);
    Deno.writeTextFileSync(path, "old\n9\n");
    assert.equal(await readWithTimeout(signal, CTX, 1000), 9);
  } finally {
    Deno.removeSync(path);
  }
  await assert.rejects(read(`file:${path}`), /file not found/);
});

Deno.test("http: number bodies, JSON pointers, errors and timeouts", async () => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/plain") return new Response("17\n");
      if (path === "/json") {
        return Response.json({ queue: { depth: 5, "a/b": [1, "2.5"] }, text: "x" });
      }
      if (path === "/down") return new Response("no", { status: 503 });
      if (path === "/slow") return new Promise<Response>(() => {});
      return new Response("not found", { status: 404 });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    assert.equal(await read(`${base}/plain`), 17);
    assert.equal(await read(`${base}/json#/queue/depth`), 5);
    assert.equal(await read(`${base}/json#/queue/a~1b/1`), 2.5);
    await assert.rejects(read(`${base}/json#/queue/missing`), /nothing at "missing"/);
    await assert.rejects(read(`${base}/json#/text`), /not a number/);
    await assert.rejects(read(`${base}/json`), /not a number/);
    await assert.rejects(read(`${base}/down`), /HTTP 503/);
    await assert.rejects(read(`${base}/slow`, 200), /timed out after 0.2 s/);
  } finally {
    ac.abort();
    await server.finished;
  }
});

Deno.test("JSON pointer escapes", () => {
  const doc = { "a/b": { "c~d": [10, 20] } };
  assert.equal(resolvePointer(doc, "/a~1b/c~0d/1"), 20);
  assert.equal(resolvePointer(doc, ""), doc);
});

Deno.test("module: generator plug-ins, sync and async, named and default", async () => {
  const path = new URL("./fixtures/generators.ts", import.meta.url).pathname;
  const rising = createSignal(`module:${path}#rising`);
  assert.equal(await readWithTimeout(rising, CTX, 2000), 1);
  assert.equal(await readWithTimeout(rising, CTX, 2000), 2);
  await rising.close?.();
  assert.equal(await read(`module:${path}`), 7.5);
  const three = createSignal(`module:${path}#threeThenDone`);
  for (const v of [1, 2, 3]) assert.equal(await readWithTimeout(three, CTX, 2000), v);
  await assert.rejects(readWithTimeout(three, CTX, 2000), /generator finished/);
  await assert.rejects(read(`module:${path}#garbage`), /not a number/);
  await assert.rejects(read(`module:${path}#notAFunction`), /no function export "notAFunction"/);
  await assert.rejects(read(`module:${path}#absent`), /no function export "absent"/);
  await assert.rejects(read("module:./no/such/module.ts"), /cannot load/);
});
