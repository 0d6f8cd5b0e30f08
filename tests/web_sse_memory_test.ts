import assert from "node:assert/strict";
import { eventServer as server } from "./support/memory_scenarios.ts";
import { inOwnProcess } from "./support/own_process.ts";

Deno.test("300 event-stream clients that never read: dropped early, memory bounded and reused", async () => {
  // In a process of its own: under --parallel every test file shares this one's memory.
  const { result } = await inOwnProcess<{
    drops: number[];
    externalMb: number[];
    roundsMb: number[];
  }>(new URL("./support/memory_scenarios.ts", import.meta.url), "deafEventClients", [300]);
  assert.deepEqual(result.drops, [300, 600], "every deaf client was dropped");
  for (const mb of result.externalMb) assert.ok(mb < 30, "queued bytes are shared, not copied");
  const [first, second] = [result.roundsMb[0], result.roundsMb[1] - result.roundsMb[0]];
  assert.ok(first < 100, `300 deaf clients cost ${first.toFixed(0)} MB`);
  assert.ok(second < 25, `a second round added ${second.toFixed(0)} MB: memory not reused`);
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
