import assert from "node:assert/strict";
import { EventBus } from "../lib/events.ts";
import { startWebServer } from "../lib/web/server.ts";

async function server() {
  const bus = new EventBus();
  const logged: string[] = [];
  const web = await startWebServer({
    listen: "127.0.0.1:0",
    bus,
    control: { paused: false },
    historyPoints: 100,
    log: (_level, msg) => logged.push(msg),
    state: () => ({ startedAt: 0, executor: "local", dryRun: false, options: {} }),
  });
  return { bus, logged, web, port: Number(new URL(web.url).port) };
}

/** `n` clients that ask for /events and never read. */
async function deafClients(port: number, n: number): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < n; i++) {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(
      new TextEncoder().encode(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
    );
    conns.push(c);
  }
  await new Promise((r) => setTimeout(r, 200));
  return conns;
}

async function flood(bus: EventBus, messages: number): Promise<void> {
  const big = "x".repeat(2000);
  for (let k = 0; k < messages; k++) {
    bus.emit({ type: "warning", at: Date.now(), message: big });
    if (k % 100 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => setTimeout(r, 300));
}

Deno.test("300 event-stream clients that never read: dropped early, memory bounded and reused", async () => {
  const { bus, logged, web, port } = await server();
  try {
    const rss0 = Deno.memoryUsage().rss;
    const rounds: number[] = [];
    for (let round = 0; round < 2; round++) {
      const conns = await deafClients(port, 300);
      await flood(bus, 2000); // 4 MB of events
      const drops = logged.filter((m) => m === "web: dropped a slow event-stream client").length;
      assert.equal(drops, 300 * (round + 1), "every deaf client was dropped");
      assert.ok(Deno.memoryUsage().external < 30e6, "queued bytes are shared, not copied");
      for (const c of conns) c.close();
      await new Promise((r) => setTimeout(r, 300));
      rounds.push(Deno.memoryUsage().rss);
    }
    const first = (rounds[0] - rss0) / 1e6;
    const second = (rounds[1] - rounds[0]) / 1e6;
    assert.ok(first < 100, `300 deaf clients cost ${first.toFixed(0)} MB`);
    assert.ok(second < 25, `a second round added ${second.toFixed(0)} MB: memory not reused`);
  } finally {
    await web.close();
  }
});

Deno.test("clients share each broadcast's bytes and still each get every message", async () => {
  const { bus, web } = await server();
  try {
    const readers = await Promise.all([0, 1].map(async () => {
      const res = await fetch(`${web.url}events`);
      return res.body!.pipeThrough(new TextDecoderStream()).getReader();
    }));
    for (let i = 0; i < 5; i++) bus.emit({ type: "warning", at: i, message: `m${i}` });
    const texts = await Promise.all(readers.map(async (r) => {
      let text = "";
      while (!text.includes("m4")) text += (await r.read()).value;
      await r.cancel();
      return text.replace(/^event: hello[\s\S]*?\n\n/, "");
    }));
    assert.equal(texts[0], texts[1]);
    for (let i = 0; i < 5; i++) assert.ok(texts[0].includes(`"message":"m${i}"`));
  } finally {
    await web.close();
  }
});
