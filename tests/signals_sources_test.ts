import assert from "node:assert/strict";
import { relative } from "node:path";
import { createSignal, readWithTimeout, resolvePointer } from "../lib/signals/sources.ts";
import { type ReadContext, type Signal, SignalReadError } from "../lib/signals/types.ts";
import { trackedCloses } from "./fixtures/signals/generators.ts";

/**
 * `Deno.test` with the ops sanitizer on (it is off by default in this Deno): a leaked timer,
 * an unfinished fetch or an unawaited child process fails the test that leaked it.
 */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, sanitizeOps: true, sanitizeResources: true, fn });
}

const CTX = { now: Date.UTC(2026, 10, 28, 12, 0, 0), tasks: { running: 3, pending: 2 } };
const FIXTURE = new URL("./fixtures/signals/generators.ts", import.meta.url).pathname;

function read(spec: string, timeoutMs = 2000, ctx = CTX): Promise<number> {
  return readWithTimeout(createSignal(spec), ctx, timeoutMs);
}

/**
 * True while the process exists and is not a zombie (a zombie has already been killed). Reads
 * /proc through `cat`, since Deno only lets a fully privileged process read /proc/<pid>.
 */
async function alive(pid: number): Promise<boolean> {
  const out = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) return false;
  const stat = new TextDecoder().decode(out.stdout);
  assert.match(stat, /^\d+ \(/, "a /proc stat line");
  return !/^\d+ \(.*\) Z/.test(stat);
}

/** Waits up to `ms` for `pid` to be gone; returns whether it went. */
async function gone(pid: number, ms = 1000): Promise<boolean> {
  const until = Date.now() + ms;
  while (await alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

test("the liveness probe used below sees a running process and not a killed one", async () => {
  const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
  assert.equal(await alive(child.pid), true);
  child.kill("SIGKILL");
  await child.status;
  assert.equal(await alive(child.pid), false);
});

async function readPid(path: string): Promise<number> {
  const pid = Number((await Deno.readTextFile(path)).trim());
  assert.ok(Number.isInteger(pid) && pid > 1, `pid file holds "${pid}"`);
  return pid;
}

// ---- pure sources -------------------------------------------------------------------------

test("createSignal keeps the spec and refuses a bad one with SignalSpecError", () => {
  assert.equal(createSignal("cmd:echo 1").spec, "cmd:echo 1");
  assert.throws(() => createSignal("sine:min=0,max=1"), {
    name: "SignalSpecError",
    message: `sine: missing "period"`,
  });
});

test("constant, waveform and schedule signals read from ctx.now without I/O", async () => {
  assert.equal(await read("-3.5"), -3.5);
  assert.equal(await read("sine:period=60,min=0,max=10", 2000, { ...CTX, now: 15_000 }), 10);
  assert.equal(await read("square:period=60,low=1,high=4", 2000, { ...CTX, now: 31_000 }), 1);
  const at = (h: number) => ({ ...CTX, now: Date.UTC(2026, 0, 1, h) });
  assert.equal(await read("schedule:tz=UTC,08:00=5,20:00=40", 2000, at(3)), 40);
  assert.equal(await read("schedule:tz=UTC,08:00=5,20:00=40", 2000, at(9)), 5);
});

test("tasks:running and tasks:pending read the task counts from the context", async () => {
  assert.equal(await read("tasks:running"), 3);
  assert.equal(await read("tasks:pending"), 2);
  const none = { ...CTX, tasks: { running: 0, pending: 0 } };
  assert.equal(await read("tasks:running", 2000, none), 0);
});

// ---- cmd: ---------------------------------------------------------------------------------

test("cmd: the value is the last non-empty line of stdout", async () => {
  assert.equal(await read("cmd:echo starting; echo 12.5; echo; echo '  '"), 12.5);
  assert.equal(await read("cmd:printf 7"), 7);
  assert.equal(await read("cmd:echo noise >&2; echo 3"), 3);
});

test("cmd: a non-zero exit is an error naming the code and the end of stderr", async () => {
  await assert.rejects(read("cmd:echo first >&2; echo 'disk full' >&2; exit 3"), {
    name: "SignalReadError",
    message: "exit code 3: disk full",
  });
  await assert.rejects(read("cmd:echo 5; exit 1"), { message: "exit code 1" });
  await assert.rejects(read(`cmd:printf '%0200d' 0 >&2; exit 2`), (err: Error) => {
    assert.ok(err.message.startsWith("exit code 2: 000"));
    assert.ok(err.message.length < 100, "stderr tail is shortened");
    return true;
  });
  await assert.rejects(read("cmd:kill -9 $$"), { message: "killed by SIGKILL" });
});

test("cmd: garbage or empty output is a bad sample", async () => {
  await assert.rejects(read("cmd:echo twelve"), {
    name: "SignalReadError",
    message: `not a number: "twelve"`,
  });
  await assert.rejects(read("cmd:echo 12abc"), { message: `not a number: "12abc"` });
  await assert.rejects(read("cmd:true"), { message: `not a number: ""` });
});

test("cmd: a hanging command times out quickly and the process is killed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const started = Date.now();
    await assert.rejects(read(`cmd:echo $$ > ${dir}/pid; exec sleep 10`, 300), {
      name: "SignalReadError",
      message: "timed out after 0.3 s",
    });
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    const pid = await readPid(`${dir}/pid`);
    assert.ok(await gone(pid), `sleep (pid ${pid}) is still running`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("cmd: on timeout, background children of the shell are killed too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      read(`cmd:echo $$ > ${dir}/sh; sleep 10 & echo $! > ${dir}/bg; wait`, 300),
      { message: "timed out after 0.3 s" },
    );
    const sh = await readPid(`${dir}/sh`);
    const bg = await readPid(`${dir}/bg`);
    assert.ok(await gone(sh), `shell (pid ${sh}) is still running`);
    assert.ok(await gone(bg), `background sleep (pid ${bg}) is still running`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("cmd: aborting the outer signal kills the command and rejects with aborted", async () => {
  const dir = await Deno.makeTempDir();
  const outer = new AbortController();
  try {
    const reading = readWithTimeout(
      createSignal(`cmd:echo $$ > ${dir}/pid; exec sleep 10`),
      CTX,
      5000,
      outer.signal,
    );
    // Wait until the command has started, then stop the loop.
    while (!(await Deno.stat(`${dir}/pid`).then((s) => s.size > 0, () => false))) {
      await new Promise((r) => setTimeout(r, 10));
    }
    outer.abort();
    await assert.rejects(reading, { name: "SignalReadError", message: "aborted" });
    const pid = await readPid(`${dir}/pid`);
    assert.ok(await gone(pid), `sleep (pid ${pid}) is still running`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("cmd: an already-aborted read does not start the command", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const signal = createSignal(`cmd:touch ${dir}/ran; echo 1`);
    await assert.rejects(signal.read({ ...CTX, signal: AbortSignal.abort() }), {
      message: "aborted",
    });
    await assert.rejects(Deno.stat(`${dir}/ran`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- file: --------------------------------------------------------------------------------

test("file: is read on every tick, so a change shows up on the next read", async () => {
  const path = await Deno.makeTempFile();
  try {
    const signal = createSignal(`file:${path}`);
    await Deno.writeTextFile(path, "4\n");
    assert.equal(await readWithTimeout(signal, CTX, 1000), 4);
    await Deno.writeTextFile(path, "old\n9.25\n\n");
    assert.equal(await readWithTimeout(signal, CTX, 1000), 9.25);
    await Deno.writeTextFile(path, "full");
    await assert.rejects(readWithTimeout(signal, CTX, 1000), { message: `not a number: "full"` });
    await Deno.writeTextFile(path, "");
    await assert.rejects(readWithTimeout(signal, CTX, 1000), { message: `not a number: ""` });
  } finally {
    await Deno.remove(path);
  }
});

test("file: a missing file or a directory is a read error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(read(`file:${dir}/absent`), {
      name: "SignalReadError",
      message: `file not found: ${dir}/absent`,
    });
    await assert.rejects(read(`file:${dir}`), (err: Error) => {
      assert.ok(err instanceof SignalReadError);
      assert.match(err.message, new RegExp(`^cannot read ${dir}: `));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- http(s): -----------------------------------------------------------------------------

test("http: number bodies, JSON pointers, HTTP errors, bad values and a hanging server", async () => {
  const seen: string[] = [];
  const release = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      seen.push(url.pathname + url.search + url.hash);
      switch (url.pathname) {
        case "/plain":
          return new Response(" 17\n");
        case "/json":
          return Response.json({
            queue: { depth: 5, "a/b": [1, "2.5"], "c~d": -1, "in flight": 8 },
            text: "lots",
            flag: true,
            nothing: null,
          });
        case "/down":
          return new Response("maintenance", { status: 503 });
        case "/words":
          return new Response("twelve");
        case "/hang":
          // Holds the request until the test ends, long after the client gave up.
          await new Promise((r) => release.signal.addEventListener("abort", r, { once: true }));
          return new Response("1");
        default:
          return new Response("no such page", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    assert.equal(await read(`${base}/plain`), 17);
    assert.equal(await read(`${base}/json#/queue/depth`), 5);
    assert.equal(await read(`${base}/json#/queue/a~1b/1`), 2.5, "~1 is / and a numeric string");
    assert.equal(await read(`${base}/json#/queue/c~0d`), -1, "~0 is ~");
    assert.equal(await read(`${base}/json#/queue/in%20flight`), 8, "percent-decoded fragment");
    assert.ok(seen.every((s) => !s.includes("#") && !s.includes("queue")), "fragment not sent");

    await assert.rejects(read(`${base}/down`), { name: "SignalReadError", message: "HTTP 503" });
    await assert.rejects(read(`${base}/nope#/x`), { message: "HTTP 404" });
    await assert.rejects(read(`${base}/words`), { message: `not a number: "twelve"` });
    await assert.rejects(read(`${base}/json`), /^SignalReadError: not a number: "\{/);
    await assert.rejects(read(`${base}/json#/text`), { message: `not a number: "lots"` });
    await assert.rejects(read(`${base}/json#/flag`), { message: "/flag: not a number: true" });
    await assert.rejects(read(`${base}/json#/nothing`), {
      message: "/nothing: not a number: null",
    });
    await assert.rejects(read(`${base}/json#/queue`), /\/queue: not a number: \{"depth":5/);
    await assert.rejects(read(`${base}/json#/queue/missing`), {
      message: `JSON pointer /queue/missing: nothing at "missing"`,
    });
    await assert.rejects(read(`${base}/words#/x`), {
      message: "body is not JSON (the URL has #/x)",
    });

    const started = Date.now();
    await assert.rejects(read(`${base}/hang`, 250), {
      name: "SignalReadError",
      message: "timed out after 0.25 s",
    });
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  } finally {
    release.abort();
    await server.shutdown();
  }
  // Nothing listens there any more.
  await assert.rejects(read(`${base}/plain`), /^SignalReadError: GET failed: /);
});

test("resolvePointer follows RFC 6901: escapes, array indexes, whole document", () => {
  const doc = { "a/b": { "c~d": [10, 20] }, "": 1, list: [0, 1], obj: {} };
  assert.equal(resolvePointer(doc, "/a~1b/c~0d/1"), 20);
  assert.equal(resolvePointer(doc, "/"), 1, "the empty key");
  assert.equal(resolvePointer(doc, ""), doc);
  assert.equal(resolvePointer({ "~01": 7 }, "/~001"), 7, "~01 unescapes to ~1, not to /");
  for (const bad of ["/list/2", "/list/01", "/list/-", "/obj/toString", "/obj/constructor"]) {
    assert.throws(() => resolvePointer(doc, bad), SignalReadError, bad);
  }
  assert.throws(() => resolvePointer(doc, "list"), { message: /must start with \// });
});

// ---- module: ------------------------------------------------------------------------------

test("module: async and sync generators, named and default exports, read lazily", async () => {
  const rising = createSignal(`module:${FIXTURE}#rising`);
  for (const v of [1, 2, 3]) assert.equal(await readWithTimeout(rising, CTX, 2000), v);
  await rising.close?.();
  // The default export yields numeric strings (" 7.5 ").
  assert.equal(await read(`module:${FIXTURE}`), 7.5);
  // Each signal calls the generator function once, for its own generator.
  const a = createSignal(`module:${FIXTURE}#countdown`);
  const b = createSignal(`module:${FIXTURE}#countdown`);
  assert.equal(await readWithTimeout(a, CTX, 2000), 3);
  assert.equal(await readWithTimeout(a, CTX, 2000), 2);
  assert.equal(await readWithTimeout(b, CTX, 2000), 3);
});

test("module: a relative path is resolved against the working directory", async () => {
  const rel = relative(Deno.cwd(), FIXTURE);
  assert.ok(!rel.startsWith("/"));
  assert.equal(await read(`module:${rel}#countdown`), 3);
  assert.equal(await read(`module:./${rel}#countdown`), 3);
});

test("module: a finished generator is an error on every later read", async () => {
  const signal = createSignal(`module:${FIXTURE}#countdown`);
  for (const v of [3, 2, 1]) assert.equal(await readWithTimeout(signal, CTX, 2000), v);
  for (let i = 0; i < 2; i++) {
    await assert.rejects(readWithTimeout(signal, CTX, 2000), {
      name: "SignalReadError",
      message: `module ${FIXTURE}#countdown: generator finished`,
    });
  }
});

test("module: garbage values, throwing generators and bad exports are read errors", async () => {
  const garbage = createSignal(`module:${FIXTURE}#garbage`);
  await assert.rejects(readWithTimeout(garbage, CTX, 2000), { message: `not a number: "lots"` });
  await assert.rejects(readWithTimeout(garbage, CTX, 2000), {
    message: `module ${FIXTURE}#garbage: not a number: {"depth":3}`,
  });
  const flaky = createSignal(`module:${FIXTURE}#flaky`);
  assert.equal(await readWithTimeout(flaky, CTX, 2000), 1);
  await assert.rejects(readWithTimeout(flaky, CTX, 2000), {
    name: "SignalReadError",
    message: `module ${FIXTURE}#flaky: generator threw: sensor offline`,
  });
  await assert.rejects(read(`module:${FIXTURE}#plain`), {
    message: `module ${FIXTURE}#plain: not a generator function`,
  });
  await assert.rejects(read(`module:${FIXTURE}#notAFunction`), {
    message: `module ${FIXTURE}: no function export "notAFunction"`,
  });
  await assert.rejects(read(`module:${FIXTURE}#absent`), {
    message: `module ${FIXTURE}: no function export "absent"`,
  });
  await assert.rejects(read("module:./no/such/plugin.ts"), {
    name: "SignalReadError",
    message: /^module \.\/no\/such\/plugin\.ts: cannot load: /,
  });
});

test("module: close() ends the generator (its finally runs) and later reads fail", async () => {
  const before = trackedCloses.length;
  const signal = createSignal(`module:${FIXTURE}#tracked`);
  await signal.close?.(); // Never read: nothing to close, nothing loaded.
  assert.equal(trackedCloses.length, before);
  const reused = createSignal(`module:${FIXTURE}#tracked`);
  assert.equal(await readWithTimeout(reused, CTX, 2000), 1);
  await reused.close?.();
  assert.equal(trackedCloses.length, before + 1);
  await assert.rejects(readWithTimeout(reused, CTX, 2000), {
    message: `module ${FIXTURE}#tracked: closed`,
  });
});

test("module: a generator that never yields times out, and close() does not hang", async () => {
  const signal = createSignal(`module:${FIXTURE}#stuck`);
  await assert.rejects(readWithTimeout(signal, CTX, 200), { message: "timed out after 0.2 s" });
  await signal.close?.();
});

// ---- readWithTimeout ----------------------------------------------------------------------

/** A hand-made source that never settles and does not listen to the abort. */
function deafSource(seen: ReadContext[]): Signal {
  return {
    spec: "deaf",
    read(ctx) {
      seen.push(ctx);
      return new Promise<number>(() => {});
    },
  };
}

test("readWithTimeout rejects on time even if the source ignores the abort", async () => {
  const seen: ReadContext[] = [];
  const started = Date.now();
  await assert.rejects(readWithTimeout(deafSource(seen), CTX, 200), {
    name: "SignalReadError",
    message: "timed out after 0.2 s",
  });
  assert.ok(Date.now() - started < 1000);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].signal.aborted, true, "the source's signal was aborted");
  assert.equal(seen[0].now, CTX.now);
  assert.deepEqual(seen[0].tasks, CTX.tasks);
});

test("readWithTimeout: the outer signal stops a read at once, or before it starts", async () => {
  const seen: ReadContext[] = [];
  const outer = new AbortController();
  const reading = readWithTimeout(deafSource(seen), CTX, 60_000, outer.signal);
  await Promise.resolve();
  outer.abort();
  await assert.rejects(reading, { name: "SignalReadError", message: "aborted" });
  assert.equal(seen[0].signal.aborted, true);
  await assert.rejects(readWithTimeout(deafSource(seen), CTX, 60_000, outer.signal), {
    message: "aborted",
  });
  assert.equal(seen.length, 1, "an already-aborted read never reaches the source");
});

test("readWithTimeout: a fast read leaves no timer behind (sanitizers) and no listener", async () => {
  const outer = new AbortController();
  const added: string[] = [];
  const removed: string[] = [];
  const add = outer.signal.addEventListener.bind(outer.signal);
  const remove = outer.signal.removeEventListener.bind(outer.signal);
  outer.signal.addEventListener = (type: string, ...rest: [never, never?]) => {
    added.push(type);
    add(type, ...rest);
  };
  outer.signal.removeEventListener = (type: string, ...rest: [never, never?]) => {
    removed.push(type);
    remove(type, ...rest);
  };
  assert.equal(await readWithTimeout(createSignal("5"), CTX, 60_000, outer.signal), 5);
  assert.deepEqual(added, ["abort"]);
  assert.deepEqual(removed, ["abort"]);
});

test("readWithTimeout turns foreign errors and non-finite values into SignalReadError", async () => {
  const throwing: Signal = { spec: "x", read: () => Promise.reject(new TypeError("boom\nmore")) };
  await assert.rejects(readWithTimeout(throwing, CTX, 1000), {
    name: "SignalReadError",
    message: "boom",
  });
  const syncThrow: Signal = {
    spec: "x",
    read: () => {
      throw new Error("sync");
    },
  };
  await assert.rejects(readWithTimeout(syncThrow, CTX, 1000), { message: "sync" });
  const nan: Signal = { spec: "x", read: () => Promise.resolve(NaN) };
  await assert.rejects(readWithTimeout(nan, CTX, 1000), { message: "not a number: NaN" });
});

test("a cmd: signal runs with the environment it is given, nothing of Relay's own", async () => {
  Deno.env.set("RELAY_SOURCES_TEST_SECRET", "do-not-leak");
  try {
    const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", DEPTH: "7" };
    const signal = createSignal('cmd:echo "${RELAY_SOURCES_TEST_SECRET:-0}${DEPTH}"', { env });
    assert.equal(await readWithTimeout(signal, CTX, 2000), 7);
    // Without options: Relay's PATH alone.
    assert.equal(await read('cmd:echo "${RELAY_SOURCES_TEST_SECRET:-0}"'), 0);
  } finally {
    Deno.env.delete("RELAY_SOURCES_TEST_SECRET");
  }
});

test("a command not found or not executable, or a module that does not load, is a permanent failure", async () => {
  const permanent = async (spec: string) => {
    try {
      await read(spec);
    } catch (err) {
      assert.ok(err instanceof SignalReadError);
      return err.permanent;
    }
    throw new Error(`${spec} read`);
  };
  assert.equal(await permanent("cmd:no-such-command-relay-sources"), true);
  assert.equal(await permanent("cmd:/etc/hostname"), true, "exit 126: not executable");
  assert.equal(await permanent("cmd:exit 3"), false);
  assert.equal(await permanent(`module:${FIXTURE}#noSuchExport`), true);
  assert.equal(await permanent("module:./no/such/module.ts"), true);
  assert.equal(await permanent("file:/no/such/file"), false, "a file may appear later");
});
