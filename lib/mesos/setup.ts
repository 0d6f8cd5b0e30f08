/**
 * Builds the Mesos executor from the resolved Mesos settings (parsed and read at the config edge)
 * and connects leader detection to the scheduler client.
 * @module
 */

import type { Clock } from "../clock.ts";
import type { MesosSettings } from "../config/settings.ts";
import type { LogFn } from "../log.ts";
import { SchedulerClient } from "./client.ts";
import { MesosExecutor, type MesosExecutorOptions } from "./framework.ts";
import { LeaderDetector } from "./leader.ts";

/** What the executor needs from the process around it. */
export interface MesosDeps {
  readonly clock: Clock;
  readonly log: LogFn;
  readonly onFatal: (reason: string) => void;
  /** Default for `--mesos-user`. */
  readonly user: string;
  /** Where the FrameworkID is kept instead of `--state-dir` (with `--ha-zk`). */
  readonly frameworkIdStore?: MesosExecutorOptions["frameworkIdStore"];
}

/** What the tasks are: the commands and the environment they run with. */
export interface MesosTasks {
  readonly warmer?: string;
  readonly cooler?: string;
  readonly env: Readonly<Record<string, string>>;
  /** `--task-kill-grace`: seconds between SIGTERM and SIGKILL; unset: the agent's default. */
  readonly killGraceSeconds?: number;
}

/**
 * Creates the Mesos executor for `settings` and starts leader detection (for a `zk://` master,
 * watching ZooKeeper begins now); the executor subscribes when it is started.
 *
 * @example
 * ```ts
 * import type { MesosSettings } from "../config/settings.ts";
 * async function start(settings: MesosSettings, deps: MesosDeps) {
 *   const executor = createMesosExecutor(settings, { cooler: "./consume.sh", env: {} }, deps);
 *   await executor.start();
 * }
 * ```
 */
export function createMesosExecutor(
  settings: MesosSettings,
  tasks: MesosTasks,
  deps: MesosDeps,
): MesosExecutor {
  const detector = new LeaderDetector(settings.master, { log: deps.log, clock: deps.clock });
  detector.start();
  let client: SchedulerClient | undefined;
  // A new leader: leave the old one's stream now rather than when it breaks.
  detector.onChange((leader, previous) => {
    if (previous !== undefined && leader !== undefined) {
      client?.reconnect(`leader changed from ${previous} to ${leader}`);
    }
  });
  const { secret, principal, caCert } = settings;
  return new MesosExecutor({
    connect: (handlers) =>
      client = new SchedulerClient({
        leader: () => detector.current(),
        leaderFailed: () => detector.next(),
        contentType: settings.contentType,
        maxFrameBytes: settings.maxFrameBytes,
        ...(secret !== undefined && principal !== undefined
          ? { credentials: { principal, secret } }
          : {}),
        ...(caCert !== undefined ? { caCert } : {}),
        clock: deps.clock,
        log: deps.log,
      }, handlers),
    onClose: () => void detector.close(),
    watchLeader: (listener) => detector.onChange(listener),
    frameworkName: settings.frameworkName,
    user: settings.user ?? deps.user,
    roles: settings.roles,
    ...(principal !== undefined ? { principal } : {}),
    checkpoint: settings.checkpoint,
    failoverTimeoutSeconds: settings.failoverTimeoutSeconds,
    ...(settings.hostname !== undefined ? { hostname: settings.hostname } : {}),
    labels: settings.labels,
    taskLabels: settings.taskLabels,
    constraints: settings.constraints,
    refuseSeconds: settings.refuseSeconds,
    ...(tasks.killGraceSeconds !== undefined ? { killGraceSeconds: tasks.killGraceSeconds } : {}),
    taskResources: settings.taskResources,
    ...(tasks.warmer !== undefined ? { warmer: tasks.warmer } : {}),
    ...(tasks.cooler !== undefined ? { cooler: tasks.cooler } : {}),
    env: tasks.env,
    uris: settings.uris,
    ...(settings.docker !== undefined ? { docker: settings.docker } : {}),
    stateDir: settings.stateDir,
    ...(deps.frameworkIdStore ? { frameworkIdStore: deps.frameworkIdStore } : {}),
    clock: deps.clock,
    log: deps.log,
    onFatal: deps.onFatal,
  });
}
