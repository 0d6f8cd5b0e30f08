/**
 * The web server: one page with a live chart, a JSON API, an event stream, `/healthz` and
 * `/metrics`. It only listens to the event bus and flips the loop's pause switch; it never
 * drives the loop or the executor itself.
 *
 * Routes: `GET /`, `GET /assets/…`, `GET /events` (SSE), `GET /api/state`, `GET /api/history`,
 * `GET /healthz`, `GET /metrics`, `POST /api/pause`, `POST /api/resume`. With a token, every
 * route wants `Authorization: Bearer <token>` or `?token=<token>`.
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { EventBus, RelayEvent, StopReason } from "../events.ts";
import type { LogFn } from "../log.ts";
import { type DecisionEntry, History, type HistoryPoint } from "./history.ts";
import type { BackendStatus } from "../executor/types.ts";
import { type LaunchBackoffSnapshot, PROMETHEUS_CONTENT_TYPE, RelayMetrics } from "./metrics.ts";
import { ASSETS, PAGE_CSP, pageHtml } from "./page.ts";
import { encodeFrame, SseClient, sseResponse } from "./sse.ts";
import { isLoopbackHost, type ListenAddress } from "./listen.ts";

/** What the rest of the program tells the web UI about the run, read at each request. */
export interface WebState {
  /** Epoch ms. */
  readonly startedAt: number;
  /** Executor name: `local` or `mesos`. */
  readonly executor: string;
  readonly dryRun: boolean;
  /** Effective options, already redacted by the caller. */
  readonly options: Record<string, unknown>;
  /** The Mesos backend's state; absent for the local backend. */
  readonly backend?: BackendStatus;
  /** Each kind's launch backoff after its tasks failed in a row. */
  readonly launchBackoff?: LaunchBackoffSnapshot;
  /**
   * Set while this instance is a standby (`--ha-zk`: another one leads): what it waits for.
   * `/healthz` is then healthy (a standby is doing its job) and the status is `standby`.
   */
  readonly standby?: string;
}

/** The run's status as the UI shows it. */
export type RunStatus = "running" | "starved" | "dry-run" | "paused" | "stopped" | "standby";

/** Options of {@linkcode startWebServer}. */
export interface WebServerOptions {
  /** Where to listen (`parseListen` of `--web-listen`); port 0 picks a free port. */
  readonly listen: ListenAddress;
  /** When set, every route requires it (Bearer header or `?token=`). */
  readonly token?: string;
  readonly bus: EventBus;
  /** The loop's pause switch (`LoopSettings.control`). */
  readonly control: { paused: boolean };
  /** Tick points kept for the chart. */
  readonly historyPoints: number;
  readonly state: () => WebState;
  readonly log: LogFn;
  /** `/healthz` fails after this long without a tick (default 10 s; see defaultStaleAfterMs). */
  readonly staleAfterMs?: number;
  /** Tasks pending this long with none starting make the status `starved` (default 30 s). */
  readonly starvedAfterMs?: number;
  /**
   * On Mesos, tasks waiting for offers this long with none starting make `/healthz` fail
   * (`--health-timeout`; default 10 s).
   */
  readonly offerWaitLimitMs?: number;
  /** Keep-alive interval of event streams (default 15 s). */
  readonly keepAliveMs?: number;
  /** Wall clock (tests only). */
  readonly now?: () => number;
  /** Applied to every answer and event-stream message (removes known secret values). */
  readonly redact?: (text: string) => string;
}

/** A running web server. */
export interface WebServer {
  /** Base address, e.g. `http://127.0.0.1:8080/` (never with the token). */
  readonly url: string;
  /** Feeds `relay_signal_read_seconds` (to be called by the loop). */
  observeSignalRead(signal: "metric" | "target", seconds: number): void;
  /** Feeds `relay_tick_duration_seconds` (to be called by the loop). */
  observeTickDuration(seconds: number): void;
  /** Ends event streams, stops listening and unsubscribes from the bus. */
  close(): Promise<void>;
}

/**
 * The `/healthz` threshold for a loop ticking every `delayMs`: max(3 × delay, `floorMs`), so a
 * slow loop is not called stuck between two ticks. `floorMs` is `--health-timeout` (10 s).
 *
 * @example
 * ```ts
 * defaultStaleAfterMs(5_000); // 15_000
 * ```
 */
export function defaultStaleAfterMs(delayMs: number, floorMs = 10_000): number {
  return Math.max(3 * delayMs, floorMs);
}

/**
 * Starts the web server and resolves once it listens.
 *
 * @example
 * ```ts
 * import { EventBus } from "../events.ts";
 * const startedAt = Date.now();
 * const web = await startWebServer({
 *   listen: { hostname: "127.0.0.1", port: 0 }, // port 0: any free port
 *   bus: new EventBus(),
 *   control: { paused: false },
 *   historyPoints: 3600,
 *   log: (level, message) => console.error(level, message),
 *   state: () => ({ startedAt, executor: "local", dryRun: false, options: {} }),
 * });
 * const health = await fetch(`${web.url}healthz`);
 * console.log(health.status, await health.text()); // 200 ok: waiting for the first tick
 * await web.close();
 * ```
 */
export function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  try {
    return Promise.resolve(start(opts));
  } catch (err) {
    return Promise.reject(err);
  }
}

function start(opts: WebServerOptions): WebServer {
  const { hostname, port } = opts.listen;
  const hub = new Hub(opts);
  const loopbackOnly = isLoopbackHost(hostname);
  const tokenDigest = opts.token ? digest(opts.token) : undefined;
  const redact = opts.redact ?? ((t: string) => t);
  const json = (body: unknown, status = 200) => jsonResponse(redact(JSON.stringify(body)), status);
  const handle = (req: Request): Response => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      // A Host header that makes no URL (spaces, junk): the client's fault, never logged.
      return text(400, "bad request: malformed Host or URL\n");
    }
    if (loopbackOnly && !isLoopbackHost(hostOf(req.headers.get("host") ?? ""))) {
      // A loopback-only server answers loopback names only (no DNS rebinding).
      return text(403, "forbidden: unexpected Host header\n");
    }
    if (tokenDigest && !authorized(req, url, tokenDigest)) {
      return text(401, "unauthorized: send Authorization: Bearer <token> or ?token=<token>\n", {
        "www-authenticate": 'Bearer realm="relay.mesos"',
      });
    }
    const get = req.method === "GET" || req.method === "HEAD";
    const path = url.pathname;
    if (path === "/api/pause" || path === "/api/resume") {
      if (req.method !== "POST") return methodNotAllowed("POST");
      if (!sameOrigin(req)) return text(403, "forbidden: cross-origin request\n");
      return json(hub.setPaused(path === "/api/pause"));
    }
    if (path === "/events") return req.method === "GET" ? hub.subscribe() : methodNotAllowed("GET");
    const route = routes[path] ?? (ASSETS.has(path) ? asset : undefined);
    if (!route) return text(404, "not found\n");
    if (!get) return methodNotAllowed("GET, HEAD");
    const res = route(path);
    return req.method === "HEAD" ? new Response(null, res) : res;
  };

  const routes: Record<string, (path: string) => Response> = {
    "/": () =>
      new Response(pageHtml(), {
        headers: secure({
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": PAGE_CSP,
          "cache-control": "no-store",
        }),
      }),
    "/api/state": () => json(hub.stateJson()),
    "/api/history": () => json(hub.historyJson()),
    "/healthz": () => {
      const h = hub.health();
      return text(h.ok ? 200 : 503, redact(`${h.ok ? "ok" : "unhealthy"}: ${h.reason}\n`));
    },
    "/metrics": () =>
      new Response(redact(hub.metrics.render()), {
        headers: secure({ "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" }),
      }),
  };
  const asset = (path: string) => {
    const a = ASSETS.get(path)!;
    return new Response(a.body, {
      headers: secure({ "content-type": a.type, "cache-control": "no-cache" }),
    });
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    // Binds synchronously: a busy port or a bad address throws here.
    server = Deno.serve({
      hostname,
      port,
      onListen: () => {},
      onError: (err) => {
        opts.log("warn", `web: request failed: ${forLog((err as Error).message)}`);
        return text(500, "internal error\n");
      },
    }, handle);
  } catch (err) {
    hub.close();
    throw err;
  }

  const addr = server.addr;
  const shownHost = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${addr.port}/`,
    observeSignalRead: (signal, seconds) => hub.metrics.observeSignalRead(signal, seconds),
    observeTickDuration: (seconds) => hub.metrics.observeTickDuration(seconds),
    close() {
      closing ??= (async () => {
        const streams = hub.close();
        // Graceful first; a client that does not read its last events gets cut after a while.
        const shutdown = server.shutdown();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), 2_000)));
        if (await Promise.race([shutdown, late]) === "late") {
          for (const c of streams) c.abort("server closing");
        }
        clearTimeout(timer);
        await shutdown;
        await server.finished;
      })();
      return closing;
    },
  };
}

/** State shared by the routes: history, metrics, event streams, status. */
class Hub {
  readonly metrics: RelayMetrics;
  readonly #opts: WebServerOptions;
  readonly #history: History;
  readonly #clients = new Set<SseClient>();
  readonly #off: () => void;
  readonly #now: () => number;
  readonly #redact: (text: string) => string;
  readonly #createdAt: number;
  /** When the loop started (a standby's starts late, when it takes over). */
  #loopStartedAt: number | undefined;
  readonly #staleAfterMs: number;
  readonly #starvedAfterMs: number;
  readonly #offerWaitLimitMs: number;
  #nextId = 1;
  #law?: string;
  #lastBeat?: number;
  #lastTick?: Extract<RelayEvent, { type: "tick" }>;
  #lastMissing?: Extract<RelayEvent, { type: "missing" }>;
  #stopped?: { at: number; reason: StopReason; exitCode: number };
  #pendingSince?: number;
  #lastStarting?: number;
  /**
   * The backend's connection as its events tell it: since when it is up or down. Unset without
   * a backend (the local executor), which has no connection and no offers to wait for.
   */
  #connection?: { readonly up: boolean; readonly since: number };

  constructor(opts: WebServerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#redact = opts.redact ?? ((t) => t);
    this.#createdAt = this.#now();
    this.#staleAfterMs = opts.staleAfterMs ?? 10_000;
    this.#starvedAfterMs = opts.starvedAfterMs ?? 30_000;
    this.#offerWaitLimitMs = opts.offerWaitLimitMs ?? 10_000;
    this.#history = new History(opts.historyPoints);
    this.metrics = new RelayMetrics({
      bus: opts.bus,
      control: opts.control,
      backend: () => this.#backend(),
      launchBackoff: () => {
        try {
          return this.#opts.state().launchBackoff;
        } catch {
          return undefined;
        }
      },
    });
    this.#off = opts.bus.on((e) => this.#record(e));
  }

  /** Unsubscribes and ends the event streams; returns them (for a forced end). */
  close(): SseClient[] {
    this.#off();
    this.metrics.close();
    const clients = [...this.#clients];
    for (const c of clients) c.close();
    this.#clients.clear();
    return clients;
  }

  #backend(): BackendStatus | undefined {
    try {
      return this.#opts.state().backend;
    } catch {
      return undefined;
    }
  }

  #record(e: RelayEvent): void {
    const now = this.#now();
    const change = this.#history.record(e);
    switch (e.type) {
      case "start":
        this.#loopStartedAt ??= now;
        this.#law = e.law;
        this.#stopped = undefined;
        this.#broadcast("status", { at: e.at, change: "start" });
        break;
      case "tick":
        this.#lastBeat = now;
        this.#lastTick = e;
        if (e.pending > 0) this.#pendingSince ??= now;
        else this.#pendingSince = undefined;
        this.#broadcast("tick", change.point as HistoryPoint);
        this.#broadcast("decision", change.decision as DecisionEntry);
        break;
      case "missing":
        this.#lastBeat = now;
        this.#lastMissing = e;
        this.#broadcast("tick", change.point as HistoryPoint);
        break;
      case "task":
        if (
          (e.task.state === "starting" || e.task.state === "running") &&
          e.previous !== e.task.state
        ) {
          this.#lastStarting = now;
        }
        this.#broadcast("task", { at: e.at, task: e.task, previous: e.previous });
        break;
      case "warning":
        this.#broadcast("warning", { at: e.at, message: e.message });
        break;
      case "backend":
        if (e.event.kind === "connected" || e.event.kind === "disconnected") {
          const up = e.event.kind === "connected";
          // Down since the first news of it: a second "disconnected" does not move the start.
          if (this.#connection?.up !== up) this.#connection = { up, since: e.at };
        }
        this.#broadcast("backend", { at: e.at, ...e.event });
        break;
      case "stop":
        this.#stopped = { at: e.at, reason: e.reason, exitCode: e.exitCode };
        this.#broadcast("status", { at: e.at, change: "stop", reason: e.reason });
        break;
    }
  }

  #broadcast(event: string, payload: unknown): void {
    if (this.#clients.size === 0) return;
    const data = this.#redact(JSON.stringify(payload));
    const frame = encodeFrame({ event, data, id: this.#nextId++ });
    for (const c of this.#clients) c.sendFrame(frame);
  }

  subscribe(): Response {
    const client: SseClient = new SseClient({
      keepAliveMs: this.#opts.keepAliveMs,
      onClose: (reason) => {
        this.#clients.delete(client);
        if (reason === "slow") this.#opts.log("warn", "web: dropped a slow event-stream client");
      },
    });
    this.#clients.add(client);
    client.send({ event: "hello", data: JSON.stringify({ at: this.#now() }), retry: 2000 });
    return sseResponse(client, SECURITY_HEADERS);
  }

  setPaused(paused: boolean): Record<string, unknown> {
    const was = this.#opts.control.paused;
    this.#opts.control.paused = paused;
    if (was !== paused) {
      this.#opts.log("info", paused ? "paused from the web UI" : "resumed from the web UI");
      this.#broadcast("status", { at: this.#now(), change: paused ? "pause" : "resume" });
    }
    return this.stateJson();
  }

  status(): { status: RunStatus; detail: string } {
    const now = this.#now();
    if (this.#stopped) return { status: "stopped", detail: `stopped: ${this.#stopped.reason}` };
    const standby = this.#opts.state().standby;
    if (standby !== undefined) return { status: "standby", detail: standby };
    if (this.#opts.control.paused) {
      return { status: "paused", detail: "paused from the web UI: signals are read, no action" };
    }
    const state = this.#opts.state();
    if (state.dryRun) {
      return { status: "dry-run", detail: "dry run: decisions are not carried out" };
    }
    const starved = this.#starvedFor(now);
    if (starved && starved.ms > this.#starvedAfterMs) {
      return {
        status: "starved",
        detail: `${starved.pending} task${starved.pending > 1 ? "s" : ""} pending, none starting ` +
          `for ${seconds(starved.ms)} s`,
      };
    }
    return { status: "running", detail: "" };
  }

  /** How long tasks have been pending with none starting, and how many; undefined: none pend. */
  #starvedFor(now: number): { ms: number; pending: number } | undefined {
    const pending = this.#lastTick?.pending ?? 0;
    if (pending === 0 || this.#pendingSince === undefined) return undefined;
    const since = Math.max(this.#pendingSince, this.#lastStarting ?? -Infinity);
    return { ms: now - since, pending };
  }

  stateJson(): Record<string, unknown> {
    const state = this.#opts.state();
    const { status, detail } = this.status();
    const tick = this.#lastTick;
    return {
      ...state,
      status,
      statusDetail: detail,
      paused: this.#opts.control.paused,
      law: this.#law,
      lastTick: tick
        ? {
          at: tick.at,
          tick: tick.tick,
          target: tick.target,
          metric: tick.metric,
          running: tick.running,
          pending: tick.pending,
          decision: tick.decision,
          launched: tick.launched.length,
          killed: tick.killed.length,
        }
        : null,
      lastMissing: this.#lastMissing
        ? {
          at: this.#lastMissing.at,
          tick: this.#lastMissing.tick,
          signal: this.#lastMissing.signal,
          reason: this.#lastMissing.reason,
        }
        : null,
      stopped: this.#stopped ?? null,
      serverTime: this.#now(),
    };
  }

  historyJson(): Record<string, unknown> {
    return {
      capacity: this.#history.capacity,
      points: this.#history.points(),
      decisions: this.#history.decisions(),
    };
  }

  health(): { ok: boolean; reason: string } {
    const now = this.#now();
    if (this.#stopped) return { ok: false, reason: `loop stopped (${this.#stopped.reason})` };
    const standby = this.#opts.state().standby;
    // A standby's loop has not started: it starts when this instance takes over.
    if (standby !== undefined) return { ok: true, reason: `standby: ${standby}` };
    const beat = this.#lastBeat ?? this.#loopStartedAt ?? this.#createdAt;
    const quiet = now - beat;
    if (quiet > this.#staleAfterMs) {
      return {
        ok: false,
        reason: this.#lastBeat === undefined
          ? `no tick since the server started ${seconds(quiet)} s ago`
          : `no tick for ${seconds(quiet)} s (limit ${seconds(this.#staleAfterMs)} s)`,
      };
    }
    const connection = this.#connection;
    if (connection && !connection.up && now - connection.since > this.#staleAfterMs) {
      return { ok: false, reason: `Mesos disconnected for ${seconds(now - connection.since)} s` };
    }
    const starved = connection ? this.#starvedFor(now) : undefined;
    if (starved && starved.ms > this.#offerWaitLimitMs) {
      const n = starved.pending;
      return {
        ok: false,
        reason: `${n} task${n > 1 ? "s" : ""} waiting for offers for ${seconds(starved.ms)} s, ` +
          `none starting (limit ${seconds(this.#offerWaitLimitMs)} s)`,
      };
    }
    return {
      ok: true,
      reason: this.#lastBeat === undefined
        ? "waiting for the first tick"
        : `last tick ${seconds(quiet)} s ago`,
    };
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Compares SHA-256 digests in constant time, so neither content nor length leaks. */
function authorized(req: Request, url: URL, want: Uint8Array): boolean {
  const header = req.headers.get("authorization");
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const given = m?.[1] ?? url.searchParams.get("token");
  if (given === null) return false;
  return timingSafeEqual(digest(given), want);
}

function hostOf(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host);
  return m ? m[1] : host;
}

/** False for a browser request sent from another origin (no CSRF on pause/resume). */
function sameOrigin(req: Request): boolean {
  const site = req.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.get("origin");
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.get("host");
  } catch {
    return false;
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

function secure(headers: Record<string, string>): Headers {
  return new Headers({ ...SECURITY_HEADERS, ...headers });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: secure({
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    }),
  });
}

/** Longest piece of request data (an error about a request) that reaches the log. */
const MAX_LOGGED_REQUEST_CHARS = 200;

/**
 * Request data made fit for the log: tokens in query strings removed, control characters
 * escaped, cut at {@linkcode MAX_LOGGED_REQUEST_CHARS}.
 */
export function forLog(text: string): string {
  const clean = text.replace(/([?&]token=)[^&\s'"]*/gi, "$1(redacted)");
  const escaped = JSON.stringify(clean).slice(1, -1);
  return escaped.length > MAX_LOGGED_REQUEST_CHARS
    ? `${escaped.slice(0, MAX_LOGGED_REQUEST_CHARS)}… (${
      escaped.length - MAX_LOGGED_REQUEST_CHARS
    } more cut)`
    : escaped;
}

function jsonResponse(body: string, status = 200): Response {
  return new Response(body, {
    status,
    headers: secure({
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
    }),
  });
}

function methodNotAllowed(allow: string): Response {
  return text(405, "method not allowed\n", { allow });
}
