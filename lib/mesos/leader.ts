/**
 * Finding the leading Mesos master for `--mesos-master`.
 *
 * - `http(s)://host:port[,http(s)://host:port...]`: a fixed list. The first entry is tried first;
 *   {@linkcode LeaderDetector.next} moves on after a master failed (the scheduler client follows
 *   `307` redirects to the real leader by itself).
 * - `zk://host:port[,host:port...]/path`: Mesos masters contend in ZooKeeper; each one holds an
 *   ephemeral sequential znode under `path`, and the one named `json.info_<seq>` with the lowest
 *   sequence number leads. Its data is a JSON `MasterInfo`. The detector keeps a child watch on
 *   `path` (and a data watch on the leader's znode), re-reads when they fire, and reports changes.
 *   When ZooKeeper is unreachable it retries with capped exponential backoff and keeps the last
 *   leader it saw, since the master itself may well still be up.
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import type { LogFn } from "../log.ts";
import { type BackoffBounds, backoffDelay } from "./backoff.ts";
import type { MasterInfo } from "./messages.ts";
import { parseConnectString, ZkClient, ZkError } from "./zk.ts";

/** A parsed `--mesos-master`. */
export type MasterSpec =
  | { readonly kind: "http"; readonly urls: readonly string[] }
  | {
    readonly kind: "zk";
    /** `host:port,host:port` as ZooKeeper clients take it. */
    readonly connectString: string;
    /** The znode under which masters register, e.g. `/mesos`. */
    readonly path: string;
  };

/**
 * A bad `--mesos-master`. The message is one line and leaves the option name out, because the
 * option parser puts it in front (`--mesos-master: <message>`); `option` names it for others.
 */
export class MasterSpecError extends Error {
  readonly option = "--mesos-master";
  constructor(message: string) {
    super(message);
    this.name = "MasterSpecError";
  }
}

const FORMS = "expected http(s)://host:port[,http(s)://host:port...] or " +
  "zk://host:port[,host:port...]/path";

/**
 * Parses `--mesos-master`. Pure; throws a {@linkcode MasterSpecError} with a one-line message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseMasterSpec("zk://10.0.0.1:2181,10.0.0.2:2181/mesos"), {
 *   kind: "zk",
 *   connectString: "10.0.0.1:2181,10.0.0.2:2181",
 *   path: "/mesos",
 * });
 * assert.deepEqual(parseMasterSpec("http://m1:5050,http://m2:5050"), {
 *   kind: "http",
 *   urls: ["http://m1:5050", "http://m2:5050"],
 * });
 * ```
 */
export function parseMasterSpec(spec: string): MasterSpec {
  const text = spec.trim();
  if (text === "") throw new MasterSpecError(`empty; ${FORMS}`);
  if (/\s/.test(text)) throw new MasterSpecError(`"${spec}" contains white space; ${FORMS}`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)?.[1].toLowerCase();
  if (scheme === "zk") return parseZkSpec(text);
  if (scheme === "http" || scheme === "https") return parseHttpSpec(text);
  if (scheme === "file") {
    throw new MasterSpecError(`"${text}": file:// specs are not supported; ${FORMS}`);
  }
  if (scheme !== undefined) {
    throw new MasterSpecError(`"${text}": unsupported scheme "${scheme}://"; ${FORMS}`);
  }
  throw new MasterSpecError(`"${text}" has no scheme; ${FORMS}`);
}

function parseZkSpec(text: string): MasterSpec {
  const rest = text.slice("zk://".length);
  const slash = rest.indexOf("/");
  const hosts = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash);
  if (hosts.includes("@")) {
    throw new MasterSpecError(
      `"${redact(text)}": ZooKeeper authentication (zk://user:pass@...) is not supported`,
    );
  }
  if (/[?#]/.test(rest)) {
    throw new MasterSpecError(`"${text}": a zk:// spec has no query or fragment`);
  }
  if (hosts === "") throw new MasterSpecError(`"${text}": no ZooKeeper servers; ${FORMS}`);
  let servers;
  try {
    servers = parseConnectString(hosts);
  } catch (err) {
    throw new MasterSpecError((err as Error).message);
  }
  if (path === "" || path === "/") {
    throw new MasterSpecError(`"${text}": missing the znode path (e.g. zk://host:2181/mesos)`);
  }
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  for (const part of trimmed.split("/").slice(1)) {
    if (part === "" || part === "." || part === "..") {
      throw new MasterSpecError(`"${text}": bad znode path "${path}"`);
    }
  }
  const connectString = servers
    .map((s) => (s.host.includes(":") ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`))
    .join(",");
  return { kind: "zk", connectString, path: trimmed };
}

function parseHttpSpec(text: string): MasterSpec {
  const urls: string[] = [];
  for (const raw of text.split(",")) {
    if (raw === "") throw new MasterSpecError(`"${text}" has an empty entry`);
    if (!/^https?:\/\//i.test(raw)) {
      throw new MasterSpecError(
        `"${raw}" in "${text}": every master needs http:// or https://`,
      );
    }
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new MasterSpecError(`"${raw}" is not a valid URL`);
    }
    if (url.hostname === "") throw new MasterSpecError(`"${raw}" has no host`);
    if (url.username !== "" || url.password !== "") {
      throw new MasterSpecError(
        `"${redact(raw)}": put credentials in --mesos-principal/--mesos-secret, not in the URL`,
      );
    }
    if (url.pathname !== "/" || url.search !== "" || url.hash !== "") {
      throw new MasterSpecError(`"${raw}": a master URL is scheme://host:port with no path`);
    }
    const base = `${url.protocol}//${url.host}`;
    if (!urls.includes(base)) urls.push(base);
  }
  return { kind: "http", urls };
}

/** Hides `user:pass@` in messages. */
function redact(text: string): string {
  return text.replace(/\/\/[^/@]*@/, "//***@");
}

/**
 * The name of the leader's znode among `children` of the Mesos path: the `json.info_<digits>`
 * entry with the lowest sequence number. Other entries (`log_replicas`, protobuf `info_*` nodes
 * of old masters) are ignored. Pure.
 */
export function pickLeaderZnode(children: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestSeq = 0n;
  for (const name of children) {
    const m = /^json\.info_(\d+)$/.exec(name);
    if (!m) continue;
    const seq = BigInt(m[1]);
    if (best === undefined || seq < bestSeq) {
      best = name;
      bestSeq = seq;
    }
  }
  return best;
}

/**
 * The leader URL (`http://host:port`) from a MasterInfo, given as the parsed JSON or its text.
 * Host: `address.hostname`, else `hostname`, else `address.ip`, else `ip` (a uint32 holding the
 * IPv4 address in network byte order, as Mesos writes it). Port: `address.port`, else `port`.
 * Pure; throws a one-line Error when no usable host or port is present.
 */
export function leaderFromMasterInfo(json: unknown, scheme: "http" | "https" = "http"): string {
  let value = json;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw new Error("MasterInfo is not valid JSON");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("MasterInfo is not a JSON object");
  }
  const info = value as Partial<Record<keyof MasterInfo, unknown>>;
  const address = typeof info.address === "object" && info.address !== null
    ? info.address as Record<string, unknown>
    : {};
  const host = nonEmpty(address.hostname) ?? nonEmpty(info.hostname) ?? nonEmpty(address.ip) ??
    ipFromUint32(info.ip);
  if (host === undefined) {
    throw new Error("MasterInfo has no address.hostname, hostname, address.ip or ip");
  }
  if (!/^[A-Za-z0-9._:%-]+$/.test(host)) throw new Error(`MasterInfo has a bad host "${host}"`);
  const port = validPort(address.port) ?? validPort(info.port);
  if (port === undefined) {
    const shown = JSON.stringify(address.port ?? info.port ?? null);
    throw new Error(`MasterInfo has no valid port (address.port or port; got ${shown})`);
  }
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${hostPart}:${port}`;
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function validPort(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : undefined;
}

function ipFromUint32(v: unknown): string | undefined {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0 || v > 0xffffffff) return undefined;
  // Network byte order stored in a little-endian uint32: the first octet is the lowest byte.
  return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24].join(".");
}

/** Settings of {@linkcode LeaderDetector}. */
export interface LeaderDetectorOptions {
  /** Where progress and trouble are reported (connects, retries, leader changes). */
  readonly log?: LogFn;
  /** Reconnect backoff for ZooKeeper in ms (default {@linkcode ZK_BACKOFF}). */
  readonly backoffMs?: BackoffBounds;
  /** ZooKeeper session timeout in ms (default 10000). */
  readonly sessionTimeoutMs?: number;
  /** ZooKeeper connect + handshake timeout per server in ms (default 5000). */
  readonly connectTimeoutMs?: number;
  /** Scheme of leader URLs found in ZooKeeper (default "http"). */
  readonly scheme?: "http" | "https";
  /** Time for backoffs and timeouts, here and in the ZooKeeper client (default system clock). */
  readonly clock?: Clock;
}

/** Default ZooKeeper reconnect bounds: quick after a blip, every 10 s at most in an outage. */
export const ZK_BACKOFF: BackoffBounds = { initial: 500, max: 10_000 };

/** Called with the new leader (undefined: none known) and the one before. */
export type LeaderListener = (leader: string | undefined, previous: string | undefined) => void;

/**
 * Knows the leading master and tells when it changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const d = new LeaderDetector("http://m1:5050,http://m2:5050");
 * const seen: (string | undefined)[] = [];
 * d.onChange((leader) => seen.push(leader));
 * d.start(); // for zk://, this starts watching ZooKeeper
 * assert.equal(await d.waitForLeader(30_000), "http://m1:5050");
 * assert.equal(d.next(), "http://m2:5050"); // after m1 failed to answer
 * assert.deepEqual(seen, ["http://m2:5050"]);
 * await d.close();
 * ```
 */
export class LeaderDetector {
  readonly spec: MasterSpec;
  readonly #opts: LeaderDetectorOptions;
  readonly #clock: Clock;
  readonly #listeners = new Set<LeaderListener>();
  readonly #stopWaiters = new Set<() => void>();
  #leader: string | undefined;
  #index = 0;
  #started = false;
  #closed = false;
  #client: ZkClient | undefined;
  #loop: Promise<void> = Promise.resolve();
  /** Aborted by close(): ends sleeps and waits at once. */
  readonly #closing = new AbortController();
  #refresh: (() => void) | undefined;

  /** Throws a {@linkcode MasterSpecError} for a bad spec. */
  constructor(spec: string | MasterSpec, opts: LeaderDetectorOptions = {}) {
    this.spec = typeof spec === "string" ? parseMasterSpec(spec) : spec;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    if (this.spec.kind === "http") this.#leader = this.spec.urls[0];
  }

  /** Starts watching ZooKeeper (a no-op for http lists). Returns at once; safe to call twice. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (this.spec.kind === "zk") this.#loop = this.#runZk(this.spec.connectString, this.spec.path);
  }

  /** The leader as far as known now. */
  current(): string | undefined {
    return this.#leader;
  }

  /** Calls `listener` on every change; returns a function that removes it. */
  onChange(listener: LeaderListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * After the current master failed: for an http list, moves to the next master (wrapping
   * around) and returns it; for zk, asks ZooKeeper again and returns the current leader.
   */
  next(): string | undefined {
    if (this.spec.kind === "http") {
      const urls = this.spec.urls;
      if (urls.length > 1) {
        this.#index = (this.#index + 1) % urls.length;
        this.#log("info", `mesos: trying master ${urls[this.#index]} next`);
        this.#set(urls[this.#index]);
      }
    } else {
      this.#refresh?.();
    }
    return this.#leader;
  }

  /** Resolves with the leader as soon as one is known; rejects after `timeoutMs` or on close. */
  waitForLeader(timeoutMs = 30_000): Promise<string> {
    if (this.#leader !== undefined) return Promise.resolve(this.#leader);
    return new Promise((resolve, reject) => {
      const timer = new AbortController();
      this.#clock.sleep(timeoutMs, timer.signal).then(() => {
        if (timer.signal.aborted) return;
        off();
        reject(new Error(`no leading Mesos master found within ${timeoutMs} ms`));
      });
      const unsubscribe = this.onChange((leader) => {
        if (leader === undefined) return;
        off();
        resolve(leader);
      });
      const stop = () => {
        off();
        reject(new Error("leader detection closed"));
      };
      this.#stopWaiters.add(stop);
      const off = () => {
        timer.abort();
        unsubscribe();
        this.#stopWaiters.delete(stop);
      };
    });
  }

  /** Stops watching and closes the ZooKeeper session. Never rejects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of this.#stopWaiters) stop();
    this.#stopWaiters.clear();
    this.#closing.abort();
    this.#refresh?.();
    await this.#client?.close();
    await this.#loop.catch(() => {});
  }

  #log(level: "debug" | "info" | "warn" | "error", message: string): void {
    this.#opts.log?.(level, message);
  }

  #set(leader: string | undefined): void {
    if (leader === this.#leader) return;
    const previous = this.#leader;
    this.#leader = leader;
    for (const l of [...this.#listeners]) {
      try {
        l(leader, previous);
      } catch (err) {
        this.#log("error", `mesos: leader listener failed: ${(err as Error).message}`);
      }
    }
  }

  async #runZk(connectString: string, path: string): Promise<void> {
    const backoff = this.#opts.backoffMs ?? ZK_BACKOFF;
    const delayFor = (attempt: number) => backoffDelay(attempt, backoff);
    const sleep = (ms: number) => this.#clock.sleep(ms, this.#closing.signal);
    let failures = 0; // failed connects in a row
    let shortSessions = 0; // sessions in a row that ended soon after they started
    while (!this.#closed) {
      let client: ZkClient;
      try {
        client = await ZkClient.connect(connectString, {
          sessionTimeoutMs: this.#opts.sessionTimeoutMs ?? 10_000,
          connectTimeoutMs: this.#opts.connectTimeoutMs ?? 5000,
          clock: this.#clock,
        });
      } catch (err) {
        if (this.#closed) break;
        const delay = delayFor(failures++);
        const kept = this.#leader ? `; keeping leader ${this.#leader}` : "";
        // Loud for the first attempts, then every tenth, so a long outage does not flood the log.
        const loud = failures <= 3 || failures % 10 === 0;
        this.#log(
          loud ? "warn" : "debug",
          `mesos: ZooKeeper unreachable: ${(err as Error).message}; retrying in ${delay} ms` +
            ` (attempt ${failures})${kept}`,
        );
        await sleep(delay);
        continue;
      }
      if (this.#closed) {
        await client.close();
        break;
      }
      if (failures > 0) {
        this.#log("info", `mesos: ZooKeeper reachable again after ${failures} failed attempts`);
      }
      failures = 0;
      this.#client = client;
      this.#log(
        "info",
        `mesos: connected to ZooKeeper ${client.server} (session 0x${client.sessionId}), ` +
          `watching ${path}`,
      );
      const began = this.#clock.now();
      const reason = await this.#watch(client, path);
      this.#client = undefined;
      await client.close();
      if (this.#closed) break;
      shortSessions = this.#clock.now() - began < backoff.max ? shortSessions + 1 : 0;
      const delay = delayFor(Math.max(0, shortSessions - 1));
      const kept = this.#leader ? `; keeping leader ${this.#leader} until it is known again` : "";
      this.#log(
        "warn",
        `mesos: ZooKeeper session ended: ${reason.message}; reconnecting in ${delay} ms${kept}`,
      );
      await sleep(delay);
    }
    this.#refresh = undefined;
  }

  /** Follows the leader on one session until it ends; returns why it ended. */
  async #watch(client: ZkClient, path: string): Promise<Error> {
    let dirty = true;
    let wake: (() => void) | undefined;
    const trigger = () => {
      dirty = true;
      wake?.();
    };
    this.#refresh = trigger;
    let ended: Error | undefined;
    client.closed.then((reason) => {
      ended ??= reason;
      wake?.();
    });
    let missingLogged = false;
    while (!this.#closed && ended === undefined) {
      if (!dirty) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      dirty = false;
      try {
        const outcome = await this.#read(client, path, trigger);
        if (outcome === "no-path") {
          if (!missingLogged) {
            this.#log("warn", `mesos: znode ${path} does not exist yet; waiting for masters`);
          }
          missingLogged = true;
        } else {
          missingLogged = false;
        }
      } catch (err) {
        if (err instanceof ZkError && err.code === "NO_NODE") {
          dirty = true; // the leader's znode vanished between the two reads
        } else {
          ended ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    }
    if (this.#refresh === trigger) this.#refresh = undefined;
    return ended ?? new Error("closed");
  }

  async #read(client: ZkClient, path: string, trigger: () => void): Promise<"ok" | "no-path"> {
    let children: string[];
    try {
      children = await client.getChildren(path, trigger);
    } catch (err) {
      if (!(err instanceof ZkError && err.code === "NO_NODE")) throw err;
      // Watch for the path to appear; if it appeared meanwhile, read again.
      if (await client.exists(path, trigger)) {
        trigger();
        return "ok";
      }
      this.#change(undefined, `no znode ${path}`);
      return "no-path";
    }
    const znode = pickLeaderZnode(children);
    if (znode === undefined) {
      this.#change(undefined, `no json.info_* znode under ${path}`);
      return "ok";
    }
    const data = await client.getData(`${path}/${znode}`, trigger);
    let url: string;
    try {
      url = leaderFromMasterInfo(new TextDecoder().decode(data), this.#opts.scheme ?? "http");
    } catch (err) {
      this.#log("error", `mesos: leader znode ${path}/${znode}: ${(err as Error).message}`);
      this.#change(undefined, `unreadable MasterInfo in ${path}/${znode}`);
      return "ok";
    }
    this.#change(url, `${path}/${znode}`);
    return "ok";
  }

  #change(leader: string | undefined, why: string): void {
    if (leader === this.#leader) return;
    if (leader === undefined) {
      this.#log("warn", `mesos: no leading master (${why})`);
    } else {
      const from = this.#leader ? ` (was ${this.#leader})` : "";
      this.#log("info", `mesos: leading master is ${leader}${from}, from ${why}`);
    }
    this.#set(leader);
  }
}
