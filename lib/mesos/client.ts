/**
 * The HTTP side of the v1 Scheduler API: one long-lived SUBSCRIBE stream (RecordIO-framed events)
 * and one request per call, carrying the `Mesos-Stream-Id` of the current subscription. It follows
 * `307` redirects to the leader, retries `503` and connection errors with capped exponential
 * backoff and jitter, and treats a stream silent for max(2 × heartbeat, floor) as dead: it then
 * re-subscribes with the same FrameworkID. It re-subscribes only when the subscription is gone (the
 * stream closed or silent, a call answered 403 or 307); a 400 says that one call was wrong, so it
 * fails that call (the caller logs and counts it) and the stream stays. What the events mean is
 * the framework's business
 * (`framework.ts`); this module only keeps the connection.
 * @module
 */

import { type ContentType, decodeEvent, encodeCall, mediaType } from "./codec.ts";
import type { ClientHandlers, SchedulerConnection } from "./connection.ts";
import type { Call, Id } from "./messages.ts";
import { RecordIODecoder } from "./recordio.ts";
import type { LogFn } from "../log.ts";
import { readBodyCapped } from "../bounded_read.ts";

/** Settings of {@linkcode SchedulerClient}. */
export interface ClientOptions {
  /** The master to try now (`http(s)://host:port`); asked again before every (re)subscribe. */
  readonly leader: () => string | undefined;
  /** Called after a master failed to answer, so a list of masters can move on. */
  readonly leaderFailed?: (url: string) => void;
  readonly contentType: ContentType;
  readonly maxFrameBytes: number;
  /** HTTP basic auth. The secret never appears in logs or errors. */
  readonly credentials?: { readonly principal: string; readonly secret: string };
  /** PEM text of a CA certificate for https masters. */
  readonly caCert?: string;
  /** Floor of the heartbeat watchdog in ms (default 15000). */
  readonly heartbeatFloorMs?: number;
  /** Backoff bounds in ms (default 500 and 15000). */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
  readonly log: LogFn;
}

/** A call the master refused; `status` is the HTTP status. */
export class CallError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "CallError";
  }
}

/** Resolves a `Location` header (which may lack a scheme) against the master in use. */
export function resolveLocation(location: string, current: string): string {
  let loc = location.trim();
  if (!/^[a-z]+:\/\//i.test(loc) && !loc.startsWith("//") && !loc.startsWith("/")) loc = `//${loc}`;
  const url = new URL(loc, current);
  return `${url.protocol}//${url.host}`;
}

/** Capped exponential backoff with full jitter: attempt 0 → up to `initial` ms. */
export function backoffDelay(attempt: number, initial: number, max: number, random = Math.random) {
  const cap = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * Keeps a subscription to the leading master alive and sends calls on it.
 *
 * @example
 * ```ts
 * const client = new SchedulerClient(options, handlers);
 * client.start();
 * await client.call({ type: "REVIVE", revive: {} });
 * await client.close();
 * ```
 */
export class SchedulerClient implements SchedulerConnection {
  readonly #opts: ClientOptions;
  readonly #handlers: ClientHandlers;
  readonly #http?: Deno.HttpClient;
  #closed = false;
  #loop?: Promise<void>;
  #stream?: AbortController;
  #streamId?: string;
  #leader?: string;
  #frameworkId?: Id;
  #wake?: () => void;
  /** Reconnects after the first subscription, for metrics. */
  reconnects = 0;

  constructor(options: ClientOptions, handlers: ClientHandlers) {
    this.#opts = options;
    this.#handlers = handlers;
    if (options.caCert) this.#http = Deno.createHttpClient({ caCerts: [options.caCert] });
  }

  /** True while a subscription is open. */
  get connected(): boolean {
    return this.#streamId !== undefined;
  }

  /** The master of the open subscription. */
  get leader(): string | undefined {
    return this.#leader;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Ends the subscription for good (no TEARDOWN: tasks keep running, within failover_timeout). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stream?.abort();
    this.#wake?.();
    await this.#loop;
    this.#http?.close();
  }

  /** Drops the current stream and re-subscribes (used when a call shows the stream is stale). */
  reconnect(reason: string): void {
    if (this.#stream && !this.#stream.signal.aborted) {
      this.#opts.log("warn", `mesos: dropping the stream: ${reason}`);
      this.#stream.abort();
    }
  }

  /** Sends one call on the current subscription; resolves on 202, throws CallError otherwise. */
  async call(call: Omit<Call, "framework_id">): Promise<void> {
    const leader = this.#leader;
    const streamId = this.#streamId;
    if (!leader || !streamId || !this.#frameworkId) {
      throw new CallError(`mesos: not subscribed, cannot send ${call.type}`, 0);
    }
    const body = encodeCall({ ...call, framework_id: this.#frameworkId }, this.#opts.contentType);
    let response: Response;
    try {
      response = await fetch(`${leader}/api/v1/scheduler`, {
        method: "POST",
        headers: { ...this.#headers(), "Mesos-Stream-Id": streamId },
        body: new Uint8Array(body),
        redirect: "manual",
        client: this.#http,
      });
    } catch (err) {
      throw new CallError(`mesos: ${call.type} failed: ${(err as Error).message}`, 0);
    }
    const text = await readBodyCapped(response, ERROR_BODY_MAX_BYTES);
    if (response.status === 202 || response.status === 200) return;
    const detail = text.trim().split("\n")[0].slice(0, 200);
    if (response.status === 307 || response.status === 403) {
      // The leader moved or our subscription is gone: subscribe again. (A 400 is about this call
      // only; re-subscribing would not make it right.)
      this.reconnect(`${call.type} answered ${response.status}`);
    }
    throw new CallError(
      `mesos: ${call.type} answered ${response.status}${detail ? `: ${detail}` : ""}`,
      response.status,
    );
  }

  #headers(): Record<string, string> {
    const type = mediaType(this.#opts.contentType);
    const headers: Record<string, string> = { "Content-Type": type, "Accept": type };
    const c = this.#opts.credentials;
    if (c) headers.Authorization = `Basic ${btoa(`${c.principal}:${c.secret}`)}`;
    return headers;
  }

  async #run(): Promise<void> {
    const backoff = this.#opts.backoffMs ?? { initial: 500, max: 15_000 };
    let attempt = 0;
    let subscribedOnce = false;
    while (!this.#closed) {
      let master = this.#opts.leader();
      let redirects = 0;
      let outcome: "subscribed" | "failed" = "failed";
      while (master && !this.#closed) {
        const result = await this.#subscribe(master, subscribedOnce);
        if (result.kind === "redirect" && redirects++ < 5) {
          this.#opts.log("info", `mesos: ${master} is not the leader; following to ${result.to}`);
          master = result.to;
          continue;
        }
        if (result.kind === "ended") {
          outcome = "subscribed";
          subscribedOnce = true;
        } else if (result.kind === "failed") {
          this.#opts.leaderFailed?.(master);
          this.#opts.log("warn", `mesos: subscribe to ${master} failed: ${result.reason}`);
        }
        break;
      }
      if (!master && !this.#closed) this.#opts.log("warn", "mesos: no leading master known yet");
      if (this.#closed) break;
      attempt = outcome === "subscribed" ? 0 : attempt + 1;
      await this.#sleep(backoffDelay(attempt, backoff.initial, backoff.max));
    }
  }

  async #subscribe(
    master: string,
    again: boolean,
  ): Promise<
    { kind: "redirect"; to: string } | { kind: "failed"; reason: string } | { kind: "ended" }
  > {
    const info = this.#handlers.frameworkInfo();
    const call: Call = {
      type: "SUBSCRIBE",
      subscribe: { framework_info: info },
      ...(info.id ? { framework_id: info.id } : {}),
    };
    const stream = new AbortController();
    this.#stream = stream;
    let response: Response;
    try {
      response = await fetch(`${master}/api/v1/scheduler`, {
        method: "POST",
        headers: this.#headers(),
        body: new Uint8Array(encodeCall(call, this.#opts.contentType)),
        redirect: "manual",
        signal: stream.signal,
        client: this.#http,
      });
    } catch (err) {
      return { kind: "failed", reason: (err as Error).message.split("\n")[0] };
    }
    if (response.status === 307) {
      await response.body?.cancel();
      const location = response.headers.get("Location");
      if (!location) return { kind: "failed", reason: "307 without Location" };
      return { kind: "redirect", to: resolveLocation(location, master) };
    }
    if (response.status !== 200) {
      const text = (await readBodyCapped(response, ERROR_BODY_MAX_BYTES)).trim().split("\n")[0]
        .slice(0, 200);
      const why = response.status === 503 ? "503 (no leader elected yet)" : `${response.status}`;
      return { kind: "failed", reason: `${why}${text ? `: ${text}` : ""}` };
    }
    const streamId = response.headers.get("Mesos-Stream-Id");
    if (!streamId || !response.body) {
      await response.body?.cancel();
      return { kind: "failed", reason: "200 without Mesos-Stream-Id" };
    }
    const reason = await this.#consume(master, streamId, response.body, stream, again);
    this.#streamId = undefined;
    if (!this.#closed) this.#handlers.onDisconnected(reason);
    return { kind: "ended" };
  }

  /** Reads events until the stream ends, breaks, or goes silent; returns why it ended. */
  async #consume(
    master: string,
    streamId: string,
    body: ReadableStream<Uint8Array>,
    stream: AbortController,
    again: boolean,
  ): Promise<string> {
    const decoder = new RecordIODecoder(this.#opts.maxFrameBytes);
    const floor = this.#opts.heartbeatFloorMs ?? 15_000;
    let silenceMs = floor;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let why = "stream closed by the master";
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        why = `no event for ${silenceMs / 1000} s (heartbeats lost)`;
        stream.abort();
      }, silenceMs);
    };
    arm();
    const reader = body.getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const record of decoder.push(value)) {
          const event = decodeEvent(record, this.#opts.contentType);
          arm();
          if (event.type === "SUBSCRIBED" && event.subscribed) {
            const hb = clampHeartbeat(event.subscribed.heartbeat_interval_seconds);
            silenceMs = Math.max(2 * hb * 1000, floor);
            arm();
            this.#frameworkId = event.subscribed.framework_id;
            this.#leader = master;
            this.#streamId = streamId;
            if (again) this.reconnects++;
            this.#handlers.onConnected({
              leader: master,
              frameworkId: event.subscribed.framework_id.value,
              heartbeatSeconds: hb,
            });
          }
          this.#handlers.onEvent(event);
        }
      }
    } catch (err) {
      if (!stream.signal.aborted) why = `stream broken: ${(err as Error).message.split("\n")[0]}`;
      else if (this.#closed) why = "closed";
    } finally {
      clearTimeout(timer);
      stream.abort();
      reader.cancel().catch(() => {});
    }
    return why;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

/** Most bytes read of a master's error answer: its first line is all a log shows. */
const ERROR_BODY_MAX_BYTES = 4 * 1024;
/** Longest heartbeat interval believed from a master (an hour): the watchdog's timer must hold. */
const MAX_HEARTBEAT_SECONDS = 3600;
/** Mesos's default heartbeat interval, for a master that sends none (or nonsense). */
const DEFAULT_HEARTBEAT_SECONDS = 15;

/**
 * The heartbeat interval a master announced, kept within (0, {@linkcode MAX_HEARTBEAT_SECONDS}]:
 * a huge one would overflow the watchdog's timer, which then fires at once.
 */
export function clampHeartbeat(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) {
    return DEFAULT_HEARTBEAT_SECONDS;
  }
  return Math.min(seconds, MAX_HEARTBEAT_SECONDS);
}
