/**
 * The Mesos executor: runs warmer and cooler tasks on a Mesos cluster as a framework, and gives
 * the loop the same task facts as the local executor.
 *
 * Invariants:
 * - A task the loop asks for waits as `pending` until an offer fits it; offers are packed and
 *   accepted at once or declined, never held.
 * - Offer interest follows need: SUPPRESS when nothing waits, REVIVE when something does (again
 *   while tasks starve); one such call in flight at a time, so the master ends in the state meant.
 * - Status updates are recorded, then every delivery with a uuid is acknowledged, re-sent ones
 *   too (the agent re-sends until acknowledged and holds later updates till then); duplicates are
 *   counted.
 * - A launch the master refuses (TASK_ERROR or TASK_DROPPED before running) backs that kind's
 *   launches off, capped exponential, said once per streak and counted.
 * - The FrameworkID is kept (state dir, or ZooKeeper with `--ha-zk`), so a restarted instance
 *   re-subscribes as the same framework and, after reconciling, adopts its running tasks.
 * - Time is the injected `Clock`'s only.
 *
 * Its parts, each with its own invariants: the task table (lib/executor/task_table.ts), offer
 * interest (offer_interest.ts), acknowledgements (acknowledgements.ts), the FrameworkID store
 * (framework_id.ts), offer packing (offers.ts) and placement (constraints.ts).
 * @module
 */

import type { Clock } from "../clock.ts";
import type { LogFn } from "../log.ts";
import {
  type BackendEvent,
  type BackendStatus,
  type Executor,
  type ExitMode,
  type TaskEvent,
  type TaskKind,
  type TaskState,
  type TaskView,
  TERMINAL_STATES,
} from "../executor/types.ts";
import { LaunchBackoff } from "../control/failures.ts";
import { RETAIN_MS, type TaskRecord, TaskTable } from "../executor/task_table.ts";
import type { ClientHandlers, SchedulerConnection } from "./connection.ts";
import type {
  Call,
  ContainerInfo,
  Event,
  FrameworkInfo,
  KillPolicy,
  Offer,
  Resource,
  TaskInfo,
  TaskStateName,
  TaskStatus,
} from "./messages.ts";
import type { Constraint } from "../specs/constraint.ts";
import type { TaskResources } from "../specs/resources.ts";
import { admits, type Place, place, type PlacementCounts } from "./constraints.ts";
import { Acknowledgements } from "./acknowledgements.ts";
import { OfferInterest } from "./offer_interest.ts";
import { packOffers, type PlacementHook } from "./offers.ts";
import { type FrameworkIdStore, loadFrameworkId, saveFrameworkId } from "./framework_id.ts";

/** Settings of {@linkcode MesosExecutor}. */
export interface MesosExecutorOptions {
  /** Opens the connection to the master, reporting to `handlers`. */
  readonly connect: (handlers: ClientHandlers) => SchedulerConnection;
  /** Runs after the client has closed (e.g. to stop leader detection). */
  readonly onClose?: () => void;
  /** Subscribes to changes of the leading master (leader detection), reported as backend events. */
  readonly watchLeader?: (listener: (leader?: string, previous?: string) => void) => void;
  readonly frameworkName: string;
  readonly user: string;
  readonly roles: readonly string[];
  readonly principal?: string;
  readonly checkpoint: boolean;
  readonly failoverTimeoutSeconds: number;
  readonly hostname?: string;
  readonly labels: readonly { key: string; value: string }[];
  /** Labels of every task, after `relay.mesos.kind` (`--mesos-task-label`). */
  readonly taskLabels?: readonly { key: string; value: string }[];
  readonly refuseSeconds: number;
  readonly taskResources: TaskResources;
  /** Placement constraints (`--mesos-constraint`), applied to each kind's tasks on its own. */
  readonly constraints?: readonly Constraint[];
  /**
   * Seconds a killed task gets between SIGTERM and SIGKILL, sent as the TaskInfo's and the KILL
   * call's `kill_policy`; unset: none is sent (the agent's default applies).
   */
  readonly killGraceSeconds?: number;
  readonly warmer?: string;
  readonly cooler?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly uris: readonly string[];
  readonly docker?: {
    readonly image: string;
    readonly network: "HOST" | "BRIDGE" | "NONE" | "USER";
    readonly forcePull: boolean;
    readonly volumes: readonly { host: string; container: string; mode: "RW" | "RO" }[];
    readonly parameters: readonly { key: string; value: string }[];
  };
  /** Directory of the state file (the FrameworkID). */
  readonly stateDir: string;
  /**
   * Where the FrameworkID is kept instead of the state file (`--ha-zk`: in ZooKeeper, so that
   * whichever instance leads subscribes as the same framework).
   */
  readonly frameworkIdStore?: FrameworkIdStore;
  readonly clock: Clock;
  readonly log: LogFn;
  /** Called when the run cannot go on (an ERROR event from the master). */
  readonly onFatal: (reason: string) => void;
  /** Prefix of task ids (default `relay`). */
  readonly idPrefix?: string;
  /**
   * After re-subscribing with a saved FrameworkID, how long to let reconciliation answers
   * arrive before the loop may decide (default 2000 ms).
   */
  readonly reconcileSettleMs?: number;
  /** How long ended tasks stay visible in `tasks()` (default 60 s). */
  readonly retainMs?: number;
}

/** A task of the table, with what Mesos knows of it. */
interface MesosTask extends TaskRecord {
  agentId?: string;
  /** Counted lost because its ACCEPT call failed; the master may have launched it after all. */
  acceptFailed?: boolean;
  /** When its ACCEPT went out (clock ms). */
  launchedAt?: number;
  /** Its agent is partitioned from the master (TASK_UNREACHABLE): not lost until gone. */
  unreachable?: boolean;
  /** The hostname and attributes of the offer it was launched in, for placement constraints. */
  where?: Place;
}

/** First pause of a kind's launches after the master refused one; doubles with each refusal. */
export const LAUNCH_BACKOFF_INITIAL_MS = 1000;
/** Longest pause: a master that keeps refusing still gets one launch a minute to try. */
export const LAUNCH_BACKOFF_MAX_MS = 60_000;

/** DurationInfo counts nanoseconds. */
const NANOS_PER_SECOND = 1e9;

/** How long shutdown waits for killed tasks to end: an agent's kill takes seconds at most. */
const KILL_WAIT_MS = 10_000;
/**
 * How long shutdown waits for the master to take its last SUPPRESS: a healthy one answers in
 * milliseconds.
 */
const SUPPRESS_AT_EXIT_MS = 2000;

/** Counters for logs and metrics. */
export interface MesosStats {
  offersReceived: number;
  offersUsed: number;
  offersDeclined: number;
  offersRescinded: number;
  updates: Record<string, number>;
  acknowledged: number;
  /** Deliveries of an update already seen (same uuid), acknowledged again all the same. */
  duplicateUpdates: number;
  /** Launches the master refused (TASK_ERROR / TASK_DROPPED before running), by task kind. */
  launchesRefused: Record<string, number>;
  /** Calls the master answered with an HTTP error, by status (e.g. "400"). */
  callsRejected: Record<string, number>;
  reconnects: number;
  /** The master subscribed to last. */
  leader?: string;
  /** Epoch ms (clock) since when the connection is down (from start); unset while subscribed. */
  disconnectedSince?: number;
}

/** What every TaskInfo of one kind has in common. */
interface TaskTemplate {
  readonly name: string;
  readonly command: string;
  /** The environment, with a placeholder for RELAY_TASK_ID at `idAt`. */
  readonly variables: readonly { name: string; value: string }[];
  readonly idAt: number;
  readonly uris: { value: string }[] | undefined;
  readonly labels: NonNullable<TaskInfo["labels"]>;
  readonly container: ContainerInfo | undefined;
  readonly killPolicy: KillPolicy | undefined;
}

/** Maps a Mesos task state to the executor-neutral one. */
export function taskStateOf(state: TaskStateName): TaskState {
  switch (state) {
    case "TASK_STAGING":
    case "TASK_STARTING":
      return "starting";
    case "TASK_RUNNING":
    case "TASK_KILLING":
    // Partitioned from the master, not lost: it may come back, and is only lost once gone. (A
    // known task keeps its state meanwhile; see #onUpdate.)
    case "TASK_UNREACHABLE":
      return "running";
    case "TASK_FINISHED":
      return "finished";
    case "TASK_KILLED":
      return "killed";
    case "TASK_LOST":
    case "TASK_GONE":
    case "TASK_GONE_BY_OPERATOR":
    case "TASK_DROPPED":
    case "TASK_UNKNOWN":
      return "lost";
    case "TASK_FAILED":
    case "TASK_ERROR":
      return "failed";
  }
}

/**
 * Runs tasks through a Mesos master.
 *
 * @example
 * ```ts
 * async function run(options: MesosExecutorOptions) {
 *   const executor = new MesosExecutor(options);
 *   await executor.start();
 *   executor.launch("cooler", 3); // pending until offers fit them
 * }
 * ```
 */
export class MesosExecutor implements Executor {
  readonly name = "mesos";
  readonly stats: MesosStats = {
    offersReceived: 0,
    offersUsed: 0,
    offersDeclined: 0,
    offersRescinded: 0,
    updates: {},
    acknowledged: 0,
    duplicateUpdates: 0,
    launchesRefused: {},
    callsRejected: {},
    reconnects: 0,
  };
  readonly #opts: MesosExecutorOptions;
  readonly #client: SchedulerConnection;
  /** The tasks; its pending ones wait for an offer, in launch order. */
  readonly #table: TaskTable<MesosTask>;
  readonly #backendListeners = new Set<(event: BackendEvent) => void>();
  /** The parts of a TaskInfo that are the same for every task of a kind, made once. */
  readonly #templates = new Map<TaskKind, TaskTemplate>();
  /** Acknowledges updates, counting re-deliveries. */
  readonly #acks: Acknowledgements;
  /** Kinds whose launches the master refused lately. */
  /** Launches held back after the master refused one (a batch refused at once counts once). */
  readonly #backoff = new LaunchBackoff({
    initialMs: LAUNCH_BACKOFF_INITIAL_MS,
    maxMs: LAUNCH_BACKOFF_MAX_MS,
  });
  /** Kinds held back after their tasks failed in a row ({@linkcode holdLaunches}): until then. */
  readonly #held = new Map<TaskKind, number>();
  #frameworkId?: string;
  /** REVIVE and SUPPRESS, as the waiting tasks need them. */
  readonly #interest: OfferInterest;
  #closed = false;
  #resumed = false;
  #readyAt?: number;

  constructor(options: MesosExecutorOptions) {
    this.#opts = options;
    this.#table = new TaskTable({
      clock: options.clock,
      log: options.log,
      ...(options.idPrefix !== undefined ? { idPrefix: options.idPrefix } : {}),
      ...(options.retainMs !== undefined ? { retainMs: options.retainMs } : {}),
    });
    const handlers: ClientHandlers = {
      frameworkInfo: () => this.#frameworkInfo(),
      onEvent: (e) => this.#onEvent(e),
      onConnected: (info) => this.#onConnected(info),
      onDisconnected: (reason) => {
        this.stats.disconnectedSince ??= this.#opts.clock.now();
        this.#opts.log("warn", `mesos: disconnected: ${reason}`);
        this.#emitBackend({ kind: "disconnected", reason });
      },
    };
    this.#client = options.connect(handlers);
    this.#acks = new Acknowledgements({
      clock: options.clock,
      send: (call) => this.#send(call),
      // A uuid only serves to count duplicates: twice the retention is long enough for re-sends.
      forgetAfterMs: 2 * (options.retainMs ?? RETAIN_MS),
    });
    this.#interest = new OfferInterest({
      clock: options.clock,
      active: () => !this.#closed && this.#client.connected,
      call: (call) => this.#client.call(call),
      failed: (err) => {
        this.#opts.log("warn", (err as Error).message);
        this.#countRejected(err);
      },
      oldestWaiting: () => {
        const now = this.#opts.clock.now();
        // Tasks of a kind whose launches are backed off do not want offers yet.
        for (const t of this.#table.pending()) {
          if (this.#mayLaunch(t.kind, now)) return t.requestedAt;
        }
        return undefined;
      },
    });
    options.watchLeader?.((leader, previous) =>
      this.#emitBackend({
        kind: "leader",
        ...(leader !== undefined ? { leader } : {}),
        ...(previous !== undefined ? { previous } : {}),
      })
    );
  }

  /** The FrameworkID, once known (from the state file or SUBSCRIBED). */
  get frameworkId(): string | undefined {
    return this.#frameworkId;
  }

  /** True while subscribed. */
  get connected(): boolean {
    return this.#client.connected;
  }

  /** The connection and the counters, for the UI and `/metrics`. */
  status(): BackendStatus {
    const s = this.stats;
    return {
      connected: this.connected,
      ...(s.leader !== undefined ? { leader: s.leader } : {}),
      ...(this.#frameworkId !== undefined ? { frameworkId: this.#frameworkId } : {}),
      offersReceived: s.offersReceived,
      offersUsed: s.offersUsed,
      offersDeclined: s.offersDeclined,
      offersRescinded: s.offersRescinded,
      updates: { ...s.updates },
      reconnects: s.reconnects,
      launchesRefused: { ...s.launchesRefused },
      duplicateUpdates: s.duplicateUpdates,
      callsRejected: { ...s.callsRejected },
      ...(s.disconnectedSince !== undefined ? { disconnectedSince: s.disconnectedSince } : {}),
    };
  }

  onBackendEvent(listener: (event: BackendEvent) => void): () => void {
    const wrapped = (event: BackendEvent) => listener(event);
    this.#backendListeners.add(wrapped);
    return () => {
      this.#backendListeners.delete(wrapped);
    };
  }

  /** Reads the saved FrameworkID, then starts subscribing. */
  async start(): Promise<void> {
    const o = this.#opts;
    const loaded = await loadFrameworkId(o.stateDir, o.frameworkIdStore, o.log);
    if ("fatal" in loaded) {
      o.onFatal(loaded.fatal);
      return;
    }
    if (loaded.id !== undefined) {
      this.#frameworkId = loaded.id;
      this.#resumed = true;
    }
    // Down until the first subscription: said, so that listeners count the outage from now.
    this.stats.disconnectedSince ??= this.#opts.clock.now();
    this.#emitBackend({ kind: "disconnected", reason: "subscribing" });
    this.#client.start();
  }

  /** Ready once subscribed and, after a restart, once reconciliation has had time to answer. */
  ready(): boolean {
    return this.#readyAt !== undefined && this.#opts.clock.now() >= this.#readyAt;
  }

  launch(kind: TaskKind, count: number): string[] {
    if (this.#closed) throw new Error("executor is shutting down");
    if ((kind === "warmer" ? this.#opts.warmer : this.#opts.cooler) === undefined) {
      throw new Error(`no ${kind} command configured`);
    }
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.#table.newId(kind);
      this.#table.add({ id, kind, state: "pending", requestedAt: this.#opts.clock.now() });
      ids.push(id);
    }
    if (count > 0) this.#interest.sync();
    return ids;
  }

  kill(ids: readonly string[]): void {
    for (const id of ids) {
      const task = this.#table.get(id);
      if (!task || TERMINAL_STATES.has(task.state)) continue;
      if (task.state === "pending") {
        this.#table.transition(task, "killed", "cancelled before an offer came");
        continue;
      }
      const policy = this.#template(task.kind).killPolicy;
      this.#send({
        type: "KILL",
        kill: {
          task_id: { value: id },
          ...(task.agentId ? { agent_id: { value: task.agentId } } : {}),
          ...(policy ? { kill_policy: policy } : {}),
        },
      });
    }
  }

  holdLaunches(kind: TaskKind, untilMs: number): void {
    this.#held.set(kind, untilMs);
  }

  /**
   * The upkeep of one tick: offer interest repaired (a SUPPRESS or REVIVE that failed, tasks
   * waiting too long for an offer get a REVIVE), and update uuids older than twice the retention
   * forgotten (they only serve to count duplicate deliveries).
   */
  tick(): void {
    this.#interest.sync();
    this.#acks.forgetOld();
  }

  tasks(): TaskView[] {
    return this.#table.views();
  }

  onTaskEvent(listener: (event: TaskEvent) => void): () => void {
    return this.#table.onTaskEvent(listener);
  }

  async shutdown(mode: ExitMode, graceMs: number): Promise<void> {
    this.#closed = true;
    await this.#table.shutdown(mode, graceMs, {
      kill: (tasks) => this.kill(tasks.map((t) => t.id)),
      sleep: (ms, signal) => this.#opts.clock.sleep(ms, signal),
      killWaitMs: KILL_WAIT_MS,
    });
    if (this.#table.live().length === 0 && this.#client.connected) {
      // Nothing of ours runs: stop offers to this framework while it is away. Waited for a
      // little (closing the client ends the calls still in flight), never long enough to hold
      // up the exit.
      const sent = this.#send({ type: "SUPPRESS", suppress: {} });
      const waited = new AbortController();
      await Promise.race([sent, this.#opts.clock.sleep(SUPPRESS_AT_EXIT_MS, waited.signal)]);
      waited.abort();
    }
    await this.#client.close();
    this.#opts.onClose?.();
  }

  #frameworkInfo(): FrameworkInfo {
    const o = this.#opts;
    return {
      user: o.user,
      name: `Relay.Mesos: ${o.frameworkName}`,
      ...(this.#frameworkId ? { id: { value: this.#frameworkId } } : {}),
      failover_timeout: o.failoverTimeoutSeconds,
      checkpoint: o.checkpoint,
      roles: [...o.roles],
      capabilities: this.#capabilities(),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.principal ? { principal: o.principal } : {}),
      ...(o.labels.length ? { labels: { labels: o.labels.map((l) => ({ ...l })) } } : {}),
    };
  }

  /**
   * MULTI_ROLE (roles and allocation_info), PARTITION_AWARE (TASK_UNREACHABLE for a partitioned
   * agent's tasks, which may come back, and TASK_GONE / TASK_DROPPED / TASK_UNKNOWN instead of
   * TASK_LOST), and GPU_RESOURCES when tasks ask for GPUs (Mesos offers GPU agents to no other
   * framework).
   */
  #capabilities(): FrameworkInfo["capabilities"] {
    const caps: NonNullable<FrameworkInfo["capabilities"]> = [
      { type: "MULTI_ROLE" },
      { type: "PARTITION_AWARE" },
    ];
    if (this.#opts.taskResources.gpus > 0) caps.push({ type: "GPU_RESOURCES" });
    return caps;
  }

  #onConnected(info: { leader: string; frameworkId: string }): void {
    this.stats.reconnects = this.#client.reconnects;
    this.stats.leader = info.leader;
    delete this.stats.disconnectedSince;
    const first = this.#frameworkId !== info.frameworkId;
    this.#frameworkId = info.frameworkId;
    this.#opts.log("info", `mesos: subscribed to ${info.leader} as framework ${info.frameworkId}`);
    this.#emitBackend({ kind: "connected", leader: info.leader, frameworkId: info.frameworkId });
    this.#readyAt ??= this.#opts.clock.now() +
      (this.#resumed ? this.#opts.reconcileSettleMs ?? 2000 : 0);
    if (first) {
      saveFrameworkId(
        this.#opts.stateDir,
        this.#opts.frameworkIdStore,
        info.frameworkId,
        this.#opts.log,
      );
    }
    // The master drops events while we are away: ask for the state of everything we know, and
    // (empty list) for every task of the framework, to adopt tasks of an earlier run.
    const known = this.#table.live().filter(
      (t) => !TERMINAL_STATES.has(t.state) && t.state !== "pending",
    );
    this.#send({
      type: "RECONCILE",
      reconcile: {
        tasks: known.map((t) => ({
          task_id: { value: t.id },
          ...(t.agentId ? { agent_id: { value: t.agentId } } : {}),
        })),
      },
    });
    if (known.length > 0) this.#send({ type: "RECONCILE", reconcile: { tasks: [] } });
    this.#interest.subscribed();
  }

  #onEvent(event: Event): void {
    switch (event.type) {
      case "OFFERS":
        this.#onOffers(event.offers?.offers ?? []);
        break;
      case "RESCIND":
        this.stats.offersRescinded++;
        this.#opts.log("debug", `mesos: offer ${event.rescind?.offer_id.value} rescinded`);
        break;
      case "UPDATE":
        if (event.update) this.#onUpdate(event.update.status);
        break;
      case "ERROR":
        this.#opts.log("error", `mesos: ERROR from the master: ${event.error?.message ?? ""}`);
        this.#opts.onFatal(`Mesos master sent ERROR: ${event.error?.message ?? ""}`);
        break;
      case "FAILURE":
        this.#opts.log(
          "warn",
          `mesos: FAILURE: agent ${event.failure?.agent_id?.value ?? "?"} ` +
            `executor ${event.failure?.executor_id?.value ?? "-"} status ${
              event.failure?.status ?? "-"
            }`,
        );
        break;
      default:
        break;
    }
  }

  #onOffers(offers: Offer[]): void {
    this.stats.offersReceived += offers.length;
    const now = this.#opts.clock.now();
    this.#interest.offersCame();
    const waiting = [...this.#table.pending()].filter((t) => this.#mayLaunch(t.kind, now));
    const { accept, decline } = packOffers(
      offers,
      waiting.length,
      this.#opts.taskResources,
      this.#placement(waiting),
    );
    for (const plan of accept) {
      const infos: TaskInfo[] = [];
      const launched: MesosTask[] = [];
      const where: Place = {
        hostname: plan.offer.hostname,
        ...(plan.offer.attributes ? { attributes: plan.offer.attributes } : {}),
      };
      for (const [j, resources] of plan.tasks.entries()) {
        const task = waiting[plan.indices[j]];
        task.agentId = plan.offer.agent_id.value;
        task.launchedAt = now;
        task.where = where;
        infos.push(this.#taskInfo(task, plan.offer, resources));
        launched.push(task);
      }
      this.stats.offersUsed++;
      for (const task of launched) this.#table.transition(task, "starting");
      this.#send({
        type: "ACCEPT",
        accept: {
          offer_ids: [plan.offer.id],
          operations: [{ type: "LAUNCH", launch: { task_infos: infos } }],
          filters: { refuse_seconds: this.#opts.refuseSeconds },
        },
      }, () => {
        // Not launched (as far as we can tell): count them lost so the loop decides again. If
        // the master did launch them, their updates will bring them back.
        for (const t of launched) {
          if (t.state === "starting") {
            t.acceptFailed = true;
            this.#table.transition(t, "lost", "ACCEPT call failed");
          }
        }
        // The offer stays outstanding at the master unless it was used after all: hand it back
        // (a DECLINE of a used offer is ignored), as the subscription stays.
        this.stats.offersDeclined++;
        this.#send({
          type: "DECLINE",
          decline: {
            offer_ids: [plan.offer.id],
            filters: { refuse_seconds: this.#opts.refuseSeconds },
          },
        });
      });
    }
    if (decline.length > 0) {
      this.stats.offersDeclined += decline.length;
      // One call for all of them: DECLINE takes any number of offer ids.
      this.#send({
        type: "DECLINE",
        decline: {
          offer_ids: decline.map((o) => o.id),
          filters: { refuse_seconds: this.#opts.refuseSeconds },
        },
      });
    }
    this.#emitBackend({
      kind: "offers",
      received: offers.length,
      used: accept.length,
      declined: decline.length,
    });
    this.#interest.sync();
  }

  /**
   * The placement constraints as a packing hook, counting where each kind's live tasks are; none
   * without constraints.
   */
  #placement(waiting: readonly MesosTask[]): PlacementHook | undefined {
    const constraints = this.#opts.constraints ?? [];
    if (constraints.length === 0) return undefined;
    const counts = new Map<TaskKind, PlacementCounts>();
    const of = (kind: TaskKind) => {
      let c = counts.get(kind);
      if (!c) counts.set(kind, c = new Map());
      return c;
    };
    for (const t of this.#table.all()) {
      if (t.where && t.state !== "pending" && !TERMINAL_STATES.has(t.state)) {
        place(constraints, t.where, of(t.kind));
      }
    }
    return {
      admits: (offer, i) => admits(constraints, offer, of(waiting[i].kind)),
      placed: (offer, i) => place(constraints, offer, of(waiting[i].kind)),
    };
  }

  #taskInfo(task: MesosTask, offer: Offer, resources: Resource[]): TaskInfo {
    const t = this.#template(task.kind);
    // The shared parts are shared objects: a call is a value that nobody changes once built.
    const variables = t.variables.slice();
    variables[t.idAt] = { name: "RELAY_TASK_ID", value: task.id };
    const info: TaskInfo = {
      name: t.name,
      task_id: { value: task.id },
      agent_id: offer.agent_id,
      resources,
      command: {
        shell: true,
        value: t.command,
        environment: { variables },
        ...(t.uris ? { uris: t.uris } : {}),
      },
      labels: t.labels,
    };
    if (t.container) info.container = t.container;
    if (t.killPolicy) info.kill_policy = t.killPolicy;
    return info;
  }

  #template(kind: TaskKind): TaskTemplate {
    let t = this.#templates.get(kind);
    if (t) return t;
    const o = this.#opts;
    // The environment is {...env, RELAY_TASK_ID, RELAY_TASK_KIND} in that key order.
    const env: Record<string, string> = { ...o.env, RELAY_TASK_ID: "", RELAY_TASK_KIND: kind };
    const variables = Object.entries(env).map(([name, value]) => ({ name, value }));
    let container: ContainerInfo | undefined;
    if (o.docker) {
      container = {
        type: "DOCKER",
        docker: {
          image: o.docker.image,
          network: o.docker.network,
          force_pull_image: o.docker.forcePull,
          ...(o.docker.parameters.length ? { parameters: [...o.docker.parameters] } : {}),
        },
        ...(o.docker.volumes.length
          ? {
            volumes: o.docker.volumes.map((v) => ({
              container_path: v.container,
              host_path: v.host,
              mode: v.mode,
            })),
          }
          : {}),
      };
    }
    t = {
      name: `relay.mesos ${kind} ${o.frameworkName}`,
      command: kind === "warmer" ? o.warmer! : o.cooler!,
      variables,
      idAt: variables.findIndex((v) => v.name === "RELAY_TASK_ID"),
      uris: o.uris.length ? o.uris.map((value) => ({ value })) : undefined,
      labels: {
        labels: [
          { key: "relay.mesos.kind", value: kind },
          ...(o.taskLabels ?? []).map((l) => ({
            ...l,
          })),
        ],
      },
      container,
      killPolicy: o.killGraceSeconds === undefined ? undefined : {
        grace_period: { nanoseconds: Math.round(o.killGraceSeconds * NANOS_PER_SECOND) },
      },
    };
    this.#templates.set(kind, t);
    return t;
  }

  #onUpdate(status: TaskStatus): void {
    const id = status.task_id.value;
    this.stats.updates[status.state] = (this.stats.updates[status.state] ?? 0) + 1;
    let task = this.#table.get(id);
    if (!task) task = this.#adopt(status);
    if (task) {
      const unreachable = status.state === "TASK_UNREACHABLE";
      // An unreachable task stays as it was (a starting one is not made running) until its
      // agent comes back (a fresh state) or it is gone.
      const state = unreachable && !TERMINAL_STATES.has(task.state)
        ? task.state
        : taskStateOf(status.state);
      if (unreachable && !task.unreachable && !TERMINAL_STATES.has(task.state)) {
        task.unreachable = true;
        this.#opts.log(
          "warn",
          `mesos: task ${id} is unreachable (${status.reason ?? "agent partitioned"}); ` +
            "counted as before until it comes back or is gone",
        );
      } else if (!unreachable && task.unreachable) {
        delete task.unreachable;
        this.#opts.log("info", `mesos: task ${id} is reachable again (${status.state})`);
      }
      const refused = task.state === "starting" &&
        (status.state === "TASK_ERROR" || status.state === "TASK_DROPPED");
      if (refused) this.#launchRefused(task, status);
      else if (state === "running") this.#launchesAccepted(task.kind);
      if (status.agent_id) task.agentId = status.agent_id.value;
      const reason = [status.reason, status.message].filter(Boolean).join(": ") || undefined;
      const ended = TERMINAL_STATES.has(state) ? reason : undefined;
      if (task.acceptFailed === true && task.state === "lost" && state !== "lost") {
        // Its ACCEPT failed on the way back, not at the master: the task is ours to count again.
        delete task.acceptFailed;
        this.#opts.log("info", `mesos: task ${id} was launched after all (${status.state})`);
        this.#table.revive(task, state, ended);
      } else {
        this.#table.transition(task, state, ended);
      }
    }
    // Recorded above; now acknowledged (a re-sent one too).
    const ack = this.#acks.acknowledge(status);
    if (ack !== undefined) this.stats.acknowledged++;
    if (ack === "again") this.stats.duplicateUpdates++;
  }

  /** Whether tasks of `kind` may be launched now (not backed off after a refusal or failures). */
  #mayLaunch(kind: TaskKind, now: number): boolean {
    return this.#backoff.state(kind, now).pauseMs === 0 && now >= (this.#held.get(kind) ?? 0);
  }

  /**
   * The master refused a launch: hold that kind's launches back, doubling the pause with every
   * refusal of a launch made after the previous one (a batch refused at once counts once).
   */
  #launchRefused(task: MesosTask, status: TaskStatus): void {
    const kind = task.kind;
    this.stats.launchesRefused[kind] = (this.stats.launchesRefused[kind] ?? 0) + 1;
    const now = this.#opts.clock.now();
    const b = this.#backoff.failed(kind, task.launchedAt ?? now, now);
    if (b === undefined) return;
    const pause = b.pauseMs;
    const why = [status.state, status.reason, status.message].filter(Boolean).join(": ");
    if (b.failures === 1) {
      this.#opts.log(
        "warn",
        `mesos: the master refused a ${kind} launch (${why}); ${kind} launches back off ` +
          `(${pause / 1000} s, doubling up to ${LAUNCH_BACKOFF_MAX_MS / 1000} s while refused)`,
      );
    } else {
      this.#opts.log("debug", `mesos: ${kind} launch refused again (${why}); next in ${pause} ms`);
    }
  }

  /** A task of `kind` runs: its launches are no longer backed off. */
  #launchesAccepted(kind: TaskKind): void {
    const { failures } = this.#backoff.state(kind, this.#opts.clock.now());
    if (!this.#backoff.succeeded(kind)) return;
    this.#opts.log("info", `mesos: ${kind} launches accepted again after ${failures} refusals`);
  }

  /** Counts a call the master answered with an HTTP error status. */
  #countRejected(err: unknown): void {
    const status = (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 300) {
      this.stats.callsRejected[status] = (this.stats.callsRejected[status] ?? 0) + 1;
    }
  }

  /** A task of ours we did not know: from before a restart. Adopt live ones. */
  #adopt(status: TaskStatus): MesosTask | undefined {
    const m = status.task_id.value.match(/^(?:[\w.-]+)-(warmer|cooler)-\d+-[0-9a-f]+$/);
    const state = taskStateOf(status.state);
    if (!m || TERMINAL_STATES.has(state)) return undefined;
    const now = this.#opts.clock.now();
    const task: MesosTask = {
      id: status.task_id.value,
      kind: m[1] as TaskKind,
      state,
      requestedAt: now,
      ...(state === "running" ? { startedAt: now } : {}),
      ...(status.agent_id ? { agentId: status.agent_id.value } : {}),
    };
    this.#opts.log("info", `mesos: adopted ${state} task ${task.id} from an earlier run`);
    return this.#table.add(task);
  }

  #emitBackend(event: BackendEvent): void {
    for (const listener of [...this.#backendListeners]) {
      try {
        listener(event);
      } catch (err) {
        this.#opts.log("error", `mesos: backend listener failed: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Sends a call without blocking the caller; failures are logged (and `onError` runs). The
   * promise, for a caller that wants to wait, settles once the call is answered or has failed,
   * and never rejects.
   */
  #send(call: Omit<Call, "framework_id">, onError?: () => void): Promise<void> {
    return this.#client.call(call).catch((err) => {
      onError?.();
      this.#opts.log("warn", (err as Error).message);
      this.#countRejected(err);
    });
  }
}
