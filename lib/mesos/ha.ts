/**
 * High availability of Relay.Mesos itself (`--ha-zk zk://host:2181[,host:2181]/path`): instances
 * of one framework elect a leader in ZooKeeper and keep the FrameworkID there, so that a standby
 * on another machine takes over the same framework and its tasks.
 *
 * Election (the ZooKeeper recipe): each instance creates an ephemeral sequential znode
 * `PATH/election/member_<seq>` holding its `$HOSTNAME:pid`; the lowest sequence leads. A standby
 * watches only the znode just below its own (no herd on a change) and looks again when it goes.
 * A standby whose session ends joins again with a new session. A leader whose session ends has
 * lost the lead (another instance may take over within the session timeout): it is told through
 * `onLost`, and must stop acting at once and leave its tasks to the next leader.
 *
 * The FrameworkID is the data of `PATH/framework_id`, written by the leader when Mesos gives it
 * one and read by every new leader before subscribing.
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import type { LogFn } from "../log.ts";
import { type BackoffBounds, backoffDelay } from "./backoff.ts";
import { CreateFlags, parseConnectString, ZkClient, ZkError } from "./zk.ts";

/** Where the election runs. */
export interface HaSpec {
  /** `host:port[,host:port]`. */
  readonly servers: string;
  /** The znode under which instances of this framework meet, e.g. `/relay-mesos`. */
  readonly path: string;
}

/** The ZooKeeper session timeout asked for: how long a dead leader blocks a takeover. */
export const HA_SESSION_TIMEOUT_MS = 4000;
/** Waits between attempts to reach ZooKeeper while not leading. */
const RETRY_MS: BackoffBounds = { initial: 500, max: 5000 };

/**
 * Parses `zk://host:port[,host:port]/path`.
 * @throws Error saying what is wrong
 */
export function parseHaSpec(text: string): HaSpec {
  const m = /^zk:\/\/([^/]+)(\/.*)$/.exec(text);
  if (!m) throw new Error(`expected zk://host:port[,host:port]/path, got "${text}"`);
  const [, servers, path] = m;
  if (servers.includes("@")) {
    throw new Error(`"${text}": ZooKeeper authentication is not supported`);
  }
  parseConnectString(servers);
  if (path === "/" || path.endsWith("/") || path.includes("//") || /[?#]/.test(path)) {
    throw new Error(`"${text}": bad znode path "${path}"`);
  }
  return { servers, path };
}

/** Settings of {@linkcode HaElection}. */
export interface HaOptions {
  readonly log: LogFn;
  /** What this instance writes into its election znode (default `hostname:pid`). */
  readonly id?: string;
  readonly sessionTimeoutMs?: number;
  /** Time for retries and the ZooKeeper client (default the system clock). */
  readonly clock?: Clock;
}

/**
 * One instance's part in the election.
 *
 * @example
 * ```ts
 * import type { LogFn } from "../log.ts";
 * async function leadOrWait(log: LogFn, stop: AbortSignal, die: (why: string) => void) {
 *   const ha = new HaElection(parseHaSpec("zk://zk1:2181/relay-mesos"), { log });
 *   if (await ha.lead(stop)) ha.onLost((reason) => die(`lost the lead: ${reason}`));
 *   // ... run as the leader until the end, then:
 *   await ha.close();
 * }
 * ```
 */
export class HaElection {
  readonly #spec: HaSpec;
  readonly #opts: HaOptions;
  #zk?: ZkClient;
  #leading = false;
  #closed = false;
  #lost?: (reason: string) => void;

  constructor(spec: HaSpec, opts: HaOptions) {
    this.#spec = spec;
    this.#opts = opts;
  }

  /** True while this instance holds the lead. */
  get leading(): boolean {
    return this.#leading;
  }

  /**
   * Joins the election and resolves true once this instance leads, or false when `signal`
   * aborts first. ZooKeeper being unreachable, or a session ending, only delays it.
   */
  async lead(signal: AbortSignal): Promise<boolean> {
    let attempt = 0;
    while (!signal.aborted && !this.#closed) {
      try {
        if (await this.#contend(signal)) return true;
      } catch (err) {
        const wait = backoffDelay(attempt++, RETRY_MS);
        this.#opts.log(
          "warn",
          `ha: ${(err as Error).message.split("\n")[0]}; trying again in ${wait} ms`,
        );
        await this.#zk?.close();
        this.#zk = undefined;
        await (this.#opts.clock ?? systemClock).sleep(wait, signal);
      }
    }
    return false;
  }

  /** Called once if the lead is lost (the ZooKeeper session ended while leading). */
  onLost(listener: (reason: string) => void): void {
    this.#lost = listener;
  }

  /** The FrameworkID kept in ZooKeeper, if any. */
  async loadFrameworkId(): Promise<string | undefined> {
    try {
      const text = new TextDecoder().decode(await this.#session().getData(this.#idPath())).trim();
      return text || undefined;
    } catch (err) {
      if (err instanceof ZkError && err.code === "NO_NODE") return undefined;
      throw err;
    }
  }

  /** Keeps the FrameworkID in ZooKeeper (leader only). */
  async saveFrameworkId(id: string): Promise<void> {
    if (!this.#leading) return;
    const zk = this.#session();
    try {
      await zk.create(this.#idPath(), id);
    } catch (err) {
      if (!(err instanceof ZkError && err.code === "NODE_EXISTS")) throw err;
      if ((await this.loadFrameworkId()) === id) return;
      await zk.delete(this.#idPath());
      await zk.create(this.#idPath(), id);
    }
  }

  /** Leaves the election (the election znode goes at once with the session). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#leading = false;
    await this.#zk?.close();
  }

  #idPath(): string {
    return `${this.#spec.path}/framework_id`;
  }

  #session(): ZkClient {
    if (!this.#zk || this.#zk.isClosed) {
      throw new ZkError("CONNECTION_LOSS", "ha: no ZooKeeper session");
    }
    return this.#zk;
  }

  /** One session's go at the election: true when leading, false when aborted. */
  async #contend(signal: AbortSignal): Promise<boolean> {
    const zk = await ZkClient.connect(this.#spec.servers, {
      sessionTimeoutMs: this.#opts.sessionTimeoutMs ?? HA_SESSION_TIMEOUT_MS,
      clock: this.#opts.clock ?? systemClock,
    });
    this.#zk = zk;
    const dir = `${this.#spec.path}/election`;
    await zk.mkdirp(dir);
    const me = await zk.create(
      `${dir}/member_`,
      // (Deno.hostname() would need --allow-sys, which the compiled binary does not have.)
      this.#opts.id ?? `${Deno.env.get("HOSTNAME") ?? "unknown-host"}:${Deno.pid}`,
      CreateFlags.EPHEMERAL_SEQUENTIAL,
    );
    const mine = me.slice(dir.length + 1);
    this.#opts.log("info", `ha: joined the election as ${mine} (session ${zk.sessionId})`);
    while (!signal.aborted) {
      const members = (await zk.getChildren(dir)).filter((c) => c.startsWith("member_")).sort(
        (a, b) => sequence(a) - sequence(b),
      );
      const at = members.indexOf(mine);
      if (at < 0) throw new ZkError("SESSION_EXPIRED", "ha: our election znode is gone");
      if (at === 0) {
        this.#leading = true;
        this.#opts.log("info", `ha: leading (${mine} is the lowest of ${members.length})`);
        zk.closed.then((why) => {
          if (!this.#leading || this.#closed) return;
          this.#leading = false;
          this.#lost?.(`ZooKeeper session ended: ${why.message}`);
        });
        return true;
      }
      const before = `${dir}/${members[at - 1]}`;
      let changed!: () => void;
      const gone = new Promise<"gone">((resolve) => (changed = () => resolve("gone")));
      if (!(await zk.exists(before, () => changed()))) continue;
      this.#opts.log("info", `ha: standby behind ${members[at - 1]} (${at} ahead)`);
      const why = await Promise.race([
        gone,
        zk.closed,
        new Promise<"aborted">((resolve) =>
          signal.addEventListener("abort", () => resolve("aborted"), { once: true })
        ),
      ]);
      if (why instanceof ZkError) throw why;
    }
    await zk.close();
    this.#zk = undefined;
    return false;
  }
}

function sequence(name: string): number {
  return Number(name.slice(name.lastIndexOf("_") + 1));
}
