import assert from "node:assert/strict";
import {
  SseClient,
  type SseCloseReason,
  sseComment,
  sseFrame,
  sseResponse,
} from "../lib/web/sse.ts";

Deno.test("a message is framed as event, id, retry and data lines, then a blank line", () => {
  assert.equal(sseFrame({ data: "hello" }), "data: hello\n\n");
  assert.equal(
    sseFrame({ event: "tick", id: 7, retry: 2000, data: '{"a":1}' }),
    'event: tick\nid: 7\nretry: 2000\ndata: {"a":1}\n\n',
  );
  assert.equal(sseFrame({ event: "x", data: "" }), "event: x\ndata: \n\n");
});

Deno.test("multi-line data becomes one data line per line (LF, CRLF and CR)", () => {
  assert.equal(sseFrame({ data: "a\nb" }), "data: a\ndata: b\n\n");
  assert.equal(sseFrame({ data: "a\r\nb\rc\n" }), "data: a\ndata: b\ndata: c\ndata: \n\n");
});

Deno.test("event names and ids must be single lines; retry a non-negative integer", () => {
  assert.throws(() => sseFrame({ event: "a\nb", data: "" }), TypeError);
  assert.throws(() => sseFrame({ id: "1\r", data: "" }), TypeError);
  assert.throws(() => sseFrame({ id: "a\0b", data: "" }), TypeError);
  assert.throws(() => sseFrame({ retry: -1, data: "" }), TypeError);
  assert.throws(() => sseFrame({ retry: 1.5, data: "" }), TypeError);
});

Deno.test("comments start with a colon and are ignored by clients", () => {
  assert.equal(sseComment("keep-alive"), ": keep-alive\n\n");
  assert.equal(sseComment("a\nb"), ": a\n: b\n\n");
  assert.equal(sseComment(), ":\n\n");
});

Deno.test("a client's stream delivers what was sent, then ends on close", async () => {
  let reason: SseCloseReason | undefined;
  const client = new SseClient({ keepAliveMs: 0, onClose: (r) => (reason = r) });
  assert.ok(client.send({ event: "tick", data: "1" }));
  assert.ok(client.comment("note"));
  client.close();
  assert.equal(client.closed, true);
  assert.equal(reason, "closed");
  assert.equal(client.send({ data: "late" }), false);
  const text = await new Response(client.body).text();
  assert.equal(text, "event: tick\ndata: 1\n\n: note\n\n");
});

Deno.test("keep-alive comments are sent while the stream is open", async () => {
  const client = new SseClient({ keepAliveMs: 20 });
  const reader = client.body.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  assert.equal(first.value, ": keep-alive\n\n");
  await reader.cancel();
  assert.equal(client.closed, true);
});

Deno.test("a slow client is dropped instead of buffered without bound", async () => {
  let reason: SseCloseReason | undefined;
  const client = new SseClient({
    keepAliveMs: 0,
    maxBufferedBytes: 1_000,
    onClose: (r) => (reason = r),
  });
  const payload = "x".repeat(100);
  let accepted = 0;
  for (let i = 0; i < 100 && client.send({ data: payload }); i++) accepted++;
  assert.ok(accepted >= 5 && accepted < 10, `accepted ${accepted} messages of ~108 bytes`);
  assert.equal(client.closed, true);
  assert.equal(reason, "slow");
  assert.equal(client.send({ data: "more" }), false);
  await assert.rejects(new Response(client.body).text(), /too slow/);
});

Deno.test("a client that goes away is noticed", async () => {
  let reason: SseCloseReason | undefined;
  const client = new SseClient({ keepAliveMs: 0, onClose: (r) => (reason = r) });
  await client.body.cancel();
  assert.equal(reason, "cancelled");
  assert.equal(client.send({ data: "x" }), false);
});

Deno.test("sseResponse sets the event-stream headers", async () => {
  const client = new SseClient({ keepAliveMs: 0 });
  const res = sseResponse(client, { "x-extra": "1" });
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("x-extra"), "1");
  client.close();
  assert.equal(await res.text(), "");
});

Deno.test("abort cuts the stream and drops what was queued", async () => {
  const client = new SseClient({ keepAliveMs: 0 });
  client.send({ data: "queued" });
  client.close();
  client.abort("server closing");
  await assert.rejects(new Response(client.body).text(), /server closing/);
});
