/**
 * A small ZooKeeper client over `Deno.connect`, enough for Mesos leader detection and the HA
 * election: open a session, read children and data with one-shot watches, create and delete
 * znodes, keep the session alive with pings (on the injected `Clock`), and close it.
 *
 * Wire format (jute): every packet is a big-endian int32 length followed by the record. Ints are
 * int32, longs int64, booleans one byte, buffers and strings an int32 length (-1 for null) and the
 * bytes, vectors an int32 count and the items. A session starts with a ConnectRequest /
 * ConnectResponse pair without headers; later requests carry `{xid, type}` and replies
 * `{xid, zxid, err}`. The server answers in request order; xid -1 is a watch notification and
 * xid -2 a ping reply.
 *
 * Why our own client and not `npm:node-zookeeper-client`: tried again (1.1.3 on Deno 2.9.6) with
 * an explicit connect timeout around it, a refused connection gives no event and no error at all
 * (it walks its server list again and again in silence), so the timeout can only say "no session
 * within N ms"; this client says at once which server refused or was unreachable, as one typed
 * line (`CONNECTION_REFUSED` / `UNREACHABLE`), which the leader detector logs and backs off on.
 *
 * What this client deliberately does not do: resume a session on another server after the
 * connection drops (the session simply ends with `CONNECTION_LOSS` and the caller opens a new
 * one), authentication, ACLs other than world:anyone, chroot connect strings, multi-ops.
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";

/** What went wrong, for callers that branch on it. */
export type ZkErrorCode =
  | "CONNECTION_REFUSED"
  | "UNREACHABLE"
  | "CONNECTION_LOSS"
  | "SESSION_EXPIRED"
  | "NO_NODE"
  | "NODE_EXISTS"
  | "NOT_EMPTY"
  | "BAD_VERSION"
  | "NO_AUTH"
  | "CLOSED"
  | "PROTOCOL"
  | "SERVER";

/** A ZooKeeper failure with a one-line message. `zkCode` is the server's error number, if any. */
export class ZkError extends Error {
  constructor(
    readonly code: ZkErrorCode,
    message: string,
    readonly path?: string,
    readonly zkCode?: number,
  ) {
    super(message);
    this.name = "ZkError";
  }
}

/** Flags of {@linkcode ZkClient.create}; combine with `|`. */
export const CreateFlags = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
} as const;

/** A watch notification (or a session state change, with `type` "none"). */
export interface WatchEvent {
  readonly type: "none" | "created" | "deleted" | "dataChanged" | "childrenChanged" | "unknown";
  /** Session state: "connected", "disconnected", "expired", ... */
  readonly state: string;
  readonly path: string;
}

/** Called once when the watch set by a read fires. */
export type Watcher = (event: WatchEvent) => void;

/** Settings of {@linkcode ZkClient.connect}. */
export interface ZkClientOptions {
  /** Requested session timeout in ms; the server clamps it to [2, 20] × tickTime. Default 10000. */
  readonly sessionTimeoutMs?: number;
  /** Time allowed for TCP connect plus session handshake, per server, in ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /**
   * Time for the connect timeout, pings and the silence check (default the system clock). Its
   * `sleep` must really wait (a `VirtualClock`, which returns at once, would ping in a tight loop).
   */
  readonly clock?: Clock;
}

/** A `host:port` of a ZooKeeper server. */
export interface ZkServerAddress {
  readonly host: string;
  readonly port: number;
}

/** Shortest ping period, for very short sessions: more often would only load the server. */
const MIN_PING_MS = 100;

const OP = {
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  getChildren: 8,
  ping: 11,
  closeSession: -11,
} as const;

const XID_NOTIFICATION = -1;
const XID_PING = -2;
/** A larger frame is a protocol error (ZooKeeper's own jute.maxbuffer is about 1 MiB). */
const MAX_FRAME = 16 * 1024 * 1024;
const PERMS_ALL = 31;

const EVENT_TYPES: Record<number, WatchEvent["type"]> = {
  [-1]: "none",
  1: "created",
  2: "deleted",
  3: "dataChanged",
  4: "childrenChanged",
};

const STATES: Record<number, string> = {
  0: "disconnected",
  3: "connected",
  4: "authFailed",
  5: "connectedReadOnly",
  6: "saslAuthenticated",
  [-112]: "expired",
  7: "closed",
};

const SERVER_ERRORS: Record<number, string> = {
  [-1]: "system error",
  [-2]: "runtime inconsistency",
  [-3]: "data inconsistency",
  [-4]: "connection loss",
  [-5]: "marshalling error",
  [-6]: "unimplemented",
  [-7]: "operation timeout",
  [-8]: "bad arguments",
  [-100]: "API error",
  [-101]: "no node",
  [-102]: "not authorised",
  [-103]: "bad version",
  [-108]: "ephemeral znodes cannot have children",
  [-110]: "node exists",
  [-111]: "not empty",
  [-112]: "session expired",
  [-113]: "invalid callback",
  [-114]: "invalid ACL",
  [-115]: "authentication failed",
  [-118]: "session moved",
  [-119]: "server is read-only",
};

// ---------------------------------------------------------------------------------------------
// jute encoding

/** Builds one length-prefixed packet. */
class JuteWriter {
  #buf = new Uint8Array(128);
  #view = new DataView(this.#buf.buffer);
  #len = 4; // room for the length prefix

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  int(v: number): this {
    this.#room(4);
    this.#view.setInt32(this.#len, v);
    this.#len += 4;
    return this;
  }

  long(v: bigint): this {
    this.#room(8);
    this.#view.setBigInt64(this.#len, v);
    this.#len += 8;
    return this;
  }

  bool(v: boolean): this {
    this.#room(1);
    this.#buf[this.#len++] = v ? 1 : 0;
    return this;
  }

  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    this.#room(v.length);
    this.#buf.set(v, this.#len);
    this.#len += v.length;
    return this;
  }

  string(v: string): this {
    return this.buffer(new TextEncoder().encode(v));
  }

  /** The packet, length prefix included. */
  packet(): Uint8Array {
    this.#view.setInt32(0, this.#len - 4);
    return this.#buf.slice(0, this.#len);
  }
}

/** Reads one record; any overrun is a `PROTOCOL` error. */
class JuteReader {
  #at = 0;
  readonly #view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.#at;
  }

  #need(n: number): void {
    if (n < 0 || this.#at + n > this.bytes.length) {
      throw new ZkError("PROTOCOL", "malformed packet from ZooKeeper (record ends early)");
    }
  }

  int(): number {
    this.#need(4);
    const v = this.#view.getInt32(this.#at);
    this.#at += 4;
    return v;
  }

  long(): bigint {
    this.#need(8);
    const v = this.#view.getBigInt64(this.#at);
    this.#at += 8;
    return v;
  }

  bool(): boolean {
    this.#need(1);
    return this.bytes[this.#at++] !== 0;
  }

  buffer(): Uint8Array | null {
    const n = this.int();
    if (n === -1) return null;
    this.#need(n);
    const v = this.bytes.slice(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }

  string(): string {
    const b = this.buffer();
    return b === null ? "" : new TextDecoder().decode(b);
  }

  strings(): string[] {
    const n = this.int();
    if (n < 0) return [];
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string());
    return out;
  }
}

/** Splits a byte stream into length-prefixed frames. */
class FrameReader {
  #pending = new Uint8Array(0);
  readonly #chunk = new Uint8Array(64 * 1024);

  constructor(private readonly conn: Deno.Conn) {}

  /** The next frame's body, or null at end of stream. */
  async next(): Promise<Uint8Array | null> {
    while (true) {
      if (this.#pending.length >= 4) {
        const len = new DataView(this.#pending.buffer, this.#pending.byteOffset).getInt32(0);
        if (len < 0 || len > MAX_FRAME) {
          throw new ZkError("PROTOCOL", `bad frame length ${len} from ZooKeeper`);
        }
        if (this.#pending.length >= 4 + len) {
          const frame = this.#pending.slice(4, 4 + len);
          this.#pending = this.#pending.slice(4 + len);
          return frame;
        }
      }
      const n = await this.conn.read(this.#chunk);
      if (n === null) return null;
      const merged = new Uint8Array(this.#pending.length + n);
      merged.set(this.#pending);
      merged.set(this.#chunk.subarray(0, n), this.#pending.length);
      this.#pending = merged;
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

// ---------------------------------------------------------------------------------------------
// connect strings

/**
 * Parses `host:port[,host:port...]` (IPv6 hosts in brackets). The port is required, as the
 * ZooKeeper C client that Mesos uses requires it. Throws a one-line Error for anything else.
 */
export function parseConnectString(connectString: string): ZkServerAddress[] {
  const out: ZkServerAddress[] = [];
  if (connectString.includes("/")) {
    throw new Error(`bad ZooKeeper address list "${connectString}": no path allowed here`);
  }
  for (const raw of connectString.split(",")) {
    const entry = raw.trim();
    const bad = (why: string) => new Error(`bad ZooKeeper address "${entry}": ${why}`);
    if (entry === "") {
      throw new Error(`bad ZooKeeper address list "${connectString}": empty entry`);
    }
    let host: string;
    let portText: string | undefined;
    const v6 = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(entry);
    if (v6) {
      host = v6[1];
      portText = v6[2];
    } else {
      const parts = entry.split(":");
      if (parts.length > 2) throw bad("put IPv6 addresses in brackets ([::1]:2181)");
      host = parts[0];
      portText = parts[1];
    }
    if (host === "" || !/^[A-Za-z0-9._:-]+$/.test(host)) throw bad("bad host name");
    if (portText === undefined) throw bad("expected host:port");
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw bad("port must be a number from 1 to 65535");
    out.push({ host, port });
  }
  return out;
}

function formatAddress(a: ZkServerAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function describeConnectError(err: unknown): { refused: boolean; text: string } {
  if (err instanceof Deno.errors.ConnectionRefused) {
    return { refused: true, text: "connection refused" };
  }
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
    return { refused: false, text: `no permission to connect (${firstLine(err)})` };
  }
  if (err instanceof ZkError) return { refused: false, text: err.message };
  return { refused: false, text: firstLine(err) };
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0];
}

function serverError(op: string, path: string, code: number): ZkError {
  switch (code) {
    case -101:
      return new ZkError("NO_NODE", `no znode ${path}`, path, code);
    case -110:
      return new ZkError("NODE_EXISTS", `znode ${path} already exists`, path, code);
    case -111:
      return new ZkError("NOT_EMPTY", `znode ${path} has children`, path, code);
    case -103:
      return new ZkError("BAD_VERSION", `znode ${path} has another version`, path, code);
    case -102:
      return new ZkError("NO_AUTH", `not authorised to ${op} ${path}`, path, code);
    case -112:
      return new ZkError("SESSION_EXPIRED", "ZooKeeper session expired", path, code);
    case -4:
      return new ZkError("CONNECTION_LOSS", "lost the connection to ZooKeeper", path, code);
    default: {
      const name = SERVER_ERRORS[code] ?? "unknown error";
      return new ZkError("SERVER", `ZooKeeper ${op} ${path} failed: ${name} (${code})`, path, code);
    }
  }
}

function checkPath(path: string): void {
  if (!path.startsWith("/") || (path.length > 1 && path.endsWith("/")) || path.includes("//")) {
    throw new ZkError("SERVER", `bad znode path "${path}"`, path);
  }
}

// ---------------------------------------------------------------------------------------------
// the client

interface Pending {
  readonly xid: number;
  readonly op: string;
  readonly path: string;
  /** Runs synchronously in the reader, so watches are registered before the next frame. */
  readonly done: (err: number, body: JuteReader) => void;
  readonly fail: (err: ZkError) => void;
}

type WatchArg = boolean | Watcher | undefined;

/**
 * One ZooKeeper session on one server.
 *
 * @example
 * ```ts
 * async function masters(): Promise<string[]> {
 *   const zk = await ZkClient.connect("127.0.0.1:2181", { connectTimeoutMs: 2000 });
 *   try {
 *     return await zk.getChildren("/mesos", (e) => console.log(e.type, e.path));
 *   } finally {
 *     await zk.close();
 *   }
 * }
 * ```
 */
export class ZkClient {
  readonly #conn: Deno.Conn;
  readonly #frames: FrameReader;
  readonly #pending: Pending[] = [];
  readonly #dataWatchers = new Map<string, Set<Watcher>>();
  readonly #childWatchers = new Map<string, Set<Watcher>>();
  readonly #listeners = new Set<(e: WatchEvent) => void>();
  #xid = 1;
  #writing: Promise<void> = Promise.resolve();
  readonly #clock: Clock;
  #lastReceived: number;
  /** Aborted when the session ends: stops the ping loop. */
  readonly #ended = new AbortController();
  #reader: Promise<void> = Promise.resolve();
  #endReason: ZkError | undefined;
  #resolveClosed!: (reason: ZkError) => void;
  /** Settles (never rejects) with why the session ended, once it has. */
  readonly closed: Promise<ZkError>;

  private constructor(
    conn: Deno.Conn,
    frames: FrameReader,
    /** The server this session runs on. */
    readonly server: string,
    /** Session id as 16 hex digits. */
    readonly sessionId: string,
    /** The timeout the server granted, in ms. */
    readonly sessionTimeoutMs: number,
    clock: Clock,
  ) {
    this.#clock = clock;
    this.#lastReceived = clock.now();
    this.#conn = conn;
    this.#frames = frames;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /**
   * Opens a session on the first server of `connectString` that accepts one. Rejects with a
   * `ZkError` (`CONNECTION_REFUSED`, `UNREACHABLE`, `SESSION_EXPIRED`) naming every server tried.
   */
  static async connect(connectString: string, opts: ZkClientOptions = {}): Promise<ZkClient> {
    let servers: ZkServerAddress[];
    try {
      servers = parseConnectString(connectString);
    } catch (err) {
      throw new ZkError("UNREACHABLE", firstLine(err));
    }
    const timeoutMs = opts.connectTimeoutMs ?? 5000;
    const sessionTimeoutMs = opts.sessionTimeoutMs ?? 10_000;
    const failures: string[] = [];
    let allRefused = true;
    for (const server of servers) {
      try {
        return await ZkClient.#open(server, sessionTimeoutMs, timeoutMs, opts.clock ?? systemClock);
      } catch (err) {
        if (err instanceof ZkError && err.code === "SESSION_EXPIRED") throw err;
        const { refused, text } = describeConnectError(err);
        allRefused &&= refused;
        failures.push(`${formatAddress(server)}: ${text}`);
      }
    }
    const what = failures.length === 1
      ? `cannot reach ZooKeeper at ${failures[0]}`
      : `cannot reach any ZooKeeper server (${failures.join("; ")})`;
    throw new ZkError(allRefused ? "CONNECTION_REFUSED" : "UNREACHABLE", what);
  }

  static async #open(
    server: ZkServerAddress,
    sessionTimeoutMs: number,
    timeoutMs: number,
    clock: Clock,
  ): Promise<ZkClient> {
    const abort = new AbortController();
    let timedOut = false;
    const timer = new AbortController();
    clock.sleep(timeoutMs, timer.signal).then(() => {
      if (timer.signal.aborted) return;
      timedOut = true;
      abort.abort();
    });
    let conn: Deno.Conn | undefined;
    try {
      conn = await Deno.connect({ hostname: server.host, port: server.port, signal: abort.signal });
      const frames = new FrameReader(conn);
      const request = new JuteWriter()
        .int(0) // protocolVersion
        .long(0n) // lastZxidSeen
        .int(sessionTimeoutMs)
        .long(0n) // sessionId: new session
        .buffer(new Uint8Array(16)) // passwd
        .bool(false) // readOnly
        .packet();
      await writeAll(conn, request);
      const open = conn;
      const reply = await new Promise<Uint8Array | null>((resolve, reject) => {
        // The abort signal only covers connect(); closing the socket ends a hanging read.
        abort.signal.addEventListener("abort", () => {
          try {
            open.close();
          } catch { /* already closed */ }
        });
        frames.next().then(resolve, reject);
      });
      if (reply === null) {
        throw new ZkError("UNREACHABLE", "server closed the connection during the handshake");
      }
      const r = new JuteReader(reply);
      r.int(); // protocolVersion
      const granted = r.int();
      const id = r.long();
      r.buffer(); // passwd
      if (granted <= 0) {
        throw new ZkError("SESSION_EXPIRED", "ZooKeeper refused the session (expired)");
      }
      timer.abort();
      const hex = BigInt.asUintN(64, id).toString(16).padStart(16, "0");
      const client = new ZkClient(conn, frames, formatAddress(server), hex, granted, clock);
      client.#start();
      return client;
    } catch (err) {
      timer.abort();
      try {
        conn?.close();
      } catch { /* already closed */ }
      if (timedOut) {
        throw new ZkError("UNREACHABLE", `no answer within ${timeoutMs} ms`);
      }
      throw err;
    }
  }

  #start(): void {
    this.#lastReceived = this.#clock.now();
    this.#pinging();
    this.#reader = this.#readLoop();
  }

  /** Pings every third of the session timeout until the session ends. */
  async #pinging(): Promise<void> {
    const every = Math.max(MIN_PING_MS, Math.floor(this.sessionTimeoutMs / 3));
    const ended = this.#ended.signal;
    while (!ended.aborted) {
      await this.#clock.sleep(every, ended);
      if (!ended.aborted) this.#tick();
    }
  }

  #tick(): void {
    const silent = this.#clock.now() - this.#lastReceived;
    const limit = Math.floor((this.sessionTimeoutMs * 2) / 3);
    if (silent > limit) {
      this.#end(
        new ZkError("CONNECTION_LOSS", `ZooKeeper ${this.server} silent for ${silent} ms`),
      );
      return;
    }
    this.#send(new JuteWriter().int(XID_PING).int(OP.ping).packet());
  }

  async #readLoop(): Promise<void> {
    let reason: ZkError;
    try {
      while (true) {
        const frame = await this.#frames.next();
        if (frame === null) {
          reason = new ZkError(
            "CONNECTION_LOSS",
            `ZooKeeper ${this.server} closed the connection`,
          );
          break;
        }
        this.#lastReceived = this.#clock.now();
        this.#handle(frame);
        if (this.#endReason) return;
      }
    } catch (err) {
      if (this.#endReason) return; // we closed the socket ourselves
      reason = err instanceof ZkError
        ? err
        : new ZkError("CONNECTION_LOSS", `lost ZooKeeper ${this.server}: ${firstLine(err)}`);
    }
    this.#end(reason);
  }

  #handle(frame: Uint8Array): void {
    const r = new JuteReader(frame);
    const xid = r.int();
    r.long(); // zxid
    const err = r.int();
    if (xid === XID_PING) return;
    if (xid === XID_NOTIFICATION) {
      const type = r.int();
      const state = r.int();
      const path = r.string();
      this.#notify({
        type: EVENT_TYPES[type] ?? "unknown",
        state: STATES[state] ?? String(state),
        path,
      });
      return;
    }
    const p = this.#pending.shift();
    if (!p || p.xid !== xid) {
      throw new ZkError("PROTOCOL", `reply xid ${xid} out of order (expected ${p?.xid})`);
    }
    p.done(err, r);
  }

  #notify(event: WatchEvent): void {
    if (event.type === "none" && event.state === "expired") {
      this.#end(new ZkError("SESSION_EXPIRED", `ZooKeeper session 0x${this.sessionId} expired`));
      return;
    }
    const fire: Watcher[] = [];
    const take = (map: Map<string, Set<Watcher>>) => {
      const set = map.get(event.path);
      if (set) {
        map.delete(event.path);
        fire.push(...set);
      }
    };
    if (event.type === "created" || event.type === "dataChanged" || event.type === "deleted") {
      take(this.#dataWatchers);
    }
    if (event.type === "childrenChanged" || event.type === "deleted") take(this.#childWatchers);
    for (const w of new Set(fire)) safeCall(w, event);
    for (const l of this.#listeners) safeCall(l, event);
  }

  #send(packet: Uint8Array): void {
    const conn = this.#conn;
    this.#writing = this.#writing.then(() => writeAll(conn, packet)).catch((err) => {
      if (!this.#endReason) {
        this.#end(new ZkError("CONNECTION_LOSS", `write to ZooKeeper failed: ${firstLine(err)}`));
      }
    });
  }

  #request<T>(
    op: keyof typeof OP,
    path: string,
    body: (w: JuteWriter) => void,
    done: (err: number, r: JuteReader) => T,
  ): Promise<T> {
    if (this.#endReason) return Promise.reject(this.#endReason);
    const xid = this.#xid++;
    const w = new JuteWriter().int(xid).int(OP[op]);
    body(w);
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({
        xid,
        op,
        path,
        done: (err, r) => {
          try {
            resolve(done(err, r));
          } catch (e) {
            reject(e);
          }
        },
        fail: reject,
      });
      this.#send(w.packet());
    });
  }

  #watch(map: Map<string, Set<Watcher>>, path: string, watch: WatchArg): void {
    if (typeof watch !== "function") return;
    let set = map.get(path);
    if (!set) map.set(path, set = new Set());
    set.add(watch);
  }

  /** True once the session has ended (closed, expired or connection lost). */
  get isClosed(): boolean {
    return this.#endReason !== undefined;
  }

  /** Listens to every notification; returns a function that stops listening. */
  onEvent(listener: (e: WatchEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The children's names of `path`. With `watch` (a function, or `true` for the
   * {@linkcode onEvent} listeners only) a one-shot watch fires when the children change.
   */
  getChildren(path: string, watch?: WatchArg): Promise<string[]> {
    checkPath(path);
    return this.#request("getChildren", path, (w) => w.string(path).bool(!!watch), (err, r) => {
      if (err !== 0) throw serverError("getChildren", path, err);
      this.#watch(this.#childWatchers, path, watch);
      return r.strings();
    });
  }

  /** The data of `path`; `watch` fires when it changes or the znode goes away. */
  getData(path: string, watch?: WatchArg): Promise<Uint8Array> {
    checkPath(path);
    return this.#request("getData", path, (w) => w.string(path).bool(!!watch), (err, r) => {
      if (err !== 0) throw serverError("getData", path, err);
      this.#watch(this.#dataWatchers, path, watch);
      return r.buffer() ?? new Uint8Array(0);
    });
  }

  /** Whether `path` exists; `watch` fires when it is created, changed or deleted. */
  exists(path: string, watch?: WatchArg): Promise<boolean> {
    checkPath(path);
    return this.#request("exists", path, (w) => w.string(path).bool(!!watch), (err) => {
      if (err !== 0 && err !== -101) throw serverError("exists", path, err);
      this.#watch(this.#dataWatchers, path, watch);
      return err === 0;
    });
  }

  /**
   * Creates `path` (world-readable and writable) and returns the name the server gave it (with
   * the sequence suffix for `SEQUENTIAL`).
   */
  create(
    path: string,
    data: Uint8Array | string = new Uint8Array(0),
    flags: number = CreateFlags.PERSISTENT,
  ): Promise<string> {
    checkPath(path);
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    return this.#request(
      "create",
      path,
      (w) =>
        w.string(path).buffer(bytes).int(1).int(PERMS_ALL).string("world").string("anyone").int(
          flags,
        ),
      (err, r) => {
        if (err !== 0) throw serverError("create", path, err);
        return r.string();
      },
    );
  }

  /** Creates `path` and its missing parents as persistent, empty znodes. */
  async mkdirp(path: string): Promise<void> {
    checkPath(path);
    let at = "";
    for (const part of path.split("/").slice(1)) {
      at += `/${part}`;
      try {
        await this.create(at);
      } catch (err) {
        if (!(err instanceof ZkError && err.code === "NODE_EXISTS")) throw err;
      }
    }
  }

  /** Deletes `path` (any version unless `version` is given). */
  delete(path: string, version = -1): Promise<void> {
    checkPath(path);
    return this.#request("delete", path, (w) => w.string(path).int(version), (err) => {
      if (err !== 0) throw serverError("delete", path, err);
    });
  }

  /**
   * Ends the session (its ephemeral znodes go away at once) and the connection. Never rejects;
   * waits at most `timeoutMs` for the server to confirm.
   */
  async close(timeoutMs = 2000): Promise<void> {
    if (!this.#endReason) {
      const confirmed = this.#request("closeSession", "", () => {}, () => {}).catch(() => {});
      const timer = new AbortController();
      await Promise.race([confirmed, this.#clock.sleep(timeoutMs, timer.signal)]);
      timer.abort();
      this.#end(new ZkError("CLOSED", "ZooKeeper client closed"));
    }
    await this.#reader;
    await this.#writing;
  }

  #end(reason: ZkError): void {
    if (this.#endReason) return;
    this.#endReason = reason;
    this.#ended.abort();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    for (const p of this.#pending.splice(0)) p.fail(reason);
    this.#dataWatchers.clear();
    this.#childWatchers.clear();
    this.#resolveClosed(reason);
  }
}

function safeCall<T>(fn: (v: T) => void, v: T): void {
  try {
    fn(v);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
