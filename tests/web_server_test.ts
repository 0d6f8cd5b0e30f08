import assert from "node:assert/strict";
import { decide, noAction } from "../lib/control/types.ts";
import { EventBus, type RelayEvent } from "../lib/events.ts";
import type { Level } from "../lib/log.ts";
import type { BackendStatus } from "../lib/executor/types.ts";
import { parsePrometheus, sampleValue } from "../lib/web/metrics.ts";
import {
  defaultStaleAfterMs,
  startWebServer,
  type WebServer,
  type WebServerOptions,
  type WebState,
} from "../lib/web/server.ts";
import { parseListen } from "../lib/web/listen.ts";

const TOKEN = "s3cret-token-for-tests";

interface Harness {
  web: WebServer;
  bus: EventBus;
  control: { paused: boolean };
  logs: [Level, string][];
  clock: { now: number };
  state: { dryRun: boolean; backend?: BackendStatus };
}

async function withServer(
  fn: (h: Harness) => Promise<void>,
  over: Partial<WebServerOptions> = {},
): Promise<void> {
  const bus = new EventBus();
  const control = { paused: false };
  const logs: [Level, string][] = [];
  const clock = { now: 1_000_000 };
  const state: Harness["state"] = { dryRun: false };
  const web = await startWebServer({
    listen: { hostname: "127.0.0.1", port: 0 },
    bus,
    control,
    historyPoints: 20,
    log: (level, message) => logs.push([level, message]),
    now: () => clock.now,
    state: (): WebState => ({
      startedAt: 999_000,
      executor: "local",
      dryRun: state.dryRun,
      options: { delay: 1, warmer: "sleep 5" },
      ...(state.backend ? { backend: state.backend } : {}),
    }),
    ...over,
  });
  try {
    await fn({ web, bus, control, logs, clock, state });
  } finally {
    await web.close();
  }
}

function tick(n: number, over: Partial<Extract<RelayEvent, { type: "tick" }>> = {}): RelayEvent {
  return {
    type: "tick",
    at: 1_000 * n,
    tick: n,
    target: 10,
    metric: 8,
    decision: decide({ type: "start", kind: "warmer", n: 1 }, "plan", "too cold", { need: 1 }),
    launched: [`w${n}`],
    killed: [],
    running: 1,
    pending: 0,
    dryRun: false,
    ...over,
  };
}

async function get(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return { res, body: await res.text() };
}

Deno.test("listen addresses are parsed; the default health threshold follows the delay", () => {
  assert.deepEqual(parseListen("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseListen("[::1]:0"), { hostname: "::1", port: 0 });
  assert.deepEqual(parseListen("localhost:9"), { hostname: "localhost", port: 9 });
  assert.throws(() => parseListen("8080"), /HOST:PORT/);
  assert.throws(() => parseListen("host:99999"), /HOST:PORT/);
  assert.equal(defaultStaleAfterMs(1_000), 10_000);
  assert.equal(defaultStaleAfterMs(5_000), 15_000);
});

Deno.test("routes: page, assets, state, history, metrics, errors", async () => {
  await withServer(async ({ web, bus }) => {
    assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.notEqual(new URL(web.url).port, "0");
    bus.emit({ type: "start", at: 0, executor: "local", law: "adaptive", dryRun: false });
    for (let n = 1; n <= 25; n++) bus.emit(tick(n));
    bus.emit({
      type: "missing",
      at: 26_000,
      tick: 26,
      signal: "target",
      reason: "x",
      consecutive: 1,
    });

    const page = await get(web.url);
    assert.equal(page.res.status, 200);
    assert.equal(page.res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(page.res.headers.get("content-security-policy")!, /default-src 'none'/);
    assert.match(page.body, /<title>Relay\.Mesos<\/title>/);
    assert.ok(
      !/https?:\/\/(?!127\.0\.0\.1)/.test(page.body),
      "the page loads nothing from outside",
    );

    for (
      const [path, type, needle] of [
        ["assets/uplot.iife.min.js", "text/javascript", "uPlot"],
        ["assets/uplot.min.css", "text/css", ".uplot"],
        ["assets/app.js", "text/javascript", "EventSource"],
      ]
    ) {
      const a = await get(web.url + path);
      assert.equal(a.res.status, 200, path);
      assert.ok(a.res.headers.get("content-type")!.startsWith(type), path);
      assert.ok(a.body.includes(needle), path);
    }

    const state = await get(web.url + "api/state");
    assert.equal(state.res.headers.get("content-type"), "application/json; charset=utf-8");
    const s = JSON.parse(state.body);
    assert.equal(s.status, "running");
    assert.equal(s.executor, "local");
    assert.equal(s.law, "adaptive");
    assert.equal(s.startedAt, 999_000);
    assert.deepEqual(s.options, { delay: 1, warmer: "sleep 5" });
    assert.equal(s.lastTick.tick, 25);
    assert.equal(s.lastTick.launched, 1);
    assert.equal(s.lastMissing.signal, "target");
    assert.equal(s.backend, undefined);

    const history = JSON.parse((await get(web.url + "api/history")).body);
    assert.equal(history.capacity, 20);
    assert.equal(history.points.length, 20);
    assert.equal(history.points.at(-1).missing, "target");
    assert.equal(history.points.at(-2).tick, 25);
    assert.equal(history.decisions.length, 25);
    assert.equal(history.decisions.at(-1).reason, "too cold");

    const metrics = await get(web.url + "metrics");
    assert.equal(
      metrics.res.headers.get("content-type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    const f = parsePrometheus(metrics.body);
    assert.equal(sampleValue(f, "relay_ticks_total"), 26);
    assert.equal(sampleValue(f, "relay_tasks_started_total", { kind: "warmer" }), 25);

    assert.equal((await get(web.url + "nope")).res.status, 404);
    const post = await get(web.url + "api/state", { method: "POST" });
    assert.equal(post.res.status, 405);
    assert.equal(post.res.headers.get("allow"), "GET, HEAD");
    assert.equal((await get(web.url + "api/pause")).res.status, 405);
    const head = await get(web.url, { method: "HEAD" });
    assert.equal(head.res.status, 200);
    assert.equal(head.body, "");
    for (const path of ["", "api/state", "metrics", "healthz"]) {
      const r = await get(web.url + path);
      assert.equal(r.res.headers.get("x-content-type-options"), "nosniff", path);
    }
  });
});

Deno.test("with a token every route needs it, by header or query, and never shows it", async () => {
  await withServer(async ({ web, bus }) => {
    bus.emit(tick(1));
    const routes = [
      "",
      "assets/app.js",
      "assets/uplot.iife.min.js",
      "events",
      "api/state",
      "api/history",
      "healthz",
      "metrics",
    ];
    for (const path of routes) {
      const r = await get(web.url + path);
      assert.equal(r.res.status, 401, `${path} without token`);
      assert.match(r.res.headers.get("www-authenticate")!, /^Bearer/);
      const wrong = await get(web.url + path, { headers: { authorization: "Bearer nope" } });
      assert.equal(wrong.res.status, 401, `${path} with a wrong token`);
      const wrongQuery = await get(`${web.url}${path}?token=${TOKEN}x`);
      assert.equal(wrongQuery.res.status, 401, `${path} with a wrong query token`);
    }
    for (const method of ["POST"]) {
      for (const path of ["api/pause", "api/resume"]) {
        assert.equal((await get(web.url + path, { method })).res.status, 401, path);
      }
    }
    for (const path of routes.filter((p) => p !== "events")) {
      const byHeader = await get(web.url + path, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(byHeader.res.status, 200, `${path} with header`);
      assert.ok(!byHeader.body.includes(TOKEN), `${path} does not show the token`);
      const byQuery = await get(`${web.url}${path}?token=${encodeURIComponent(TOKEN)}`);
      assert.equal(byQuery.res.status, 200, `${path} with query`);
      assert.ok(!byQuery.body.includes(TOKEN), `${path} does not show the token`);
      for (const [name, value] of byQuery.res.headers) {
        assert.ok(!value.includes(TOKEN), `header ${name} of ${path}`);
      }
    }
    const events = await fetch(`${web.url}events?token=${TOKEN}`);
    assert.equal(events.status, 200);
    await events.body?.cancel();
    const paused = await get(`${web.url}api/pause?token=${TOKEN}`, { method: "POST" });
    assert.equal(paused.res.status, 200);
    assert.ok(!paused.body.includes(TOKEN));
  }, { token: TOKEN });
});

Deno.test("pause and resume flip the loop's switch, log, and show in state and metrics", async () => {
  await withServer(async ({ web, control, logs }) => {
    const paused = await get(web.url + "api/pause", { method: "POST" });
    assert.equal(paused.res.status, 200);
    assert.equal(JSON.parse(paused.body).status, "paused");
    assert.equal(control.paused, true);
    assert.deepEqual(logs, [["info", "paused from the web UI"]]);
    const state = JSON.parse((await get(web.url + "api/state")).body);
    assert.equal(state.status, "paused");
    assert.equal(state.paused, true);
    const f = parsePrometheus((await get(web.url + "metrics")).body);
    assert.equal(sampleValue(f, "relay_paused"), 1);

    // Pausing twice logs once.
    await get(web.url + "api/pause", { method: "POST" });
    assert.equal(logs.length, 1);

    const resumed = await get(web.url + "api/resume", { method: "POST" });
    assert.equal(JSON.parse(resumed.body).status, "running");
    assert.equal(control.paused, false);
    assert.deepEqual(logs.at(-1), ["info", "resumed from the web UI"]);

    // Another site cannot pause the loop from a visitor's browser.
    const cross = await get(web.url + "api/pause", {
      method: "POST",
      headers: { origin: "http://evil.example" },
    });
    assert.equal(cross.res.status, 403);
    const fetchSite = await get(web.url + "api/pause", {
      method: "POST",
      headers: { "sec-fetch-site": "cross-site" },
    });
    assert.equal(fetchSite.res.status, 403);
    assert.equal(control.paused, false);
  });
});

Deno.test("a loopback server refuses other Host names (DNS rebinding)", async () => {
  await withServer(async ({ web }) => {
    const { port } = new URL(web.url);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await conn.write(
      new TextEncoder().encode(
        "GET /api/state HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
      ),
    );
    assert.match(await new Response(conn.readable).text(), /^HTTP\/1\.1 403/);
    const local = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await local.write(
      new TextEncoder().encode(
        `GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`,
      ),
    );
    assert.match(await new Response(local.readable).text(), /^HTTP\/1\.1 200/);
  });
});

Deno.test("healthz: 200 while ticking, 503 when stuck, disconnected or stopped", async () => {
  await withServer(async ({ web, bus, clock }) => {
    const health = async () => {
      const r = await get(web.url + "healthz");
      return [r.res.status, r.body.trim()] as const;
    };
    assert.deepEqual(await health(), [200, "ok: waiting for the first tick"]);
    clock.now += 600;
    assert.deepEqual(await health(), [
      503,
      "unhealthy: no tick since the server started 0.6 s ago",
    ]);
    bus.emit(tick(1));
    assert.deepEqual(await health(), [200, "ok: last tick 0.0 s ago"]);
    clock.now += 499;
    assert.equal((await health())[0], 200);
    clock.now += 2;
    assert.deepEqual(await health(), [503, "unhealthy: no tick for 0.5 s (limit 0.5 s)"]);
    // A tick with a missing sample still shows the loop is alive.
    bus.emit({ type: "missing", at: 2, tick: 2, signal: "metric", reason: "x", consecutive: 1 });
    assert.equal((await health())[0], 200);

    // The backend's connection comes as events on the bus: down from the first news of it.
    const backend = (at: number, up: boolean) =>
      bus.emit({
        type: "backend",
        at,
        event: up
          ? { kind: "connected", leader: "http://m:5050", frameworkId: "fw" }
          : { kind: "disconnected", reason: "stream ended" },
      });
    backend(clock.now - 100, false);
    assert.equal((await health())[0], 200, "a short disconnection is tolerated");
    clock.now += 300;
    bus.emit(tick(3));
    backend(clock.now, false);
    clock.now += 300;
    bus.emit(tick(4));
    assert.deepEqual(await health(), [503, "unhealthy: Mesos disconnected for 0.7 s"]);
    backend(clock.now, true);
    assert.equal((await health())[0], 200);

    bus.emit({ type: "stop", at: 5, reason: "signal", ticks: 4, exitCode: 0 });
    assert.deepEqual(await health(), [503, "unhealthy: loop stopped (signal)"]);
  }, { staleAfterMs: 500 });
});

Deno.test("healthz on Mesos: tasks waiting for offers past the limit with none starting are 503", async () => {
  await withServer(async ({ web, bus, clock }) => {
    const health = async () => {
      const r = await get(web.url + "healthz");
      return [r.res.status, r.body.trim()] as const;
    };
    bus.emit({
      type: "backend",
      at: clock.now,
      event: { kind: "connected", leader: "http://m:5050", frameworkId: "fw" },
    });
    bus.emit(tick(1, { pending: 3 }));
    clock.now += 2_000;
    bus.emit(tick(2, { pending: 3 }));
    assert.equal((await health())[0], 200, "within the limit");
    clock.now += 1_001;
    bus.emit(tick(3, { pending: 3 }));
    assert.deepEqual(await health(), [
      503,
      "unhealthy: 3 tasks waiting for offers for 3.0 s, none starting (limit 3.0 s)",
    ]);
    // One starting is progress; none pending is healthy.
    bus.emit({
      type: "task",
      at: 3,
      task: { id: "w1", kind: "warmer", state: "starting", requestedAt: 1 },
      previous: "pending",
    });
    assert.equal((await health())[0], 200);
    clock.now += 3_500;
    bus.emit(tick(4, { pending: 2 }));
    assert.equal((await health())[0], 503);
    bus.emit(tick(5, { pending: 0 }));
    assert.equal((await health())[0], 200);
  }, { staleAfterMs: 10_000, offerWaitLimitMs: 3_000 });
});

Deno.test("healthz without a backend (the local executor): no offers to wait for", async () => {
  await withServer(async ({ web, bus, clock }) => {
    bus.emit(tick(1, { pending: 2 }));
    clock.now += 5_000;
    bus.emit(tick(2, { pending: 2 }));
    assert.equal((await get(web.url + "healthz")).res.status, 200);
  }, { staleAfterMs: 10_000, offerWaitLimitMs: 3_000 });
});

Deno.test("status: dry-run, starved (pending with none starting), stopped", async () => {
  await withServer(async ({ web, bus, clock, state }) => {
    const status = async () => JSON.parse((await get(web.url + "api/state")).body);
    bus.emit(tick(1, { pending: 2 }));
    clock.now += 20_000;
    bus.emit(tick(2, { pending: 2 }));
    assert.equal((await status()).status, "running");
    clock.now += 11_000;
    bus.emit(tick(3, { pending: 2 }));
    const starved = await status();
    assert.equal(starved.status, "starved");
    assert.match(starved.statusDetail, /2 tasks pending, none starting for 31\.0 s/);

    // A task starting is progress.
    bus.emit({
      type: "task",
      at: 3,
      task: { id: "w1", kind: "warmer", state: "starting", requestedAt: 1 },
      previous: "pending",
    });
    assert.equal((await status()).status, "running");
    clock.now += 31_000;
    bus.emit(tick(4, { pending: 1 }));
    assert.equal((await status()).status, "starved");
    bus.emit(tick(5, { pending: 0 }));
    assert.equal((await status()).status, "running");

    state.dryRun = true;
    assert.equal((await status()).status, "dry-run");
    bus.emit({ type: "stop", at: 6, reason: "duration", ticks: 5, exitCode: 0 });
    const stopped = await status();
    assert.equal(stopped.status, "stopped");
    assert.deepEqual(stopped.stopped, { at: 6, reason: "duration", exitCode: 0 });
  });
});

Deno.test("the event stream delivers ticks, decisions, tasks and warnings from the bus", async () => {
  await withServer(async ({ web, bus }) => {
    const res = await fetch(web.url + "events");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const readUntil = async (needle: string) => {
      const until = Date.now() + 5_000;
      while (!text.includes(needle)) {
        assert.ok(Date.now() < until, `timed out waiting for ${needle} in ${text}`);
        const { value, done } = await reader.read();
        assert.ok(!done, "stream ended early");
        text += value;
      }
    };
    await readUntil("event: hello");
    assert.match(text, /retry: 2000/);

    bus.emit(tick(42, { decision: noAction("within deadband"), launched: [] }));
    bus.emit({
      type: "task",
      at: 43,
      task: { id: "w1", kind: "warmer", state: "failed", requestedAt: 1, reason: "exit 1" },
      previous: "running",
    });
    bus.emit({ type: "warning", at: 44, message: "two\nlines" });
    await readUntil('"message":"two\\nlines"');

    const frames = text.split("\n\n").filter((f) => f.length > 0);
    const parsed = frames.map((f) => {
      const lines = f.split("\n");
      return {
        event: lines.find((l) => l.startsWith("event: "))?.slice(7),
        id: lines.find((l) => l.startsWith("id: "))?.slice(4),
        data: lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n"),
      };
    });
    const tickFrame = parsed.find((f) => f.event === "tick")!;
    assert.equal(JSON.parse(tickFrame.data).tick, 42);
    assert.equal(JSON.parse(tickFrame.data).metric, 8);
    const decision = JSON.parse(parsed.find((f) => f.event === "decision")!.data);
    assert.equal(decision.reason, "within deadband");
    assert.equal(decision.action, "wait");
    const task = JSON.parse(parsed.find((f) => f.event === "task")!.data);
    assert.equal(task.task.state, "failed");
    // JSON keeps the warning on one data line; the raw newline is escaped.
    const warning = JSON.parse(parsed.find((f) => f.event === "warning")!.data);
    assert.equal(warning.message, "two\nlines");
    const ids = parsed.filter((f) => f.id).map((f) => Number(f.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    await reader.cancel();
  });
});

Deno.test("close ends open event streams and stops listening", async () => {
  const bus = new EventBus();
  const web = await startWebServer({
    listen: { hostname: "127.0.0.1", port: 0 },
    bus,
    control: { paused: false },
    historyPoints: 10,
    log: () => {},
    state: () => ({ startedAt: 0, executor: "local", dryRun: false, options: {} }),
  });
  const res = await fetch(web.url + "events");
  const body = res.body!.pipeThrough(new TextDecoderStream());
  const closing = web.close();
  const rest = await new Response(body.pipeThrough(new TextEncoderStream())).text();
  assert.match(rest, /event: hello/);
  await closing;
  await web.close(); // twice is fine
  await assert.rejects(fetch(web.url + "healthz"));
});

Deno.test("a busy port is an error", async () => {
  await withServer(async ({ web }) => {
    const port = Number(new URL(web.url).port);
    await assert.rejects(
      startWebServer({
        listen: { hostname: "127.0.0.1", port },
        bus: new EventBus(),
        control: { paused: false },
        historyPoints: 10,
        log: () => {},
        state: () => ({ startedAt: 0, executor: "local", dryRun: false, options: {} }),
      }),
      Deno.errors.AddrInUse,
    );
  });
});

Deno.test("close does not wait for a client that stopped reading", async () => {
  const bus = new EventBus();
  const web = await startWebServer({
    listen: { hostname: "127.0.0.1", port: 0 },
    bus,
    control: { paused: false },
    historyPoints: 10,
    log: () => {},
    state: () => ({ startedAt: 0, executor: "local", dryRun: false, options: {} }),
  });
  const res = await fetch(web.url + "events");
  const reader = res.body!.getReader();
  await reader.read(); // The hello frame; after that the client never reads again.
  const message = "x".repeat(4_000);
  for (let i = 0; i < 2_000; i++) bus.emit({ type: "warning", at: i, message });
  const started = Date.now();
  await web.close();
  assert.ok(Date.now() - started < 5_000, `close took ${Date.now() - started} ms`);
  await reader.cancel().catch(() => {});
});
