/**
 * An in-process Mesos master for tests: serves `POST /api/v1/scheduler` on 127.0.0.1 following the
 * documented v1 Scheduler HTTP API (and the master's source where the docs are silent), in both
 * content types, with simulated agents that run launched tasks as real local processes.
 *
 * What it does, as Mesos does:
 * - 503 while electing, 307 (`Location: //host:port/api/v1/scheduler`) when another master leads,
 *   405 for non-POST, 400 without `Content-Type`, 415 for a type other than JSON/protobuf, 400 for
 *   a body that does not decode or validate, 406 when a SUBSCRIBE's `Accept` allows neither type
 *   (no `Accept` means JSON);
 * - SUBSCRIBE: 200, `Mesos-Stream-Id` (a fresh UUID), RecordIO-framed events in the negotiated
 *   type; first SUBSCRIBED (a new FrameworkID unless `framework_info.id` is given) or ERROR (invalid
 *   FrameworkInfo roles, removed framework); a newer subscription for the same framework closes
 *   the older stream after an ERROR "Framework failed over"; HEARTBEAT every `heartbeatSeconds`;
 * - other calls: 403 for an unknown or disconnected framework (the docs' 403; the master's source
 *   answers 400 for a never-seen FrameworkID), 400 for a missing or wrong `Mesos-Stream-Id`, else
 *   202;
 * - offers: one per agent with its unused cpus/mem/disk(/gpus) allocated to one of the framework's
 *   roles (`role: "*"` unless the agent is reserved through `roles`, `allocation_info.role` always);
 *   agents with GPUs only go to GPU_RESOURCES frameworks; nothing below cpus 0.01 and mem 32 is
 *   offered; DECLINE and the unused part of an ACCEPT install a filter (refuse_seconds, default
 *   5 s) that holds back offers that fit inside the filtered resources; SUPPRESS/REVIVE per role,
 *   REVIVE clears the role's filters; an agent with a `layout` offers its resources field for
 *   field (reservations, disks with sources, provider ids) and a task must be contained in them
 *   as a master checks it (same fields but the scalar, no more than offered, MOUNT disks whole);
 * - ACCEPT with invalid offers: TASK_DROPPED (PARTITION_AWARE) or TASK_LOST, REASON_INVALID_OFFERS;
 *   an invalid task: TASK_ERROR, REASON_TASK_INVALID; these master updates carry no uuid;
 * - a launched task runs `sh -c value` (or `value` with `arguments[1..]` when `shell: false`) with
 *   its environment variables, in its own process group; updates TASK_STARTING, TASK_RUNNING, then
 *   TASK_FINISHED / TASK_FAILED (or TASK_KILLING when the framework has TASK_KILLING_STATE, then
 *   TASK_KILLED after KILL), each with a fresh uuid, source SOURCE_EXECUTOR, agent_id, timestamp;
 *   per task only the oldest unacknowledged update is in flight and it is re-sent every
 *   `resendSeconds` until acknowledged (as the agent's status update manager does); containers
 *   are ignored (the command runs on the host);
 * - KILL: SIGTERM to the task's process group, SIGKILL after the KILL's `kill_policy` grace, else
 *   the TaskInfo's, else `killGraceSeconds`; KILL of an unknown
 *   task reconciles it; RECONCILE answers with the latest state (no uuid, SOURCE_MASTER,
 *   REASON_RECONCILIATION); an empty list covers every task not yet terminal-and-acknowledged;
 *   unknown tasks get TASK_GONE/TASK_UNKNOWN (PARTITION_AWARE) or TASK_LOST;
 * - a framework whose stream breaks is disconnected (its offers are removed, its calls get 403)
 *   and is torn down, tasks killed, after its `failover_timeout` (default 0); TEARDOWN likewise;
 * - `crash()` aborts every connection and stops listening; tasks keep running and their updates
 *   wait; `restart()` listens again on the same port and knows the frameworks and tasks.
 *
 * Faults a test can inject besides those: `breakStreams()` (a record cut off mid-frame then the
 * stream closed, a bad length line, a record that does not decode), `failCalls()` (the next calls
 * of a type answered with an error status, not carried out), `delayCalls()` (the next calls of a
 * type carried out late, so later calls overtake them), `refuseLaunches()` (tasks refused with
 * TASK_ERROR or TASK_DROPPED), `loseAcks()` (acknowledgements answered 202 and forgotten, so the
 * agent re-sends), `partitionAgent()` / `healPartition()` (TASK_UNREACHABLE, later the agent
 * back), `removeAgent()` (an agent lost: its offers rescinded, its tasks TASK_GONE or TASK_LOST
 * from the master and their processes killed), `addAgent()`.
 * @module
 */

import {
  type ContentType,
  contentTypeOf,
  decodeCall,
  encodeEvent,
  mediaType,
} from "../../lib/mesos/codec.ts";
import { encodeRecord } from "../../lib/mesos/recordio.ts";
import type {
  Attribute,
  Call,
  Event,
  FrameworkInfo,
  Offer,
  Resource,
  TaskInfo,
  TaskStateName,
  TaskStatus,
} from "../../lib/mesos/messages.ts";

export interface AgentResources {
  cpus: number;
  mem: number;
  disk: number;
  gpus?: number;
}

export interface TestAgent {
  id: string;
  hostname: string;
  resources: AgentResources;
  /** Roles the agent's resources are reserved for; absent: unreserved, offered to any role. */
  roles?: string[];
  /**
   * The agent's resources field for field, as a master describes them (reservations in either
   * format, disks with their source, provider ids): offered as they are, each less what tasks and
   * offers hold of it, and checked as a master checks containment: a task's share of one must
   * repeat every field but `scalar`, a MOUNT disk is taken whole. `resources` then holds their
   * sums by name (see {@linkcode layoutAgent}).
   */
  layout?: Resource[];
  /** The agent's attributes (e.g. `rack`), carried by its offers. */
  attributes?: Attribute[];
}

/** A {@linkcode TestAgent} with a `layout`; its `resources` are the layout's sums by name. */
export function layoutAgent(
  id: string,
  hostname: string,
  layout: Resource[],
  roles?: string[],
): TestAgent {
  const sums = zero();
  for (const r of layout) {
    if (r.type === "SCALAR" && (SCALAR_NAMES as readonly string[]).includes(r.name)) {
      sums[r.name as keyof Scalars] = round(sums[r.name as keyof Scalars] + (r.scalar?.value ?? 0));
    }
  }
  return { id, hostname, resources: sums, layout, ...(roles ? { roles } : {}) };
}

export interface TestMasterOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one, kept across `restart()`. */
  port?: number;
  /** Serve https with this certificate and key (PEM); the URL becomes `https://`. */
  tls?: { cert: string; key: string };
  agents?: TestAgent[];
  /** HEARTBEAT period and `heartbeat_interval_seconds` in SUBSCRIBED (default 15). */
  heartbeatSeconds?: number;
  /** Re-send period of unacknowledged status updates (default 1). */
  resendSeconds?: number;
  /** How long a KILLed task gets between SIGTERM and SIGKILL (default 3). */
  killGraceSeconds?: number;
  /** Largest task output kept per stream, in bytes (default 65536). */
  maxOutputBytes?: number;
  log?: (line: string) => void;
}

/** What a test can see of a task. */
export interface TaskView {
  taskId: string;
  frameworkId: string;
  agentId: string;
  name: string;
  /** Latest state (what reconciliation reports). */
  state: TaskStateName;
  pid?: number;
  exitCode?: number;
  /** Terminal and its terminal update acknowledged. */
  completed: boolean;
  stdout: string;
  stderr: string;
}

export interface FrameworkView {
  id: string;
  info: FrameworkInfo;
  connected: boolean;
  streamId?: string;
  contentType?: ContentType;
  roles: string[];
  suppressed: string[];
}

/** How `breakStreams()` breaks a subscription stream. */
export type StreamFault =
  /** Half of a record, then the stream closes (the master sees the framework disconnect). */
  | "mid-frame"
  /** A RecordIO length line that is not a number; the master keeps the stream open. */
  | "bad-length"
  /** A well-framed record that is not an Event in the stream's content type; stream kept open. */
  | "garbage";

/** One HTTP request the master answered. */
export interface AnsweredRequest {
  at: number;
  status: number;
  /** The call type, when the body decoded. */
  call?: Call["type"];
}

/** An UPDATE event the master sent (resends included). */
export interface SentUpdate {
  frameworkId: string;
  status: TaskStatus;
  at: number;
}

type Scalars = { cpus: number; mem: number; disk: number; gpus: number };
const SCALAR_NAMES = ["cpus", "mem", "disk", "gpus"] as const;
const TERMINAL = new Set<TaskStateName>([
  "TASK_FINISHED",
  "TASK_FAILED",
  "TASK_KILLED",
  "TASK_ERROR",
  "TASK_LOST",
  "TASK_DROPPED",
  "TASK_GONE",
  "TASK_GONE_BY_OPERATOR",
]);
/** Filters.refuse_seconds default (mesos.proto) and cap (scheduler HTTP API docs). */
const DEFAULT_REFUSE_SECONDS = 5;
const MAX_REFUSE_SECONDS = 365 * 24 * 3600;
const TICK_MS = 20;

interface Stream {
  id: string;
  frameworkId: string;
  ct: ContentType;
  controller: ReadableStreamDefaultController<Uint8Array>;
  open: boolean;
  nextHeartbeat: number;
}

interface Framework {
  id: string;
  info: FrameworkInfo;
  roles: string[];
  capabilities: Set<string>;
  suppressed: Set<string>;
  filters: Filter[];
  stream?: Stream;
  /** Set when the stream broke while this master was up: failover timeout running. */
  disconnectedAt?: number;
}

interface Filter {
  agentId: string;
  role: string;
  resources: Scalars;
  until: number;
}

interface OfferRecord {
  offer: Offer;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Scalars;
  /** For a layout agent: amount offered per resource identity ({@linkcode resourceKey}). */
  byKey?: Map<string, number>;
}

interface PendingUpdate {
  status: TaskStatus;
  lastSent: number;
}

interface TaskRecord {
  info: TaskInfo;
  frameworkId: string;
  agentId: string;
  resources: Scalars;
  /** For a layout agent: amount held per resource identity ({@linkcode resourceKey}). */
  byKey?: Map<string, number>;
  state: TaskStateName;
  pending: PendingUpdate[];
  completed: boolean;
  child?: Deno.ChildProcess;
  done?: Promise<void>;
  killRequested: boolean;
  killTimer?: ReturnType<typeof setTimeout>;
  exitCode?: number;
  stdout: string;
  stderr: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Starts a test master; `close()` it in a `finally`. */
export async function startTestMaster(opts: TestMasterOptions = {}): Promise<TestMaster> {
  const master = new TestMaster(opts);
  await master.listen();
  return master;
}

export class TestMaster {
  readonly #opts: Required<Omit<TestMasterOptions, "log" | "agents" | "tls">> & {
    tls?: { cert: string; key: string };
    log?: (line: string) => void;
  };
  readonly #agents: TestAgent[];
  #port: number;
  #server?: Deno.HttpServer;
  #abort?: AbortController;
  #ticker?: ReturnType<typeof setInterval>;
  #closed = false;
  #masterId = crypto.randomUUID();
  #leader?: string;
  #electing = false;
  #heartbeats = true;
  #nextFrameworkNo = 1;
  #nextOfferNo = 1;
  readonly #frameworks = new Map<string, Framework>();
  readonly #removed = new Set<string>();
  readonly #offers = new Map<string, OfferRecord>();
  readonly #tasks = new Map<string, TaskRecord>();
  /** Agents partitioned from the master (`partitionAgent()`). */
  readonly #partitioned = new Set<string>();

  // ---- observation hooks -------------------------------------------------------------------
  /** Every call that decoded, in arrival order (also the refused ones). */
  readonly calls: Call[] = [];
  /** Every event sent, per framework, in order (heartbeats and resends included). */
  readonly eventsSent: { frameworkId: string; event: Event }[] = [];
  readonly offersSent: Offer[] = [];
  readonly offersDeclined: string[] = [];
  readonly offersAccepted: string[] = [];
  readonly offersRescinded: string[] = [];
  /** TaskInfos of tasks that passed validation and were started. */
  readonly launchedTasks: TaskInfo[] = [];
  /** ACKNOWLEDGE calls per uuid (Base64), not counting those `loseAcks()` lost. */
  readonly acks = new Map<string, number>();
  /** Uuids of the ACKNOWLEDGE calls `loseAcks()` lost, in order. */
  readonly lostAcks: string[] = [];
  readonly updatesSent: SentUpdate[] = [];
  /** Number of successful SUBSCRIBE calls (SUBSCRIBED sent). */
  subscriptions = 0;
  /** Every request answered, in order, with its status (503s and injected faults included). */
  readonly answered: AnsweredRequest[] = [];
  /** Injected call faults: call type → status and how many more calls to refuse. */
  readonly #callFaults = new Map<
    Call["type"],
    { status: number; left: number; afterDoing: boolean }
  >();
  /** Injected call delays: call type → milliseconds and how many more calls to hold. */
  readonly #callDelays = new Map<Call["type"], { ms: number; left: number }>();
  /** Injected launch refusals: how many more tasks to refuse, and with which state. */
  #refusals = { left: 0, state: "TASK_ERROR" as "TASK_ERROR" | "TASK_DROPPED" };
  /** How many more ACKNOWLEDGE calls to answer 202 and then forget (lost in a failover). */
  #acksToLose = 0;

  constructor(opts: TestMasterOptions = {}) {
    this.#opts = {
      ...(opts.tls ? { tls: opts.tls } : {}),
      port: opts.port ?? 0,
      heartbeatSeconds: opts.heartbeatSeconds ?? 15,
      resendSeconds: opts.resendSeconds ?? 1,
      killGraceSeconds: opts.killGraceSeconds ?? 3,
      maxOutputBytes: opts.maxOutputBytes ?? 65536,
      log: opts.log,
    };
    this.#agents = (opts.agents ?? []).map((a) => ({ ...a, resources: { ...a.resources } }));
    this.#port = this.#opts.port;
  }

  /** `http://127.0.0.1:<port>` (no path). */
  get url(): string {
    return `${this.#opts.tls ? "https" : "http"}://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** True while listening (false after `crash()` until `restart()`). */
  get up(): boolean {
    return this.#server !== undefined;
  }

  /** Starts listening (called by `startTestMaster`). */
  listen(): Promise<void> {
    if (this.#closed) throw new Error("test master is closed");
    if (this.#server) return Promise.resolve();
    const abort = new AbortController();
    this.#abort = abort;
    this.#server = Deno.serve(
      {
        hostname: "127.0.0.1",
        port: this.#port,
        signal: abort.signal,
        onListen: () => {},
        ...(this.#opts.tls ? { cert: this.#opts.tls.cert, key: this.#opts.tls.key } : {}),
      },
      (req) => this.#handle(req),
    );
    this.#port = (this.#server.addr as Deno.NetAddr).port;
    this.#ticker ??= setInterval(() => this.#tick(), TICK_MS);
    return Promise.resolve();
  }

  // ---- test controls -----------------------------------------------------------------------

  /** Non-leader mode: answer 307 to `leaderUrl` (a master URL; any other string is sent as is). */
  setLeader(leaderUrl: string | undefined): void {
    if (leaderUrl === undefined) {
      this.#leader = undefined;
      return;
    }
    // As Mesos does: a protocol-relative URL to the leader's endpoint.
    const u = URL.canParse(leaderUrl) ? new URL(leaderUrl) : undefined;
    const http = u && (u.protocol === "http:" || u.protocol === "https:");
    this.#leader = http ? `//${u.host}/api/v1/scheduler` : leaderUrl;
  }

  /** Election mode: answer 503 to everything. */
  setElecting(electing: boolean): void {
    this.#electing = electing;
  }

  /** Stops (or resumes) HEARTBEAT events. */
  stopHeartbeats(stop = true): void {
    this.#heartbeats = !stop;
  }

  /** Rescinds an outstanding offer (RESCIND event); false when it is not outstanding. */
  rescind(offerId: string): boolean {
    const record = this.#offers.get(offerId);
    if (!record) return false;
    this.#offers.delete(offerId);
    this.offersRescinded.push(offerId);
    const fw = this.#frameworks.get(record.frameworkId);
    if (fw) this.#send(fw, { type: "RESCIND", rescind: { offer_id: { value: offerId } } });
    return true;
  }

  /** Sends any event to every connected framework (e.g. ERROR, MESSAGE, FAILURE). */
  emit(event: Event): void {
    for (const fw of this.#frameworks.values()) this.#send(fw, event);
  }

  /**
   * Breaks every open subscription stream (see {@linkcode StreamFault}); returns how many.
   * Frameworks keep their tasks; they have to re-subscribe.
   */
  breakStreams(how: StreamFault): number {
    let broken = 0;
    for (const fw of this.#frameworks.values()) {
      const stream = fw.stream;
      if (!stream?.open) continue;
      broken++;
      let bytes: Uint8Array;
      if (how === "mid-frame") {
        const record = encodeRecord(encodeEvent({ type: "HEARTBEAT" }, stream.ct));
        bytes = record.subarray(0, Math.ceil(record.length / 2));
      } else if (how === "bad-length") {
        bytes = new TextEncoder().encode("12x\n");
      } else {
        // Protobuf: field 1 with wire type 7, which does not exist. JSON: not JSON.
        const body = stream.ct === "protobuf"
          ? new Uint8Array([0x0f, 0x01, 0x02, 0x03])
          : new TextEncoder().encode("{not json");
        bytes = encodeRecord(body);
      }
      try {
        stream.controller.enqueue(bytes);
      } catch { /* already gone */ }
      if (how === "mid-frame") {
        this.#closeStream(fw);
        fw.disconnectedAt = Date.now();
        this.#dropOffers(fw);
      }
      this.#log(`broke the stream of ${fw.id} (${how})`);
    }
    return broken;
  }

  /**
   * Answers the next `times` calls of `type` with `status`, e.g. 400: not carried out, or, with
   * `afterDoing`, carried out all the same (a reply lost on the way back, a proxy's 5xx).
   */
  failCalls(type: Call["type"], status: number, times = 1, afterDoing = false): void {
    this.#callFaults.set(type, { status, left: times, afterDoing });
  }

  /**
   * Holds the next `times` calls of `type` for `ms` before carrying them out and answering: a slow
   * connection, so a call sent later on another connection may be carried out first.
   */
  delayCalls(type: Call["type"], ms: number, times = 1): void {
    this.#callDelays.set(type, { ms, left: times });
  }

  /**
   * Refuses the next `times` tasks of ACCEPT calls as a master refuses an invalid task: no
   * launch, a master update without uuid (TASK_ERROR with REASON_TASK_INVALID, or TASK_DROPPED
   * with REASON_INVALID_OFFERS). `Infinity` refuses every launch.
   */
  refuseLaunches(times: number, state: "TASK_ERROR" | "TASK_DROPPED" = "TASK_ERROR"): void {
    this.#refusals = { left: times, state };
  }

  /**
   * Answers the next `times` ACKNOWLEDGE calls 202 and does nothing with them, as when the
   * master that took them fails over before telling the agent: the agent re-sends the update.
   */
  loseAcks(times: number): void {
    this.#acksToLose = times;
  }

  /**
   * An agent partitioned from the master: its offers are rescinded and it makes no new ones, its
   * live tasks get TASK_UNREACHABLE from the master (PARTITION_AWARE frameworks; TASK_LOST for
   * others), no uuid, REASON_AGENT_REMOVED; the tasks keep running and their agent's updates wait.
   * False if unknown.
   */
  partitionAgent(agentId: string): boolean {
    if (!this.#agents.some((a) => a.id === agentId)) return false;
    this.#partitioned.add(agentId);
    for (const [offerId, record] of [...this.#offers]) {
      if (record.agentId === agentId) this.rescind(offerId);
    }
    for (const task of this.#tasks.values()) {
      if (task.agentId !== agentId || task.completed || TERMINAL.has(task.state)) continue;
      const fw = this.#frameworks.get(task.frameworkId);
      if (!fw) continue;
      const aware = fw.capabilities.has("PARTITION_AWARE");
      this.#masterUpdate(
        fw,
        task.info,
        aware ? "TASK_UNREACHABLE" : "TASK_LOST",
        "REASON_AGENT_REMOVED",
        `Agent ${agentId} is unreachable`,
      );
    }
    this.#log(`agent ${agentId} partitioned`);
    return true;
  }

  /**
   * A partitioned agent re-registers: its tasks' latest states go out from the master (no uuid,
   * REASON_AGENT_REREGISTERED), its agent's held updates flow again, it makes offers again.
   */
  healPartition(agentId: string): boolean {
    if (!this.#partitioned.delete(agentId)) return false;
    for (const task of this.#tasks.values()) {
      if (task.agentId !== agentId || task.completed) continue;
      const fw = this.#frameworks.get(task.frameworkId);
      if (fw) {
        this.#masterUpdate(fw, task.info, task.state, "REASON_AGENT_REREGISTERED", "Agent back");
      }
    }
    this.#log(`agent ${agentId} re-registered`);
    this.#pumpUpdates();
    this.#allocate();
    return true;
  }

  /**
   * An agent removed: its outstanding offers are rescinded, its live tasks get TASK_GONE
   * (PARTITION_AWARE frameworks) or TASK_LOST from the master (no uuid, REASON_AGENT_REMOVED)
   * and their processes are killed. False if unknown.
   */
  removeAgent(agentId: string): boolean {
    const index = this.#agents.findIndex((a) => a.id === agentId);
    if (index < 0) return false;
    this.#agents.splice(index, 1);
    for (const [offerId, record] of [...this.#offers]) {
      if (record.agentId === agentId) this.rescind(offerId);
    }
    for (const task of this.#tasks.values()) {
      if (task.agentId !== agentId || task.completed) continue;
      const fw = this.#frameworks.get(task.frameworkId);
      task.pending = [];
      task.completed = true;
      if (!TERMINAL.has(task.state)) {
        const state = fw?.capabilities.has("PARTITION_AWARE") ? "TASK_GONE" : "TASK_LOST";
        task.state = state;
        if (fw) this.#masterUpdate(fw, task.info, state, "REASON_AGENT_REMOVED", "Agent removed");
      }
      clearTimeout(task.killTimer);
      if (task.child && task.exitCode === undefined) killGroup(task.child.pid, "SIGKILL");
    }
    this.#partitioned.delete(agentId);
    this.#log(`agent ${agentId} removed`);
    return true;
  }

  /** Adds an agent (e.g. one removed earlier coming back); false if its id is in use. */
  addAgent(agent: TestAgent): boolean {
    if (this.#agents.some((a) => a.id === agent.id)) return false;
    this.#agents.push({ ...agent, resources: { ...agent.resources } });
    this.#allocate();
    return true;
  }

  /** Ids of the agents now registered. */
  agentIds(): string[] {
    return this.#agents.map((a) => a.id);
  }

  /** Status updates (with a uuid) sent or waiting that no ACKNOWLEDGE has settled yet. */
  unacknowledged(): number {
    let n = 0;
    for (const task of this.#tasks.values()) n += task.pending.length;
    return n;
  }

  /** Drops every connection abruptly and stops listening; tasks keep running. */
  async crash(): Promise<void> {
    for (const fw of this.#frameworks.values()) {
      if (fw.stream) fw.stream.open = false;
      fw.stream = undefined;
      // A master failover does not start failover timeouts: the new master waits for re-subscribe.
      fw.disconnectedAt = undefined;
    }
    this.#offers.clear();
    const server = this.#server;
    this.#server = undefined;
    this.#abort?.abort();
    await server?.finished.catch(() => {});
    this.#log("crashed");
  }

  /** Comes back (a new master id) on the same port, knowing frameworks and tasks. */
  async restart(): Promise<void> {
    if (this.#server) await this.crash();
    this.#masterId = crypto.randomUUID();
    await this.listen();
    this.#log("restarted");
  }

  /** Stops everything: streams, server, timers, and every task process (SIGKILL). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ticker);
    for (const fw of this.#frameworks.values()) this.#closeStream(fw);
    const server = this.#server;
    this.#server = undefined;
    this.#abort?.abort();
    await server?.finished.catch(() => {});
    const waits: Promise<void>[] = [];
    for (const task of this.#tasks.values()) {
      clearTimeout(task.killTimer);
      if (task.child && task.exitCode === undefined) killGroup(task.child.pid, "SIGKILL");
      if (task.done) waits.push(task.done);
    }
    await Promise.all(waits);
  }

  // ---- observation -------------------------------------------------------------------------

  callsOfType(type: Call["type"]): Call[] {
    return this.calls.filter((c) => c.type === type);
  }

  callCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.calls) counts[c.type] = (counts[c.type] ?? 0) + 1;
    return counts;
  }

  ackCount(uuid: string): number {
    return this.acks.get(uuid) ?? 0;
  }

  outstandingOffers(): Offer[] {
    return [...this.#offers.values()].map((r) => r.offer);
  }

  tasks(): TaskView[] {
    return [...this.#tasks.values()].map((t) => ({
      taskId: t.info.task_id.value,
      frameworkId: t.frameworkId,
      agentId: t.agentId,
      name: t.info.name,
      state: t.state,
      pid: t.child?.pid,
      exitCode: t.exitCode,
      completed: t.completed,
      stdout: t.stdout,
      stderr: t.stderr,
    }));
  }

  task(taskId: string): TaskView | undefined {
    return this.tasks().find((t) => t.taskId === taskId);
  }

  frameworks(): FrameworkView[] {
    return [...this.#frameworks.values()].map((f) => ({
      id: f.id,
      info: f.info,
      connected: f.stream?.open === true,
      streamId: f.stream?.id,
      contentType: f.stream?.ct,
      roles: [...f.roles],
      suppressed: [...f.suppressed],
    }));
  }

  /** Polls `predicate` every 10 ms; rejects after `timeoutMs` (default 4000). */
  async waitFor(predicate: () => boolean, what = "condition", timeoutMs = 4000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`test master: timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  // ---- HTTP --------------------------------------------------------------------------------

  async #handle(req: Request): Promise<Response> {
    const seen: { call?: Call["type"] } = {};
    let response: Response;
    try {
      response = await this.#route(req, seen);
    } catch (err) {
      if (err instanceof HttpError) response = text(err.status, err.message);
      else {
        this.#log(`internal error: ${(err as Error).stack}`);
        response = text(500, (err as Error).message);
      }
    }
    this.answered.push({
      at: Date.now(),
      status: response.status,
      ...(seen.call ? { call: seen.call } : {}),
    });
    return response;
  }

  async #route(req: Request, seen: { call?: Call["type"] }): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path !== "/api/v1/scheduler") {
      await req.body?.cancel();
      return text(404, `no such endpoint ${path}`);
    }
    if (this.#electing) {
      // Not carried out; decoded only so that tests can tell what was refused.
      const ct = contentTypeOf(req.headers.get("Content-Type") ?? "");
      const body = new Uint8Array(await req.arrayBuffer().catch(() => new ArrayBuffer(0)));
      try {
        if (ct) seen.call = decodeCall(body, ct).type;
      } catch { /* refused either way */ }
      return text(503, "No leader elected");
    }
    if (this.#leader) {
      await req.body?.cancel();
      return new Response(null, { status: 307, headers: { Location: this.#leader } });
    }
    if (req.method !== "POST") {
      await req.body?.cancel();
      return text(405, `Expecting 'POST', received '${req.method}'`, { Allow: "POST" });
    }
    const contentType = req.headers.get("Content-Type");
    if (!contentType) throw new HttpError(400, "Expecting 'Content-Type' to be present");
    const ct = contentTypeOf(contentType);
    if (!ct) {
      await req.body?.cancel();
      throw new HttpError(
        415,
        "Expecting 'Content-Type' of application/json or application/x-protobuf",
      );
    }
    const body = new Uint8Array(await req.arrayBuffer());
    let call: Call;
    try {
      call = decodeCall(body, ct);
    } catch (err) {
      throw new HttpError(400, `Failed to parse body into Call: ${(err as Error).message}`);
    }
    const delay = this.#callDelays.get(call.type);
    if (delay && delay.left > 0) {
      delay.left--;
      await new Promise((r) => setTimeout(r, delay.ms));
    }
    this.calls.push(call);
    seen.call = call.type;
    const fault = this.#callFaults.get(call.type);
    if (fault && fault.left > 0 && !fault.afterDoing) {
      fault.left--;
      throw new HttpError(fault.status, `injected fault: ${call.type} refused`);
    }
    const invalid = validateCall(call);
    if (invalid) throw new HttpError(400, `Failed to validate scheduler::Call: ${invalid}`);

    if (call.type === "SUBSCRIBE") {
      const accept = negotiate(req.headers.get("Accept"));
      if (!accept) {
        throw new HttpError(
          406,
          "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
        );
      }
      if (req.headers.has("Mesos-Stream-Id")) {
        throw new HttpError(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
      }
      return this.#subscribe(call, accept);
    }

    const fw = this.#frameworks.get(call.framework_id!.value);
    if (!fw) throw new HttpError(403, "Framework cannot be found");
    if (!fw.stream?.open) throw new HttpError(403, "Framework is not subscribed");
    const streamId = req.headers.get("Mesos-Stream-Id");
    if (streamId === null) {
      throw new HttpError(
        400,
        "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
      );
    }
    if (streamId !== fw.stream.id) {
      throw new HttpError(
        400,
        `The stream ID '${streamId}' included in this request didn't match the stream ID ` +
          `currently associated with framework ID ${fw.id}`,
      );
    }
    this.#dispatch(fw, call);
    if (fault && fault.left > 0 && fault.afterDoing) {
      fault.left--;
      throw new HttpError(fault.status, `injected fault: ${call.type} done, answered as failed`);
    }
    return new Response(null, { status: 202 });
  }

  #dispatch(fw: Framework, call: Call): void {
    switch (call.type) {
      case "TEARDOWN":
        this.#removeFramework(fw, "TEARDOWN");
        return;
      case "ACCEPT":
        this.#accept(fw, call.accept!);
        return;
      case "DECLINE":
        this.#decline(fw, call.decline!);
        return;
      case "REVIVE":
        this.#revive(fw, call.revive?.roles ?? []);
        return;
      case "SUPPRESS":
        this.#suppress(fw, call.suppress?.roles ?? []);
        return;
      case "KILL":
        this.#kill(fw, call.kill!);
        return;
      case "ACKNOWLEDGE":
        this.#acknowledge(fw, call.acknowledge!);
        return;
      case "RECONCILE":
        this.#reconcile(fw, call.reconcile!.tasks);
        return;
      case "SHUTDOWN": // no custom executors here
      case "MESSAGE": // no executor to deliver to
      case "REQUEST": // the built-in allocator ignores requests too
        return;
      default:
        throw new HttpError(501, `${call.type} is not implemented by the test master`);
    }
  }

  // ---- SUBSCRIBE ---------------------------------------------------------------------------

  #subscribe(call: Call, ct: ContentType): Response {
    const info = call.subscribe!.framework_info;
    const streamId = crypto.randomUUID();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream: Stream = {
      id: streamId,
      frameworkId: "",
      ct,
      controller: undefined as unknown as ReadableStreamDefaultController<Uint8Array>,
      open: true,
      nextHeartbeat: Date.now() + this.#opts.heartbeatSeconds * 1000,
    };
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      cancel: () => this.#streamBroken(stream),
    });
    stream.controller = controller;
    const response = new Response(body, {
      status: 200,
      headers: {
        "Content-Type": mediaType(ct),
        "Mesos-Stream-Id": streamId,
        "Cache-Control": "no-cache",
      },
    });

    const error = validateFrameworkInfo(info, call.subscribe!.suppressed_roles ?? []) ??
      (info.id && this.#removed.has(info.id.value) ? "Framework has been removed" : undefined);
    if (error) {
      this.#write(stream, { type: "ERROR", error: { message: error } });
      stream.open = false;
      controller.close();
      return response;
    }

    const id = info.id?.value ??
      `${this.#masterId}-${String(this.#nextFrameworkNo++).padStart(4, "0")}`;
    stream.frameworkId = id;
    let fw = this.#frameworks.get(id);
    if (fw?.stream?.open) {
      // Only one subscription per framework: the older scheduler instance is told and cut off,
      // and its offers are rescinded (the new instance gets fresh ones).
      this.#send(fw, { type: "ERROR", error: { message: "Framework failed over" } });
      this.#closeStream(fw);
      this.#dropOffers(fw);
    }
    const capabilities = new Set((info.capabilities ?? []).map((c) => c.type));
    const roles = capabilities.has("MULTI_ROLE") ? [...(info.roles ?? [])] : [info.role ?? "*"];
    if (!fw) {
      fw = {
        id,
        info,
        roles,
        capabilities,
        suppressed: new Set(),
        filters: [],
      };
      this.#frameworks.set(id, fw);
    }
    fw.info = { ...info, id: { value: id } };
    fw.roles = roles;
    fw.capabilities = capabilities;
    fw.suppressed = new Set(call.subscribe!.suppressed_roles ?? []);
    fw.stream = stream;
    fw.disconnectedAt = undefined;
    this.subscriptions++;
    this.#send(fw, {
      type: "SUBSCRIBED",
      subscribed: {
        framework_id: { value: id },
        heartbeat_interval_seconds: this.#opts.heartbeatSeconds,
        master_info: {
          id: this.#masterId,
          ip: LOOPBACK_IP_NETWORK_ORDER,
          port: this.#port,
          hostname: "127.0.0.1",
          address: { hostname: "127.0.0.1", ip: "127.0.0.1", port: this.#port },
        },
      },
    });
    this.#log(`framework ${id} subscribed (${ct}, stream ${streamId})`);
    // Agents retry unacknowledged updates; do it now rather than at the next retry.
    for (const task of this.#tasks.values()) {
      if (task.frameworkId === id && task.pending[0]) task.pending[0].lastSent = 0;
    }
    this.#pumpUpdates();
    this.#allocate();
    return response;
  }

  #streamBroken(stream: Stream): void {
    if (!stream.open) return;
    stream.open = false;
    const fw = this.#frameworks.get(stream.frameworkId);
    if (!fw || fw.stream !== stream) return;
    fw.stream = undefined;
    fw.disconnectedAt = Date.now();
    this.#dropOffers(fw);
    this.#log(`framework ${fw.id} disconnected`);
  }

  #closeStream(fw: Framework): void {
    const stream = fw.stream;
    fw.stream = undefined;
    if (!stream?.open) return;
    stream.open = false;
    try {
      stream.controller.close();
    } catch { /* already closed */ }
  }

  #removeFramework(fw: Framework, why: string): void {
    this.#log(`removing framework ${fw.id}: ${why}`);
    this.#closeStream(fw);
    this.#dropOffers(fw);
    this.#frameworks.delete(fw.id);
    this.#removed.add(fw.id);
    for (const task of this.#tasks.values()) {
      if (task.frameworkId !== fw.id) continue;
      task.pending = [];
      task.completed = true;
      if (!TERMINAL.has(task.state)) this.#killTask(task);
    }
  }

  // ---- events ------------------------------------------------------------------------------

  #send(fw: Framework, event: Event): boolean {
    const stream = fw.stream;
    if (!stream?.open) return false;
    if (!this.#write(stream, event)) {
      this.#streamBroken(stream);
      return false;
    }
    this.eventsSent.push({ frameworkId: fw.id, event });
    if (event.type === "UPDATE") {
      this.updatesSent.push({ frameworkId: fw.id, status: event.update!.status, at: Date.now() });
    }
    return true;
  }

  #write(stream: Stream, event: Event): boolean {
    try {
      stream.controller.enqueue(encodeRecord(encodeEvent(event, stream.ct)));
      return true;
    } catch {
      return false;
    }
  }

  #tick(): void {
    const now = Date.now();
    for (const fw of [...this.#frameworks.values()]) {
      const stream = fw.stream;
      if (stream?.open && this.#heartbeats && now >= stream.nextHeartbeat) {
        stream.nextHeartbeat = now + this.#opts.heartbeatSeconds * 1000;
        this.#send(fw, { type: "HEARTBEAT" });
      }
      const timeoutMs = (fw.info.failover_timeout ?? 0) * 1000;
      if (fw.disconnectedAt !== undefined && now - fw.disconnectedAt >= timeoutMs) {
        this.#removeFramework(fw, "failover timeout elapsed");
      }
    }
    this.#pumpUpdates();
    this.#allocate();
  }

  // ---- offers ------------------------------------------------------------------------------

  #allocate(): void {
    if (!this.#server) return;
    const now = Date.now();
    for (const fw of this.#frameworks.values()) {
      fw.filters = fw.filters.filter((f) => f.until > now);
    }
    // Used resources per agent in one pass (hundreds of agents, thousands of tasks in a soak).
    const used = new Map<string, Scalars>();
    const add = (agentId: string, r: Scalars) =>
      used.set(agentId, plus(used.get(agentId) ?? zero(), r));
    for (const task of this.#tasks.values()) {
      if (!TERMINAL.has(task.state)) add(task.agentId, task.resources);
    }
    for (const offer of this.#offers.values()) add(offer.agentId, offer.resources);
    const held = new Map<string, Map<string, number>>();
    const hold = (agentId: string, byKey: Map<string, number> | undefined) => {
      if (!byKey) return;
      const m = held.get(agentId) ?? new Map<string, number>();
      for (const [k, v] of byKey) m.set(k, round((m.get(k) ?? 0) + v));
      held.set(agentId, m);
    };
    for (const task of this.#tasks.values()) {
      if (!TERMINAL.has(task.state)) hold(task.agentId, task.byKey);
    }
    for (const offer of this.#offers.values()) hold(offer.agentId, offer.byKey);
    for (const agent of this.#agents) {
      if (this.#partitioned.has(agent.id)) continue;
      const free = minus(scalarsOf(agent.resources), used.get(agent.id) ?? zero());
      if (!allocatable(free)) continue;
      placed: for (const fw of this.#frameworks.values()) {
        if (!fw.stream?.open) continue;
        if ((agent.resources.gpus ?? 0) > 0 && !fw.capabilities.has("GPU_RESOURCES")) continue;
        for (const role of fw.roles) {
          if (fw.suppressed.has(role)) continue;
          if (agent.roles && !agent.roles.includes(role)) continue;
          if (
            fw.filters.some((f) =>
              f.agentId === agent.id && f.role === role && fits(free, f.resources)
            )
          ) {
            continue;
          }
          this.#makeOffer(fw, agent, role, free, held.get(agent.id));
          break placed;
        }
      }
    }
  }

  #makeOffer(
    fw: Framework,
    agent: TestAgent,
    role: string,
    free: Scalars,
    held?: Map<string, number>,
  ): void {
    const id = `${this.#masterId}-O${this.#nextOfferNo++}`;
    const reservedRole = agent.roles ? role : "*";
    let resources: Resource[];
    let byKey: Map<string, number> | undefined;
    if (agent.layout) {
      // Each resource as the agent has it, less what is held of it; a MOUNT disk only whole.
      resources = [];
      byKey = new Map();
      free = zero();
      for (const r of agent.layout) {
        const key = resourceKey(r);
        const total = r.scalar?.value ?? 0;
        const inUse = held?.get(key) ?? 0;
        const left = r.disk?.source?.type === "MOUNT" && inUse > 0 ? 0 : round(total - inUse);
        if (!(left > 0)) continue;
        resources.push({ ...r, scalar: { value: left }, allocation_info: { role } });
        byKey.set(key, left);
        if ((SCALAR_NAMES as readonly string[]).includes(r.name)) {
          free[r.name as keyof Scalars] = round(free[r.name as keyof Scalars] + left);
        }
      }
      if (resources.length === 0) return;
    } else {
      resources = SCALAR_NAMES.filter((n) => free[n] > 0).map((name) => ({
        name,
        type: "SCALAR",
        scalar: { value: free[name] },
        role: reservedRole,
        allocation_info: { role },
      }));
    }
    const offer: Offer = {
      id: { value: id },
      framework_id: { value: fw.id },
      agent_id: { value: agent.id },
      hostname: agent.hostname,
      resources,
      ...(agent.attributes ? { attributes: agent.attributes } : {}),
      allocation_info: { role },
    };
    this.#offers.set(id, {
      offer,
      frameworkId: fw.id,
      agentId: agent.id,
      role,
      resources: free,
      ...(byKey ? { byKey } : {}),
    });
    if (this.#send(fw, { type: "OFFERS", offers: { offers: [offer] } })) {
      this.offersSent.push(offer);
    } else this.#offers.delete(id);
  }

  #dropOffers(fw: Framework): void {
    for (const [id, record] of this.#offers) {
      if (record.frameworkId === fw.id) this.#offers.delete(id);
    }
  }

  #addFilter(fw: Framework, agentId: string, role: string, resources: Scalars, seconds?: number) {
    const refuse = Math.min(seconds ?? DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS);
    if (!(refuse > 0)) return;
    fw.filters.push({ agentId, role, resources, until: Date.now() + refuse * 1000 });
  }

  #decline(fw: Framework, decline: NonNullable<Call["decline"]>): void {
    for (const { value } of decline.offer_ids) {
      const record = this.#offers.get(value);
      if (!record || record.frameworkId !== fw.id) continue;
      this.#offers.delete(value);
      this.offersDeclined.push(value);
      this.#addFilter(
        fw,
        record.agentId,
        record.role,
        record.resources,
        decline.filters?.refuse_seconds,
      );
    }
  }

  #revive(fw: Framework, roles: string[]): void {
    const which = roles.length ? roles : fw.roles;
    for (const role of which) fw.suppressed.delete(role);
    fw.filters = fw.filters.filter((f) => !which.includes(f.role));
    this.#allocate();
  }

  #suppress(fw: Framework, roles: string[]): void {
    for (const role of roles.length ? roles : fw.roles) fw.suppressed.add(role);
  }

  // ---- ACCEPT / LAUNCH ---------------------------------------------------------------------

  #accept(fw: Framework, accept: NonNullable<Call["accept"]>): void {
    const ids = accept.offer_ids.map((o) => o.value);
    const records = ids.map((id) => this.#offers.get(id));
    let invalid: string | undefined;
    if (ids.length === 0) invalid = "No offers specified";
    else if (new Set(ids).size !== ids.length) invalid = "Duplicate offers specified";
    else {
      const bad = ids.find((_id, i) => !records[i] || records[i]!.frameworkId !== fw.id);
      if (bad) invalid = `Offer ${bad} is no longer valid`;
      else if (new Set(records.map((r) => r!.agentId)).size > 1) {
        invalid = "Aggregated offers must belong to one single agent";
      }
    }
    for (const [i, id] of ids.entries()) {
      if (records[i]?.frameworkId === fw.id) this.#offers.delete(id);
    }
    const tasks = accept.operations.filter((op) => op.type === "LAUNCH")
      .flatMap((op) => op.launch?.task_infos ?? []);
    if (invalid) {
      const state = fw.capabilities.has("PARTITION_AWARE") ? "TASK_DROPPED" : "TASK_LOST";
      for (const task of tasks) {
        this.#masterUpdate(
          fw,
          task,
          state,
          "REASON_INVALID_OFFERS",
          `Task launched with invalid offers: ${invalid}`,
        );
      }
      return;
    }
    this.offersAccepted.push(...ids);
    const agentId = records[0]!.agentId;
    const role = records[0]!.role;
    let available = records.reduce((sum, r) => plus(sum, r!.resources), zero());
    // A layout agent's offers: what is offered of each resource, by identity.
    const layout = records[0]!.byKey !== undefined;
    const offered = new Map<string, number>();
    for (const r of records) {
      for (const [k, v] of r!.byKey ?? []) offered.set(k, round((offered.get(k) ?? 0) + v));
    }
    const whole = new Set<string>();
    for (const r of records) {
      for (const res of r!.offer.resources) {
        if (res.disk?.source?.type === "MOUNT") whole.add(resourceKey(res));
      }
    }
    for (const task of tasks) {
      const resources = this.#taskResources(task, role);
      let error = typeof resources === "string"
        ? resources
        : this.#validateTask(task, agentId, resources, available);
      const byKey = layout ? keyedAmounts(task.resources) : undefined;
      if (error === undefined && byKey) error = containment(byKey, offered, whole);
      if (error === undefined && this.#refusals.left > 0) {
        this.#refusals.left--;
        if (this.#refusals.state === "TASK_DROPPED") {
          this.#masterUpdate(fw, task, "TASK_DROPPED", "REASON_INVALID_OFFERS", "injected refusal");
          continue;
        }
        error = "injected refusal";
      }
      if (error !== undefined) {
        this.#masterUpdate(fw, task, "TASK_ERROR", "REASON_TASK_INVALID", error);
        continue;
      }
      const used = resources as Scalars;
      available = minus(available, used);
      if (byKey) {
        for (const [k, v] of byKey) offered.set(k, round(offered.get(k)! - v));
      }
      this.#launch(fw, task, agentId, used, byKey);
    }
    this.#addFilter(fw, agentId, role, available, accept.filters?.refuse_seconds);
  }

  #taskResources(task: TaskInfo, role: string): Scalars | string {
    const total = zero();
    for (const r of task.resources) {
      if (!(SCALAR_NAMES as readonly string[]).includes(r.name) || r.type !== "SCALAR") {
        return `Task uses resource '${r.name}' that was not offered`;
      }
      const allocated = r.allocation_info?.role;
      if (allocated !== undefined && allocated !== role) {
        return `Task resources are allocated to role '${allocated}' but the offer is for '${role}'`;
      }
      total[r.name as keyof Scalars] = round(
        total[r.name as keyof Scalars] + (r.scalar?.value ?? 0),
      );
    }
    return total;
  }

  #validateTask(
    task: TaskInfo,
    agentId: string,
    resources: Scalars,
    available: Scalars,
  ): string | undefined {
    const existing = this.#tasks.get(task.task_id.value);
    if (existing && !existing.completed) return "Task has duplicate ID: " + task.task_id.value;
    if (task.agent_id.value !== agentId) {
      return `Task uses agent ${task.agent_id.value} but the offers are for agent ${agentId}`;
    }
    if (!task.command) {
      return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present";
    }
    if (task.command.value === undefined) return "Task's CommandInfo has no 'value'";
    if (!fits(resources, available)) {
      return `Task uses more resources ${show(resources)} than available ${show(available)}`;
    }
    return undefined;
  }

  /** A status update generated by the master itself: not reliable, so no uuid. */
  #masterUpdate(
    fw: Framework,
    task: TaskInfo,
    state: TaskStateName,
    reason: string,
    message: string,
  ): void {
    this.#send(fw, {
      type: "UPDATE",
      update: {
        status: {
          task_id: task.task_id,
          state,
          message,
          source: "SOURCE_MASTER",
          reason,
          agent_id: task.agent_id,
          timestamp: Date.now() / 1000,
        },
      },
    });
  }

  #launch(
    fw: Framework,
    info: TaskInfo,
    agentId: string,
    resources: Scalars,
    byKey?: Map<string, number>,
  ): void {
    const task: TaskRecord = {
      info,
      frameworkId: fw.id,
      agentId,
      resources,
      ...(byKey ? { byKey } : {}),
      state: "TASK_STAGING",
      pending: [],
      completed: false,
      killRequested: false,
      stdout: "",
      stderr: "",
    };
    this.#tasks.set(info.task_id.value, task);
    this.launchedTasks.push(info);
    const command = info.command!;
    const env = Object.fromEntries(
      (command.environment?.variables ?? []).map((v) => [v.name, v.value ?? ""]),
    );
    const shell = command.shell ?? true; // mesos.proto: [default = true]
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(shell ? "sh" : command.value!, {
        args: shell ? ["-c", command.value!] : (command.arguments ?? []).slice(1),
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true, // own process group, so KILL reaches the whole command
      }).spawn();
    } catch (err) {
      this.#agentUpdate(task, "TASK_FAILED", `Failed to launch command: ${(err as Error).message}`);
      return;
    }
    task.child = child;
    this.#agentUpdate(task, "TASK_STARTING");
    this.#agentUpdate(task, "TASK_RUNNING");
    const max = this.#opts.maxOutputBytes;
    const out = collect(child.stdout, max).then((s) => void (task.stdout = s));
    const err = collect(child.stderr, max).then((s) => void (task.stderr = s));
    task.done = Promise.all([child.status, out, err]).then(([status]) => {
      clearTimeout(task.killTimer);
      task.exitCode = status.code;
      if (this.#closed || task.completed) return;
      if (task.killRequested) {
        this.#agentUpdate(
          task,
          "TASK_KILLED",
          `Command terminated with signal ${status.signal ?? status.code}`,
        );
      } else if (status.success) {
        this.#agentUpdate(task, "TASK_FINISHED", "Command exited with status 0");
      } else {
        const how = status.signal
          ? `terminated with signal ${status.signal}`
          : `exited with status ${status.code}`;
        this.#agentUpdate(task, "TASK_FAILED", `Command ${how}`);
      }
      this.#allocate();
    });
    this.#log(`launched task ${info.task_id.value} (pid ${child.pid})`);
  }

  /** A reliable update from the agent/executor: fresh uuid, retried until acknowledged. */
  #agentUpdate(task: TaskRecord, state: TaskStateName, message?: string): void {
    task.state = state;
    const status: TaskStatus = {
      task_id: task.info.task_id,
      state,
      source: "SOURCE_EXECUTOR",
      agent_id: { value: task.agentId },
      timestamp: Date.now() / 1000,
      uuid: randomUuidBase64(),
    };
    if (message) status.message = message;
    task.pending.push({ status, lastSent: 0 });
    this.#pumpUpdates();
  }

  /** Sends the head update of every task when it is due (first send or retry). */
  #pumpUpdates(): void {
    if (!this.#server) return;
    const now = Date.now();
    const retryMs = this.#opts.resendSeconds * 1000;
    for (const task of this.#tasks.values()) {
      const head = task.pending[0];
      if (!head || (head.lastSent !== 0 && now - head.lastSent < retryMs)) continue;
      if (this.#partitioned.has(task.agentId)) continue; // the agent cannot reach us
      const fw = this.#frameworks.get(task.frameworkId);
      if (!fw?.stream?.open) continue;
      if (this.#send(fw, { type: "UPDATE", update: { status: head.status } })) head.lastSent = now;
    }
  }

  #acknowledge(fw: Framework, ack: NonNullable<Call["acknowledge"]>): void {
    if (this.#acksToLose > 0) {
      this.#acksToLose--;
      this.lostAcks.push(ack.uuid);
      return;
    }
    this.acks.set(ack.uuid, (this.acks.get(ack.uuid) ?? 0) + 1);
    const task = this.#tasks.get(ack.task_id.value);
    if (!task || task.frameworkId !== fw.id) return;
    if (task.pending[0]?.status.uuid !== ack.uuid) return; // stale or unknown: ignored
    task.pending.shift();
    if (task.pending.length === 0 && TERMINAL.has(task.state)) task.completed = true;
    if (task.pending[0]) task.pending[0].lastSent = 0;
    this.#pumpUpdates();
  }

  // ---- KILL / RECONCILE --------------------------------------------------------------------

  #kill(fw: Framework, kill: NonNullable<Call["kill"]>): void {
    const task = this.#tasks.get(kill.task_id.value);
    if (!task || task.frameworkId !== fw.id || task.completed) {
      this.#reconcile(fw, [{ task_id: kill.task_id, agent_id: kill.agent_id }]);
      return;
    }
    if (kill.agent_id && kill.agent_id.value !== task.agentId) return;
    if (TERMINAL.has(task.state) || task.killRequested) return;
    if (fw.capabilities.has("TASK_KILLING_STATE")) this.#agentUpdate(task, "TASK_KILLING");
    // The KILL's kill_policy wins over the TaskInfo's, which wins over the agent's default.
    const grace = kill.kill_policy?.grace_period ?? task.info.kill_policy?.grace_period;
    this.#killTask(task, grace ? grace.nanoseconds / 1e6 : undefined);
  }

  #killTask(task: TaskRecord, graceMs = this.#opts.killGraceSeconds * 1000): void {
    task.killRequested = true;
    const child = task.child;
    if (!child || task.exitCode !== undefined) return;
    killGroup(child.pid, "SIGTERM");
    clearTimeout(task.killTimer);
    task.killTimer = setTimeout(() => {
      if (task.exitCode === undefined) killGroup(child.pid, "SIGKILL");
    }, graceMs);
  }

  #reconcile(fw: Framework, tasks: { task_id: { value: string }; agent_id?: { value: string } }[]) {
    const send = (status: TaskStatus) => this.#send(fw, { type: "UPDATE", update: { status } });
    const base = (taskId: string, state: TaskStateName, message: string, agentId?: string) => {
      const status: TaskStatus = {
        task_id: { value: taskId },
        state,
        message,
        source: "SOURCE_MASTER",
        reason: "REASON_RECONCILIATION",
        timestamp: Date.now() / 1000,
      };
      if (agentId !== undefined) status.agent_id = { value: agentId };
      return status;
    };
    if (tasks.length === 0) {
      for (const task of this.#tasks.values()) {
        if (task.frameworkId !== fw.id || task.completed) continue;
        send(
          base(
            task.info.task_id.value,
            task.state,
            "Reconciliation: Latest task state",
            task.agentId,
          ),
        );
      }
      return;
    }
    const aware = fw.capabilities.has("PARTITION_AWARE");
    for (const t of tasks) {
      const task = this.#tasks.get(t.task_id.value);
      if (task && task.frameworkId === fw.id && !task.completed) {
        send(base(t.task_id.value, task.state, "Reconciliation: Latest task state", task.agentId));
      } else if (t.agent_id && this.#agents.some((a) => a.id === t.agent_id!.value)) {
        send(
          base(
            t.task_id.value,
            aware ? "TASK_GONE" : "TASK_LOST",
            "Reconciliation: Task is unknown to the agent",
            t.agent_id.value,
          ),
        );
      } else {
        send(
          base(
            t.task_id.value,
            aware ? "TASK_UNKNOWN" : "TASK_LOST",
            "Reconciliation: Task is unknown",
            t.agent_id?.value,
          ),
        );
      }
    }
  }

  #log(line: string): void {
    this.#opts.log?.(`test-master: ${line}`);
  }
}

// ---- helpers ---------------------------------------------------------------------------------

/** 127.0.0.1 as Mesos stores MasterInfo.ip: the network-order bytes read as a host uint32. */
const LOOPBACK_IP_NETWORK_ORDER = 0x0100007f;

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...headers },
  });
}

/** Mesos's scheduler::Call validation (the parts that apply to the fields we model). */
function validateCall(call: Call): string | undefined {
  if (call.type === "SUBSCRIBE") {
    if (!call.subscribe) return "Expecting 'subscribe' to be present";
    if (call.subscribe.framework_info.id?.value !== call.framework_id?.value) {
      return "'framework_id' differs from 'subscribe.framework_info.id'";
    }
    return undefined;
  }
  if (!call.framework_id) return "Expecting 'framework_id' to be present";
  const needs: Partial<Record<Call["type"], keyof Call>> = {
    ACCEPT: "accept",
    DECLINE: "decline",
    KILL: "kill",
    SHUTDOWN: "shutdown",
    ACKNOWLEDGE: "acknowledge",
    RECONCILE: "reconcile",
    MESSAGE: "message",
    REQUEST: "request",
  };
  const field = needs[call.type];
  if (field && call[field] === undefined) return `Expecting '${field}' to be present`;
  if (call.type === "ACKNOWLEDGE") {
    let size = -1;
    try {
      size = atob(call.acknowledge!.uuid).length;
    } catch { /* not Base64 */ }
    if (size !== 16) return "Not a valid UUID";
  }
  return undefined;
}

/** Mesos's FrameworkInfo role checks; a failure becomes an ERROR event on the stream. */
function validateFrameworkInfo(info: FrameworkInfo, suppressed: string[]): string | undefined {
  const multiRole = (info.capabilities ?? []).some((c) => c.type === "MULTI_ROLE");
  if (multiRole && info.role !== undefined) {
    return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
  }
  if (!multiRole && (info.roles ?? []).length > 0) {
    return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
  }
  const roles = multiRole ? info.roles ?? [] : [info.role ?? "*"];
  if (new Set(roles).size !== roles.length) return "'FrameworkInfo.roles' contains duplicate items";
  const stray = suppressed.find((r) => !roles.includes(r));
  if (stray) return `Suppressed role '${stray}' is not contained in the list of roles`;
  return undefined;
}

/** The content type for a SUBSCRIBE response: JSON first, as the master prefers it. */
function negotiate(accept: string | null): ContentType | undefined {
  if (accept === null || accept.trim() === "") return "json";
  const ranges = accept.split(",").map((part) => {
    const [range, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    return { range, q: q ? Number(q.slice(2)) : 1 };
  });
  const quality = (type: string): number => {
    const [major] = type.split("/");
    const exact = ranges.find((r) => r.range === type);
    const family = ranges.find((r) => r.range === `${major}/*`);
    const any = ranges.find((r) => r.range === "*/*");
    return (exact ?? family ?? any)?.q ?? 0;
  };
  if (quality("application/json") > 0) return "json";
  if (quality("application/x-protobuf") > 0) return "protobuf";
  return undefined;
}

function zero(): Scalars {
  return { cpus: 0, mem: 0, disk: 0, gpus: 0 };
}

function scalarsOf(r: AgentResources): Scalars {
  return { cpus: r.cpus, mem: r.mem, disk: r.disk, gpus: r.gpus ?? 0 };
}

/** Mesos keeps scalars to three decimal places. */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function plus(a: Scalars, b: Scalars): Scalars {
  return {
    cpus: round(a.cpus + b.cpus),
    mem: round(a.mem + b.mem),
    disk: round(a.disk + b.disk),
    gpus: round(a.gpus + b.gpus),
  };
}

function minus(a: Scalars, b: Scalars): Scalars {
  return {
    cpus: Math.max(0, round(a.cpus - b.cpus)),
    mem: Math.max(0, round(a.mem - b.mem)),
    disk: Math.max(0, round(a.disk - b.disk)),
    gpus: Math.max(0, round(a.gpus - b.gpus)),
  };
}

/** a ⊆ b */
function fits(a: Scalars, b: Scalars): boolean {
  return SCALAR_NAMES.every((n) => a[n] <= b[n] + 1e-9);
}

/** The master's default min_allocatable_resources: cpus:0.01 | mem:32. */
function allocatable(r: Scalars): boolean {
  return r.cpus >= 0.01 || r.mem >= 32;
}

function show(r: Scalars): string {
  return SCALAR_NAMES.filter((n) => r[n] > 0).map((n) => `${n}:${r[n]}`).join(";") || "{}";
}

/**
 * What makes a resource the resource it is: every field but `scalar` and `allocation_info`
 * (checked on its own), objects with sorted keys, the deprecated `role` at its default `*`.
 */
export function resourceKey(r: Resource): string {
  const { scalar: _scalar, allocation_info: _allocation, ...identity } = r;
  return canonical({ ...identity, role: r.role ?? "*" });
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A task's scalar resources summed per identity. */
function keyedAmounts(resources: readonly Resource[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of resources) {
    const key = resourceKey(r);
    out.set(key, round((out.get(key) ?? 0) + (r.scalar?.value ?? 0)));
  }
  return out;
}

/**
 * The master's containment check on a layout agent: every resource a task holds is one that was
 * offered (same identity), no more of it than is left, and a MOUNT disk whole.
 */
function containment(
  task: Map<string, number>,
  offered: Map<string, number>,
  whole: Set<string>,
): string | undefined {
  for (const [key, amount] of task) {
    const left = offered.get(key);
    if (left === undefined) return `Task uses resources that were not offered: ${key}`;
    if (amount > left + 1e-9) {
      return `Task uses more resources ${key}:${amount} than available ${left}`;
    }
    if (whole.has(key) && amount !== left) {
      return `Task uses ${amount} of a MOUNT disk of ${left}: a MOUNT disk is used whole`;
    }
  }
  return undefined;
}

function randomUuidBase64(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // RFC 4122 version 4, like Mesos's UUID::random()
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return btoa(String.fromCharCode(...bytes));
}

function killGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch { /* already gone */ }
}

async function collect(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const decoder = new TextDecoder();
  let out = "";
  let size = 0;
  try {
    for await (const chunk of stream) {
      if (size < max) out += decoder.decode(chunk.subarray(0, max - size), { stream: true });
      size += chunk.length;
    }
  } catch { /* the pipe broke: keep what we have */ }
  return out + decoder.decode();
}
