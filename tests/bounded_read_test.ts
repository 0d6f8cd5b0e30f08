import assert from "node:assert/strict";
import { readBodyCapped, readSmallFileSync, readStreamCapped } from "../lib/bounded_read.ts";
import { clampHeartbeat } from "../lib/mesos/client.ts";
import { inOwnProcess } from "./support/own_process.ts";

const SCENARIOS = new URL("./support/memory_scenarios.ts", import.meta.url);

/** A loopback server answering `status` with an endless body; counts what it sent. */
function endless(status: number) {
  const sent = { bytes: 0 };
  const chunk = new Uint8Array(64 * 1024).fill(120);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    new Response(
      new ReadableStream({
        pull(c) {
          sent.bytes += chunk.byteLength;
          c.enqueue(chunk);
        },
      }),
      { status },
    ));
  return { server, sent, url: `http://127.0.0.1:${server.addr.port}/` };
}

Deno.test("an error answer with an endless body: 4 KiB read, the rest never fetched", async () => {
  const { server, sent, url } = endless(503);
  try {
    const res = await fetch(url);
    const text = await readBodyCapped(res, 4096);
    assert.equal(text.length, 4096);
    const after = sent.bytes;
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(sent.bytes - after < 8 * 1024 * 1024, "the server stopped sending");
  } finally {
    await server.shutdown();
  }
});

Deno.test("readStreamCapped keeps the head or the tail, never more than the cap", async () => {
  const stream = () =>
    ReadableStream.from([1, 2, 3, 4, 5].map((n) => new Uint8Array(1000).fill(n)));
  const head = await readStreamCapped(stream(), 1500, "head");
  assert.equal(head.bytes.length, 1500);
  assert.equal(head.bytes[1499], 2);
  assert.ok(head.dropped > 0);
  const tail = await readStreamCapped(stream(), 1500, "tail");
  assert.equal(tail.bytes.length, 1500);
  assert.equal(tail.bytes[0], 4);
  assert.equal(tail.bytes[1499], 5);
  assert.equal(tail.dropped, 3500);
});

Deno.test("small files: a device or a file over the cap is refused before it is read", () => {
  assert.throws(() => readSmallFileSync("/dev/zero", 1024), /not a regular file/);
  const path = Deno.makeTempFileSync();
  try {
    Deno.writeTextFileSync(path, "x".repeat(2000));
    assert.throws(() => readSmallFileSync(path, 1024), /2000 bytes, more than the 1024 allowed/);
    assert.equal(readSmallFileSync(path, 4096).length, 2000);
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("--config /dev/zero and --env-file /dev/zero: exit 2 at once, memory flat", async () => {
  for (const flag of ["--config", "--env-file", "--web-token-file"]) {
    const { result, grewMb } = await inOwnProcess<{ code: number; err: string[] }>(
      SCENARIOS,
      "mainWithDevZero",
      [flag],
    );
    assert.equal(result.code, 2, flag);
    assert.match(result.err.join("\n"), new RegExp(`${flag}.*not a regular file`));
    assert.ok(grewMb < 20, `${flag}: RSS grew ${grewMb.toFixed(1)} MB`);
  }
});

Deno.test("a master's heartbeat interval is believed up to an hour", () => {
  assert.equal(clampHeartbeat(15), 15);
  assert.equal(clampHeartbeat(undefined), 15);
  assert.equal(clampHeartbeat(1e12), 3600);
  assert.equal(clampHeartbeat(-1), 15);
  assert.equal(clampHeartbeat(NaN), 15);
});
