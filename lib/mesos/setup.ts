/**
 * Builds the Mesos executor from the parsed options: reads the secret and CA certificate files,
 * turns list options into typed values, and connects leader detection to the scheduler client.
 * Everything read from disk here fails with a {@linkcode ConfigError} naming the option.
 * @module
 */

import type { Clock } from "../clock.ts";
import type { Config } from "../config/options.ts";
import { readOptionFile, readSecretFile } from "../config/option_files.ts";
import type { LogFn } from "../log.ts";
import { SchedulerClient } from "./client.ts";
import { parseConstraint } from "./constraints.ts";
import { MesosExecutor, type MesosExecutorOptions } from "./framework.ts";
import { LeaderDetector } from "./leader.ts";
import { parseTaskResources } from "./offers.ts";

/** What the executor needs from the process around it. */
export interface MesosDeps {
  readonly clock: Clock;
  readonly log: LogFn;
  readonly onFatal: (reason: string) => void;
  readonly readTextFile: (path: string) => string;
  /** Default for `--mesos-user`. */
  readonly user: string;
  /** Where the FrameworkID is kept instead of `--state-dir` (with `--ha-zk`). */
  readonly frameworkIdStore?: MesosExecutorOptions["frameworkIdStore"];
}

/**
 * Creates the Mesos executor for `config` and starts leader detection (for a `zk://` master,
 * watching ZooKeeper begins now); the executor subscribes when it is started.
 *
 * @example
 * ```ts
 * import type { Config } from "../config/options.ts";
 * async function start(config: Config, deps: MesosDeps) {
 *   const executor = createMesosExecutor(config, { PATH: "/usr/bin:/bin" }, deps);
 *   await executor.start();
 * }
 * ```
 */
export function createMesosExecutor(
  config: Config,
  taskEnv: Record<string, string>,
  deps: MesosDeps,
): MesosExecutor {
  const secret = config.mesosSecret ??
    (config.mesosSecretFile === undefined
      ? undefined
      : readSecretFile("mesos-secret-file", config.mesosSecretFile, deps.readTextFile));
  const caCert = config.mesosCaCert === undefined
    ? undefined
    : readOptionFile("mesos-ca-cert", config.mesosCaCert, deps.readTextFile);
  const detector = new LeaderDetector(config.mesosMaster!, { log: deps.log, clock: deps.clock });
  detector.start();
  let client: SchedulerClient | undefined;
  // A new leader: leave the old one's stream now rather than when it breaks.
  detector.onChange((leader, previous) => {
    if (previous !== undefined && leader !== undefined) {
      client?.reconnect(`leader changed from ${previous} to ${leader}`);
    }
  });
  return new MesosExecutor({
    connect: (handlers) =>
      client = new SchedulerClient({
        leader: () => detector.current(),
        leaderFailed: () => detector.next(),
        contentType: config.mesosContentType,
        maxFrameBytes: config.mesosMaxFrameBytes,
        ...(secret !== undefined
          ? { credentials: { principal: config.mesosPrincipal!, secret } }
          : {}),
        ...(caCert !== undefined ? { caCert } : {}),
        clock: deps.clock,
        log: deps.log,
      }, handlers),
    onClose: () => void detector.close(),
    frameworkName: config.mesosFrameworkName,
    user: config.mesosUser ?? deps.user,
    roles: config.mesosRole.length > 0 ? config.mesosRole : ["*"],
    ...(config.mesosPrincipal ? { principal: config.mesosPrincipal } : {}),
    checkpoint: config.mesosCheckpoint,
    failoverTimeoutSeconds: config.mesosFailoverTimeout,
    ...(config.mesosHostname ? { hostname: config.mesosHostname } : {}),
    labels: config.mesosLabel.map(splitPair),
    taskLabels: config.mesosTaskLabel.map(splitPair),
    constraints: config.mesosConstraint.map(parseConstraint),
    refuseSeconds: config.mesosRefuseSeconds,
    ...(config.taskKillGrace !== undefined ? { killGraceSeconds: config.taskKillGrace } : {}),
    taskResources: parseTaskResources(config.mesosTaskResources),
    warmer: config.warmer,
    cooler: config.cooler,
    env: taskEnv,
    uris: config.mesosUris,
    ...(config.dockerImage
      ? {
        docker: {
          image: config.dockerImage,
          network: config.dockerNetwork,
          forcePull: config.dockerForcePull,
          parameters: config.dockerParameter.map(splitPair),
          volumes: config.dockerVolume.map((v) => {
            const [host, container, mode] = v.split(":");
            return { host, container, mode: mode === "ro" ? "RO" as const : "RW" as const };
          }),
        },
      }
      : {}),
    stateDir: config.stateDir,
    ...(deps.frameworkIdStore ? { frameworkIdStore: deps.frameworkIdStore } : {}),
    clock: deps.clock,
    log: deps.log,
    onFatal: deps.onFatal,
  });
}

function splitPair(entry: string): { key: string; value: string } {
  const eq = entry.indexOf("=");
  return { key: entry.slice(0, eq), value: entry.slice(eq + 1) };
}
