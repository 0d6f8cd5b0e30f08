import assert from "node:assert/strict";
import { backoffDelay } from "../lib/mesos/backoff.ts";
import {
  CALL_TIMEOUT_MS,
  CallError,
  CLIENT_BACKOFF,
  type ClientOptions,
  HEALTHY_AFTER_MS,
  resolveLocation,
  SchedulerClient,
} from "../lib/mesos/client.ts";
import { decodeCall, encodeEvent, mediaType } from "../lib/mesos/codec.ts";
import type { ClientHandlers } from "../lib/mesos/connection.ts";
import { LeaderDetector } from "../lib/mesos/leader.ts";
import type { Call } from "../lib/mesos/messages.ts";
import { encodeRecord } from "../lib/mesos/recordio.ts";
import { ManualClock, realTick, until } from "./support/manual_clock.ts";
import { startFramework } from "./support/mesos_harness.ts";

Deno.test("307 Location without a scheme resolves against the master in use", () => {
  assert.equal(
    resolveLocation("//10.0.0.2:5050/api/v1/scheduler", "http://m1:5050"),
    "http://10.0.0.2:5050",
  );
  assert.equal(resolveLocation("10.0.0.2:5050", "https://m1:5050"), "https://10.0.0.2:5050");
  assert.equal(
    resolveLocation("http://m3:5050/api/v1/scheduler", "http://m1:5050"),
    "http://m3:5050",
  );
  assert.equal(resolveLocation("/api/v1/scheduler", "http://m1:5050"), "http://m1:5050");
});

Deno.test("backoff grows exponentially, is capped, and is jittered within [cap/2, cap]", () => {
  const low = () => 0;
  const high = () => 0.999;
  const bounds = { initial: 500, max: 15_000 };
  assert.equal(backoffDelay(0, bounds, low), 250);
  assert.equal(backoffDelay(0, bounds, high), 500);
  assert.equal(backoffDelay(3, bounds, low), 2000);
  assert.equal(backoffDelay(10, bounds, low), 7500);
  assert.ok(backoffDelay(10, bounds, high) <= 15_000);
  assert.ok(backoffDelay(50, bounds, high) <= 15_000);
});

// ---------------------------------------------------------------------------------------------
// The client against masters that misbehave, on a manual clock: timeouts and backoffs pass in
// virtual time, the HTTP is real (loopback).

/** What a fake master does with one request: answer, or hang until the client gives up. */
type Behaviour = (call: Call) => Response | "hang" | "stream-open" | "stream-end";

/** A minimal master on 127.0.0.1 whose behaviour a test writes; it counts what it was sent. */
function fakeMaster(behave: Behaviour) {
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const calls: Call["type"][] = [];
  const hanging = new Set<(v: unknown) => void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const call = decodeCall(new Uint8Array(await req.arrayBuffer()), "json");
    calls.push(call.type);
    const what = behave(call);
    if (what instanceof Response) return what;
    if (what === "hang") {
      await new Promise((resolve) => hanging.add(resolve));
      return new Response(null, { status: 500 });
    }
    const subscribed = encodeRecord(encodeEvent({
      type: "SUBSCRIBED",
      subscribed: { framework_id: { value: "fw-1" }, heartbeat_interval_seconds: 15 },
    }, "json"));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(subscribed);
        if (what === "stream-end") controller.close();
        else open.add(controller);
      },
      cancel() {},
    });
    return new Response(body, {
      status: 200,
      headers: { "Content-Type": mediaType("json"), "Mesos-Stream-Id": crypto.randomUUID() },
    });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    calls,
    async close() {
      for (const resolve of hanging) resolve(undefined);
      for (const c of open) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await server.shutdown();
    },
  };
}

/** A client on `clock` for a list of masters, recording what it logs and reports. */
function clientFor(urls: string[], clock: ManualClock, opts: Partial<ClientOptions> = {}) {
  const detector = new LeaderDetector(urls.join(","));
  const logs: string[] = [];
  const connected: string[] = [];
  const handlers: ClientHandlers = {
    frameworkInfo: () => ({ user: "u", name: "client test" }),
    onEvent: () => {},
    onConnected: (info) => connected.push(info.leader),
    onDisconnected: () => {},
  };
  const client = new SchedulerClient({
    leader: () => detector.current(),
    leaderFailed: () => detector.next(),
    contentType: "json",
    maxFrameBytes: 1 << 20,
    clock,
    random: () => 0,
    log: (level, msg) => logs.push(`${level} ${msg}`),
    ...opts,
  }, handlers);
  return { client, logs, connected };
}

Deno.test("a master that accepts SUBSCRIBE and never answers: timed out, the next master is tried", async () => {
  const hung = fakeMaster(() => "hang");
  const good = fakeMaster(() => "stream-open");
  const clock = new ManualClock();
  const { client, logs, connected } = clientFor([hung.url, good.url], clock);
  const began = Date.now();
  try {
    client.start();
    await until("SUBSCRIBE sent to the hung master", () => hung.calls.length === 1);
    assert.deepEqual(connected, []);
    const at = await clock.fire(CALL_TIMEOUT_MS);
    assert.equal(at, CALL_TIMEOUT_MS, "given up after the call timeout, not before");
    // Backoff attempt 1 with no jitter: half of twice the initial bound.
    await clock.fire(CLIENT_BACKOFF.initial);
    await until("subscribed to the second master", () => connected.length === 1);
    assert.deepEqual(connected, [good.url]);
    assert.equal(client.leader, good.url);
    assert.ok(
      logs.some((l) => l.includes(`subscribe to ${hung.url} failed: no answer within 10 s`)),
      logs.join("\n"),
    );
    assert.ok(Date.now() - began < 3000, "10 s of timeout passed in virtual time");
  } finally {
    await client.close();
    await hung.close();
    await good.close();
  }
});

Deno.test("a 307 loop to itself is a failed master: the next master of the list is tried", async () => {
  let self = "";
  const looping = fakeMaster(() =>
    new Response(null, { status: 307, headers: { Location: `${self}/api/v1/scheduler` } })
  );
  self = looping.url;
  const good = fakeMaster(() => "stream-open");
  const clock = new ManualClock();
  const { client, logs, connected } = clientFor([looping.url, good.url], clock);
  try {
    client.start();
    await clock.fire(CLIENT_BACKOFF.initial);
    await until("subscribed to the second master", () => connected.length === 1);
    assert.deepEqual(connected, [good.url]);
    assert.deepEqual(looping.calls, ["SUBSCRIBE"], "the loop is seen at the first redirect");
    assert.ok(logs.some((l) => /failed: redirect loop/.test(l)), logs.join("\n"));
  } finally {
    await client.close();
    await looping.close();
    await good.close();
  }
});

Deno.test("a stream dropped right after SUBSCRIBED backs off more each time; a healthy one resets it", async () => {
  let keepOpen = false;
  const master = fakeMaster(() => keepOpen ? "stream-open" : "stream-end");
  const clock = new ManualClock();
  const backoffMs = { initial: 100, max: 100_000 };
  const { client, connected } = clientFor([master.url], clock, { backoffMs });
  try {
    client.start();
    // Attempts 1, 2, 3 with no jitter: 100, 200, 400 ms (the old client reset to 50 each time).
    for (const [i, wait] of [100, 200, 400].entries()) {
      await until(`subscription ${i + 1} ended`, () => connected.length === i + 1);
      await clock.fire(wait);
      await until(`SUBSCRIBE ${i + 2}`, () => master.calls.length === i + 2);
    }
    keepOpen = true;
    await clock.fire(800);
    await until("a lasting subscription", () => master.calls.length === 5 && client.connected);
    // No event for twice the heartbeat: the watchdog ends it after 30 s, past HEALTHY_AFTER_MS.
    await clock.fire(30_000);
    assert.ok(HEALTHY_AFTER_MS <= 30_000);
    await until("the stream ended", () => !client.connected);
    await until("back off from attempt 0", () => clock.pending().includes(50));
    assert.equal(connected.length, 5);
  } finally {
    await client.close();
    await master.close();
  }
});

/** A subscribed client, and a REVIVE sent to a master that never answers calls. */
async function reviveHanging() {
  const master = fakeMaster((call) => call.type === "SUBSCRIBE" ? "stream-open" : "hang");
  const clock = new ManualClock();
  const { client } = clientFor([master.url], clock);
  client.start();
  await until("subscribed", () => client.connected);
  const revive = client.call({ type: "REVIVE", revive: {} });
  await until("REVIVE sent", () => master.calls.includes("REVIVE"));
  return { master, clock, client, revive };
}

Deno.test("a call the master never answers fails after the call timeout", async () => {
  const { master, clock, client, revive } = await reviveHanging();
  try {
    let settled = false;
    revive.catch(() => {}).finally(() => settled = true);
    await clock.advance(CALL_TIMEOUT_MS - 1);
    assert.equal(settled, false, "still waiting just before the timeout");
    await clock.advance(1);
    await assert.rejects(revive, (err: unknown) => {
      assert.ok(err instanceof CallError);
      assert.equal(err.status, 0);
      assert.match(err.message, /REVIVE failed: no answer within 10 s/);
      return true;
    });
    assert.ok(client.connected, "the subscription stays");
  } finally {
    await client.close();
    await master.close();
  }
});

Deno.test("a REVIVE the master never answers is given up after the call timeout and sent again", async () => {
  const master = fakeMaster((call) =>
    call.type === "SUBSCRIBE"
      ? "stream-open"
      : call.type === "REVIVE"
      ? "hang"
      : new Response(null, { status: 202 })
  );
  const clock = new ManualClock(1_000_000);
  const h = await startFramework({ leader: () => master.url, contentType: "json", clock });
  const revives = () => master.calls.filter((c) => c === "REVIVE").length;
  try {
    await until("subscribed, offers suppressed", () => master.calls.includes("SUPPRESS"));
    h.executor.launch("warmer", 1);
    await until("REVIVE sent", () => revives() === 1);
    h.executor.tick(); // a tick: the REVIVE is still in flight, so none is added
    await realTick(20);
    assert.equal(revives(), 1);
    await clock.fire(CALL_TIMEOUT_MS);
    await until(
      "the REVIVE given up",
      () => h.logs.some((l) => /REVIVE failed: no answer/.test(l)),
    );
    h.executor.tick(); // the next tick sends it again
    await until("REVIVE sent again", () => revives() === 2);
    assert.ok(h.executor.connected, "the subscription stays");
  } finally {
    await h.executor.shutdown("kill", 0);
    await master.close();
    await Deno.remove(h.stateDir, { recursive: true });
  }
});

Deno.test("close() ends a call in flight at once: it fails, saying the client closed", async () => {
  const { master, client, revive } = await reviveHanging();
  try {
    // No clock advance: only close() can end it before the call timeout. (The real-time race
    // only keeps a regression from hanging the suite.)
    await client.close();
    let guard: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      revive.then(() => "answered", (err: unknown) => err),
      new Promise((resolve) => guard = setTimeout(() => resolve("still in flight"), 5000)),
    ]);
    clearTimeout(guard);
    assert.ok(outcome instanceof CallError, String(outcome));
    assert.equal(outcome.status, 0);
    assert.match(outcome.message, /REVIVE failed: the client closed/);
  } finally {
    await client.close();
    await master.close();
  }
});
