/**
 * The HTTP side of the v1 Scheduler API: one long-lived SUBSCRIBE stream (RecordIO-framed events)
 * and one request per call, carrying the `Mesos-Stream-Id` of the current subscription. What the
 * events mean is the framework's business (`framework.ts`); this module only keeps the connection.
 *
 * Invariants:
 * - Nothing waits without a bound, and every wait is on the injected `Clock`: a call's answer and a
 *   SUBSCRIBE's headers within `callTimeoutMs`, then events within max(2 × heartbeat, floor);
 *   a stream silent longer than that is dead.
 * - It re-subscribes (with the same FrameworkID) only when the subscription is gone: the stream
 *   closed, broke or went silent, or a call was answered 403 or 307. A 400 is about that one call:
 *   the call fails (the caller logs and counts it) and the stream stays.
 * - `307` redirects are followed to the leader; a redirect back to a master already tried in the
 *   same round is a loop. A master that times out, loops, or answers anything but a stream counts
 *   as failed (`leaderFailed`), so a list of masters moves on to the next one.
 * - Retries wait {@linkcode backoffDelay}; the attempt count starts over only after a
 *   subscription stayed up for `healthyAfterMs`, so a master that accepts and drops streams at
 *   once is retried ever more slowly.
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { type ContentType, decodeEvent, encodeCall, mediaType } from "./codec.ts";
import type { ClientHandlers, SchedulerConnection } from "./connection.ts";
import type { Call, Id } from "./messages.ts";
import { RecordIODecoder } from "./recordio.ts";
import { type BackoffBounds, backoffDelay } from "./backoff.ts";
import type { LogFn } from "../log.ts";
import { readBodyCapped } from "../bounded_read.ts";

/**
 * Default longest wait for the answer to a call or for the headers of a SUBSCRIBE: a master
 * answers within milliseconds, so 10 s is a master that is stuck, not one that is busy.
 */
export const CALL_TIMEOUT_MS = 10_000;
/**
 * Default time a subscription must stay up before the backoff starts over: two heartbeats at the
 * master's default interval (15 s), so a stream that is dropped right after SUBSCRIBED is not
 * retried at full speed for ever.
 */
export const HEALTHY_AFTER_MS = 30_000;
/** Default retry bounds: quick after a blip, at most one SUBSCRIBE every 15 s in an outage. */
export const CLIENT_BACKOFF: BackoffBounds = { initial: 500, max: 15_000 };
/**
 * Default floor of the heartbeat watchdog: a stream is dead after max(2 × heartbeat, floor) with
 * no event, so a master announcing very short heartbeats is still given 15 s.
 */
export const HEARTBEAT_FLOOR_MS = 15_000;
/** Redirects followed in one round: a leader is one hop away, more is a loop in disguise. */
const MAX_REDIRECTS = 5;

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
  /** Floor of the heartbeat watchdog in ms (default {@linkcode HEARTBEAT_FLOOR_MS}). */
  readonly heartbeatFloorMs?: number;
  /** Backoff bounds in ms (default {@linkcode CLIENT_BACKOFF}). */
  readonly backoffMs?: BackoffBounds;
  /** Longest wait for a call's answer or a SUBSCRIBE's headers (default {@linkcode CALL_TIMEOUT_MS}). */
  readonly callTimeoutMs?: number;
  /** Uptime after which a subscription resets the backoff (default {@linkcode HEALTHY_AFTER_MS}). */
  readonly healthyAfterMs?: number;
  /** Time for every timeout, watchdog and backoff (default the system clock). */
  readonly clock?: Clock;
  /** Jitter source of the backoff (default `Math.random`). */
  readonly random?: () => number;
  readonly log: LogFn;
}

/** A call the master refused; `status` is the HTTP status (0: no answer). */
export class CallError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "CallError";
  }
}

/**
 * Resolves a `Location` header (which may lack a scheme) against the master in use.
 *
 * @example
 * ```ts
 * import { resolveLocation } from "./client.ts";
 * resolveLocation("//10.0.0.2:5050/api/v1/scheduler", "http://m1:5050"); // "http://10.0.0.2:5050"
 * ```
 */
export function resolveLocation(location: string, current: string): string {
  let loc = location.trim();
  if (!/^[a-z]+:\/\//i.test(loc) && !loc.startsWith("//") && !loc.startsWith("/")) loc = `//${loc}`;
  const url = new URL(loc, current);
  return `${url.protocol}//${url.host}`;
}

/** How one SUBSCRIBE went. */
type SubscribeResult =
  | { kind: "redirect"; to: string }
  | { kind: "failed"; reason: string }
  /** The stream ran and ended; `upMs` since SUBSCRIBED (undefined: SUBSCRIBED never came). */
  | { kind: "ended"; upMs: number | undefined };

/**
 * Keeps a subscription to the leading master alive and sends calls on it.
 *
 * @example
 * ```ts
 * import type { ClientHandlers } from "./connection.ts";
 * async function revive(options: ClientOptions, handlers: ClientHandlers) {
 *   const client = new SchedulerClient(options, handlers);
 *   client.start(); // subscribes, and re-subscribes whenever the stream is gone
 *   await client.call({ type: "REVIVE", revive: {} }); // once handlers.onConnected has run
 *   await client.close();
 * }
 * ```
 */
export class SchedulerClient implements SchedulerConnection {
  readonly #opts: ClientOptions;
  readonly #handlers: ClientHandlers;
  readonly #http?: Deno.HttpClient;
  readonly #clock: Clock;
  readonly #callTimeoutMs: number;
  /** Aborted by close(): ends the backoff sleep at once. */
  readonly #closing = new AbortController();
  #loop?: Promise<void>;
  #stream?: AbortController;
  #streamId?: string;
  #leader?: string;
  #frameworkId?: Id;
  /** Reconnects after the first subscription, for metrics. */
  reconnects = 0;

  constructor(options: ClientOptions, handlers: ClientHandlers) {
    this.#opts = options;
    this.#handlers = handlers;
    this.#clock = options.clock ?? systemClock;
    this.#callTimeoutMs = options.callTimeoutMs ?? CALL_TIMEOUT_MS;
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

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Ends the subscription for good (no TEARDOWN: tasks keep running, within failover_timeout);
   * calls still in flight fail at once with a CallError.
   */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#stream?.abort();
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

  /**
   * Sends one call on the current subscription; resolves on 202, throws CallError otherwise
   * (status 0 when no answer came within `callTimeoutMs`).
   */
  async call(call: Omit<Call, "framework_id">): Promise<void> {
    const leader = this.#leader;
    const streamId = this.#streamId;
    if (!leader || !streamId || !this.#frameworkId) {
      throw new CallError(`mesos: not subscribed, cannot send ${call.type}`, 0);
    }
    const body = encodeCall({ ...call, framework_id: this.#frameworkId }, this.#opts.contentType);
    const abort = new AbortController();
    let timedOut = false;
    const cancel = this.#after(this.#callTimeoutMs, () => {
      timedOut = true;
      abort.abort();
    });
    // close() ends the calls in flight too: nothing waits on a master after the client is gone.
    const onClose = () => abort.abort();
    this.#closing.signal.addEventListener("abort", onClose, { once: true });
    if (this.#closing.signal.aborted) abort.abort();
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${leader}/api/v1/scheduler`, {
        method: "POST",
        headers: { ...this.#headers(), "Mesos-Stream-Id": streamId },
        body: new Uint8Array(body),
        redirect: "manual",
        signal: abort.signal,
        client: this.#http,
      });
      status = response.status;
      text = await readBodyCapped(response, ERROR_BODY_MAX_BYTES, abort.signal);
    } catch (err) {
      const why = timedOut
        ? `no answer within ${this.#callTimeoutMs / 1000} s`
        : this.#closing.signal.aborted
        ? "the client closed"
        : (err as Error).message.split("\n")[0];
      throw new CallError(`mesos: ${call.type} failed: ${why}`, 0);
    } finally {
      cancel();
      this.#closing.signal.removeEventListener("abort", onClose);
    }
    if (status === 202 || status === 200) return;
    const detail = text.trim().split("\n")[0].slice(0, 200);
    if (status === 307 || status === 403) {
      // The leader moved or our subscription is gone: subscribe again. (A 400 is about this call
      // only; re-subscribing would not make it right.)
      this.reconnect(`${call.type} answered ${status}`);
    }
    throw new CallError(
      `mesos: ${call.type} answered ${status}${detail ? `: ${detail}` : ""}`,
      status,
    );
  }

  #headers(): Record<string, string> {
    const type = mediaType(this.#opts.contentType);
    const headers: Record<string, string> = { "Content-Type": type, "Accept": type };
    const c = this.#opts.credentials;
    if (c) headers.Authorization = `Basic ${btoa(`${c.principal}:${c.secret}`)}`;
    return headers;
  }

  /** Runs `fire` after `ms` on the clock unless the returned function is called first. */
  #after(ms: number, fire: () => void): () => void {
    const cancelled = new AbortController();
    this.#clock.sleep(ms, cancelled.signal).then(() => {
      if (!cancelled.signal.aborted) fire();
    });
    return () => cancelled.abort();
  }

  async #run(): Promise<void> {
    const backoff = this.#opts.backoffMs ?? CLIENT_BACKOFF;
    const healthyAfterMs = this.#opts.healthyAfterMs ?? HEALTHY_AFTER_MS;
    let attempt = 0;
    let subscribedOnce = false;
    while (!this.#closed) {
      const first = this.#opts.leader();
      let master = first;
      const tried: string[] = [];
      let healthy = false;
      while (master && !this.#closed) {
        tried.push(master);
        const result = await this.#subscribe(master, subscribedOnce);
        if (this.#closed) break;
        if (result.kind === "redirect") {
          if (tried.includes(result.to) || tried.length > MAX_REDIRECTS) {
            this.#failed(first!, `redirect loop (${[...tried, result.to].join(" -> ")})`);
            break;
          }
          this.#opts.log("info", `mesos: ${master} is not the leader; following to ${result.to}`);
          master = result.to;
          continue;
        }
        if (result.kind === "failed") {
          this.#failed(master, result.reason);
        } else if (result.upMs === undefined) {
          this.#failed(master, "the stream ended before SUBSCRIBED");
        } else {
          subscribedOnce = true;
          healthy = result.upMs >= healthyAfterMs;
        }
        break;
      }
      if (!first && !this.#closed) this.#opts.log("warn", "mesos: no leading master known yet");
      if (this.#closed) break;
      attempt = healthy ? 0 : attempt + 1;
      await this.#clock.sleep(
        backoffDelay(attempt, backoff, this.#opts.random),
        this.#closing.signal,
      );
    }
  }

  #failed(master: string, reason: string): void {
    this.#opts.leaderFailed?.(master);
    this.#opts.log("warn", `mesos: subscribe to ${master} failed: ${reason}`);
  }

  async #subscribe(master: string, again: boolean): Promise<SubscribeResult> {
    const info = this.#handlers.frameworkInfo();
    const call: Call = {
      type: "SUBSCRIBE",
      subscribe: { framework_info: info },
      ...(info.id ? { framework_id: info.id } : {}),
    };
    const stream = new AbortController();
    this.#stream = stream;
    let timedOut = false;
    const cancel = this.#after(this.#callTimeoutMs, () => {
      timedOut = true;
      stream.abort();
    });
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
      const reason = timedOut
        ? `no answer within ${this.#callTimeoutMs / 1000} s`
        : (err as Error).message.split("\n")[0];
      return { kind: "failed", reason };
    } finally {
      cancel();
    }
    if (response.status === 307) {
      await response.body?.cancel();
      const location = response.headers.get("Location");
      if (!location) return { kind: "failed", reason: "307 without Location" };
      return { kind: "redirect", to: resolveLocation(location, master) };
    }
    if (response.status !== 200) {
      const text = await this.#errorText(response);
      const why = response.status === 503 ? "503 (no leader elected yet)" : `${response.status}`;
      return { kind: "failed", reason: `${why}${text ? `: ${text}` : ""}` };
    }
    const streamId = response.headers.get("Mesos-Stream-Id");
    if (!streamId || !response.body) {
      await response.body?.cancel();
      return { kind: "failed", reason: "200 without Mesos-Stream-Id" };
    }
    const { why, subscribedAt } = await this.#consume(
      master,
      streamId,
      response.body,
      stream,
      again,
    );
    const wasConnected = this.#streamId !== undefined;
    this.#streamId = undefined;
    if (!this.#closed && wasConnected) this.#handlers.onDisconnected(why);
    return {
      kind: "ended",
      upMs: subscribedAt === undefined ? undefined : this.#clock.now() - subscribedAt,
    };
  }

  /** The first line of an error answer's body, read within the call timeout. */
  async #errorText(response: Response): Promise<string> {
    const abort = new AbortController();
    const cancel = this.#after(this.#callTimeoutMs, () => abort.abort());
    try {
      return (await readBodyCapped(response, ERROR_BODY_MAX_BYTES, abort.signal)).trim()
        .split("\n")[0].slice(0, 200);
    } finally {
      cancel();
    }
  }

  /**
   * Reads events until the stream ends, breaks, or goes silent; returns why it ended and when
   * SUBSCRIBED came (clock ms), if it did.
   */
  async #consume(
    master: string,
    streamId: string,
    body: ReadableStream<Uint8Array>,
    stream: AbortController,
    again: boolean,
  ): Promise<{ why: string; subscribedAt?: number }> {
    const decoder = new RecordIODecoder(this.#opts.maxFrameBytes);
    const floor = this.#opts.heartbeatFloorMs ?? HEARTBEAT_FLOOR_MS;
    let silenceMs = floor;
    let subscribedAt: number | undefined;
    let why = "stream closed by the master";
    let cancel = () => {};
    const arm = () => {
      cancel();
      cancel = this.#after(silenceMs, () => {
        why = `no event for ${silenceMs / 1000} s (heartbeats lost)`;
        stream.abort();
      });
    };
    arm();
    const reader = body.getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const record of decoder.push(value)) {
          const event = decodeEvent(record, this.#opts.contentType);
          if (event.type === "SUBSCRIBED" && event.subscribed) {
            const hb = clampHeartbeat(event.subscribed.heartbeat_interval_seconds);
            silenceMs = Math.max(2 * hb * 1000, floor);
            subscribedAt = this.#clock.now();
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
          arm();
          this.#handlers.onEvent(event);
        }
      }
    } catch (err) {
      if (!stream.signal.aborted) why = `stream broken: ${(err as Error).message.split("\n")[0]}`;
      else if (this.#closed) why = "closed";
    } finally {
      cancel();
      stream.abort();
      reader.cancel().catch(() => {});
    }
    return { why, ...(subscribedAt !== undefined ? { subscribedAt } : {}) };
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
