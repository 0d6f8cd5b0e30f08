import assert from "node:assert/strict";
import { createSignal, MODULE_MAX_BYTES, readWithTimeout } from "../lib/signals/sources.ts";
import { inOwnProcess } from "./support/own_process.ts";

const CTX = { now: 0, tasks: { running: 0, pending: 0 } };
const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

const READ_ONCE = new URL("./support/read_once.ts", import.meta.url);

/**
 * Reads `spec` once with `timeoutMs` in a process of its own: the error message (or the value),
 * how long it took, and how much that process's memory grew (a read that ignored the timeout
 * has 300 ms more to grow).
 */
async function readOnce(spec: string, timeoutMs: number, maxBytes?: number) {
  const r = await inOwnProcess<{ outcome: string | number; ms: number }>(READ_ONCE, "readOnce", [
    spec,
    timeoutMs,
    ...(maxBytes === undefined ? [] : [maxBytes]),
  ]);
  return { ...r.result, grewMb: r.grewMb };
}

test("file:/dev/zero is refused past --signal-max-bytes, memory stays flat", async () => {
  const r = await readOnce("file:/dev/zero", 200);
  assert.match(String(r.outcome), /more than 65536 bytes \(--signal-max-bytes\)/);
  assert.ok(r.grewMb < 40, `RSS grew ${r.grewMb} MB`);
});

test("file: a regular file larger than the cap is read from its end", async () => {
  const path = await Deno.makeTempFile();
  try {
    const f = await Deno.open(path, { write: true });
    const junk = new TextEncoder().encode("x".repeat(1023) + "\n");
    for (let i = 0; i < 8 * 1024; i++) await f.write(junk); // 8 MB
    await f.write(new TextEncoder().encode("41.5\n"));
    f.close();
    const r = await readOnce(`file:${path}`, 2000);
    assert.equal(r.outcome, 41.5);
    assert.ok(r.grewMb < 40, `RSS grew ${r.grewMb} MB`);
  } finally {
    await Deno.remove(path);
  }
});

test("cmd: output flooding past the cap kills the command and is a missing sample", async () => {
  const r = await readOnce("cmd:yes 1", 5000);
  assert.equal(r.outcome, "output over 65536 bytes (--signal-max-bytes): killed");
  assert.ok(r.ms < 3000, `took ${r.ms} ms`);
  assert.ok(r.grewMb < 40, `RSS grew ${r.grewMb} MB`);
  // A smaller cap applies as given; output within it still reads.
  assert.equal((await readOnce("cmd:echo 12345", 1000, 64)).outcome, 12345);
  assert.match(String((await readOnce("cmd:seq 1 100", 1000, 64)).outcome), /over 64 bytes/);
});

test("cmd: a failing command's stderr flood keeps only its last line", async () => {
  const r = await readOnce(
    "cmd:head -c 20000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo last words >&2; exit 3",
    5000,
  );
  assert.equal(r.outcome, "exit code 3: last words");
  assert.ok(r.grewMb < 60, `RSS grew ${r.grewMb} MB`);
});

test("http: an endless body is cut at the cap; the read really stops", async () => {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(49);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    new Response(
      new ReadableStream({
        pull(c) {
          sent += chunk.byteLength;
          c.enqueue(chunk);
        },
      }),
    ));
  try {
    const r = await readOnce(`http://127.0.0.1:${server.addr.port}/`, 2000);
    assert.equal(r.outcome, "body over 65536 bytes (--signal-max-bytes)");
    const after = sent;
    await new Promise((res) => setTimeout(res, 300));
    assert.ok(sent - after < 8 * 1024 * 1024, `server still sending: ${sent - after} bytes`);
    assert.ok(r.grewMb < 40, `RSS grew ${r.grewMb} MB`);
  } finally {
    await server.shutdown();
  }
});

test("module: a file that is not a regular file, or too large, is never imported", async () => {
  const r = await readOnce("module:/dev/zero#x", 2000);
  assert.equal(r.outcome, "module /dev/zero: cannot load: not a regular file");
  assert.ok(r.grewMb < 40, `RSS grew ${r.grewMb} MB`);
  const path = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(path, "// " + "x".repeat(MODULE_MAX_BYTES) + "\n");
    const big = await readOnce(`module:${path}#x`, 2000);
    assert.match(String(big.outcome), /more than the 4194304 allowed/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a module: signal is said at start to run in Relay's own thread", async () => {
  const { main } = await import("../main.ts");
  const fixture = new URL("./fixtures/signals/generators.ts", import.meta.url).pathname;
  const out: string[] = [];
  const code = await main(
    [
      "--metric",
      `module:${fixture}#rising`,
      "--target",
      "1",
      "--warmer",
      "true",
      "--max-ticks",
      "1",
    ],
    new AbortController().signal,
    { out: (l) => out.push(l), err: (l) => out.push(l) },
    { PATH: Deno.env.get("PATH") },
  );
  assert.equal(code, 0);
  assert.match(
    out.join("\n"),
    /warn +--metric module:.*: a module: signal runs in relay\.mesos's own thread; --signal-timeout gives up waiting for it, but a generator that computes without yielding stops the loop/,
  );
});

test("file: a FIFO without a writer blocks one read at most, later ones fail at once", async () => {
  const dir = await Deno.makeTempDir();
  const fifo = `${dir}/fifo`;
  await new Deno.Command("mkfifo", { args: [fifo] }).output();
  const signal = createSignal(`file:${fifo}`);
  try {
    await assert.rejects(readWithTimeout(signal, CTX, 200), { message: "timed out after 0.2 s" });
    const started = performance.now();
    await assert.rejects(readWithTimeout(signal, CTX, 2000), {
      message: `${fifo}: the previous read has not finished (a FIFO without a writer?)`,
    });
    assert.ok(performance.now() - started < 100);
  } finally {
    // A writer frees the blocked open.
    const w = await Deno.open(fifo, { write: true });
    w.close();
    await new Promise((r) => setTimeout(r, 100));
    await Deno.remove(dir, { recursive: true });
  }
});
