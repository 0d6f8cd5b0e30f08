/**
 * The settings of one run, resolved once from the options as given ({@linkcode Config}): the
 * rules that tie options together are checked, every option's text is turned into its typed form
 * (the Mesos master, resources, labels, volumes, constraints, the HA spec), and the files that
 * options name are read (the env file, the Mesos secret, the web token, the CA certificate).
 * Nothing downstream parses option text or reads those files again.
 *
 * Invariants of a {@linkcode Settings}: `metric` and `target` are present; at least one of
 * `warmer` and `cooler` is; `mesos` is present exactly when `--mesos-master` is given, and the
 * Mesos and Docker options live only there. Pure apart from the injected `readTextFile`; every
 * bad input is one {@linkcode ConfigError} naming the option.
 * @module
 */

import type { ParsedSignal } from "../signals/spec.ts";
import { type Constraint, parseConstraint } from "../specs/constraint.ts";
import { type HaSpec, parseHaSpec } from "../specs/ha.ts";
import { type MasterSpec, parseMasterSpec } from "../specs/master.ts";
import {
  type KeyValue,
  PAIR_SHAPE,
  parsePair,
  parseVolume,
  type Volume,
  VOLUME_SHAPE,
} from "../specs/pairs.ts";
import { parseTaskResources, type TaskResources } from "../specs/resources.ts";
import { type ListenAddress, parseListen } from "../web/listen.ts";
import { ConfigError } from "./error.ts";
import { readOptionFile, readSecretFile } from "./option_files.ts";
import { type Config, configKey, envName, OPTIONS } from "./options.ts";
import { buildTaskEnv } from "./task_env.ts";

/** How Mesos runs tasks in a Docker image (`--docker-*`). */
export interface DockerSettings {
  readonly image: string;
  readonly network: Config["dockerNetwork"];
  readonly forcePull: boolean;
  readonly volumes: readonly Volume[];
  readonly parameters: readonly KeyValue[];
}

/** Everything the Mesos executor is told by the options (`--mesos-*`, `--docker-*`). */
export interface MesosSettings {
  readonly master: MasterSpec;
  readonly frameworkName: string;
  /** `--mesos-user`; unset: the user Relay runs as. */
  readonly user?: string;
  /** At least one (`*` when none is given). */
  readonly roles: readonly string[];
  readonly principal?: string;
  /** The secret itself, from RELAY_MESOS_SECRET or `--mesos-secret-file`; only with a principal. */
  readonly secret?: string;
  /** The PEM text of `--mesos-ca-cert`. */
  readonly caCert?: string;
  readonly contentType: Config["mesosContentType"];
  readonly maxFrameBytes: number;
  readonly checkpoint: boolean;
  readonly failoverTimeoutSeconds: number;
  readonly hostname?: string;
  readonly labels: readonly KeyValue[];
  readonly taskLabels: readonly KeyValue[];
  readonly constraints: readonly Constraint[];
  readonly taskResources: TaskResources;
  readonly refuseSeconds: number;
  readonly uris: readonly string[];
  readonly docker?: DockerSettings;
  /** Directory of the state file (the FrameworkID). */
  readonly stateDir: string;
  /** `--ha-zk`: where the instances of this framework elect their leader. */
  readonly ha?: HaSpec;
}

/** Options that {@linkcode Settings} holds in resolved form, or not at all. */
const RESOLVED: ReadonlySet<string> = new Set(
  [
    "stateDir",
    "haZk",
    "metric",
    "target",
    "signalEnv",
    "env",
    "envFile",
    "webToken",
    "webTokenFile",
    "config",
  ] satisfies (keyof Config)[],
);

/** The type of the options {@linkcode RESOLVED} names, with every `mesos*` and `docker*` one. */
type Resolved =
  | Extract<keyof Config, `mesos${string}` | `docker${string}`>
  | "stateDir"
  | "haZk"
  | "metric"
  | "target"
  | "signalEnv"
  | "env"
  | "envFile"
  | "webToken"
  | "webTokenFile"
  | "config";

/** What a run uses: the plain options as they are, the rest resolved. */
export type Settings = Omit<Config, Resolved> & {
  readonly metric: ParsedSignal;
  readonly target: ParsedSignal;
  /** The whole environment of `cmd:` signals: PATH and what `--signal-env` names. */
  readonly signalEnv: Readonly<Record<string, string>>;
  /** The whole environment of tasks (`--env`, `--env-file`; PATH unless in a Docker image). */
  readonly taskEnv: Readonly<Record<string, string>>;
  /** From RELAY_WEB_TOKEN or `--web-token-file`. */
  readonly webToken?: string;
  /** `--web-listen`, parsed. */
  readonly webAddress: ListenAddress;
  /** Present exactly when `--mesos-master` is given. */
  readonly mesos?: MesosSettings;
  /**
   * The options in effect as the web UI shows them: secrets (env-only options) redacted, and
   * without the Mesos and Docker options on the local executor.
   */
  readonly shownOptions: Readonly<Record<string, unknown>>;
};

/** The option list entries of the form KEY=VALUE (or a volume), with what each must look like. */
const SHAPED_LISTS = [
  ["mesos-label", "mesosLabel", PAIR_SHAPE, "KEY=VALUE"],
  [
    "mesos-task-label",
    "mesosTaskLabel",
    /^(?!relay\.mesos\.kind=)[^=]+=.*$/,
    "KEY=VALUE (not relay.mesos.kind)",
  ],
  ["docker-parameter", "dockerParameter", PAIR_SHAPE, "KEY=VALUE"],
  ["docker-volume", "dockerVolume", VOLUME_SHAPE, "/HOST:/CONTAINER[:ro|rw]"],
] as const;

/**
 * Checks the rules that involve more than one option, parses what is still text, and reads the
 * files options name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./parse.ts";
 * const r = parseConfig({
 *   argv: ["--metric", "5", "--target", "0", "--cooler", "true", "--mesos-master", "http://m:5050"],
 *   env: {},
 *   readTextFile: () => "",
 * });
 * assert.equal(r.kind === "run" && r.settings.mesos?.taskResources.cpus, 0.1);
 * ```
 */
export function resolveSettings(
  c: Config,
  parentEnv: Readonly<Record<string, string | undefined>>,
  readTextFile: (path: string) => string,
): Settings {
  if (c.metric === undefined) {
    throw new ConfigError(`--metric: required (${envName("metric")}, or metric: in --config)`);
  }
  if (c.target === undefined) {
    throw new ConfigError(`--target: required (${envName("target")}, or target: in --config)`);
  }
  if (c.warmer === undefined && c.cooler === undefined) {
    throw new ConfigError("--warmer/--cooler: give at least one task command");
  }
  if (c.coolerMode === "kill" && c.warmer === undefined) {
    throw new ConfigError("--cooler-mode: kill stops running warmers, so it needs --warmer");
  }
  if (c.coolerMode === "kill" && c.cooler !== undefined) {
    throw new ConfigError("--cooler: not used with --cooler-mode kill (coolers are kills)");
  }
  let ha: HaSpec | undefined;
  if (c.haZk !== undefined) {
    if (c.mesosMaster === undefined) {
      throw new ConfigError("--ha-zk: only used with --mesos-master");
    }
    ha = parsed("ha-zk", () => parseHaSpec(c.haZk!));
  }
  let master: MasterSpec | undefined;
  if (c.mesosMaster === undefined) {
    if (c.dockerImage !== undefined) {
      throw new ConfigError("--docker-image: only used with --mesos-master");
    }
    if (c.mesosUris.length > 0) {
      throw new ConfigError("--mesos-uris: only used with --mesos-master");
    }
  } else {
    master = parsed("mesos-master", () => parseMasterSpec(c.mesosMaster!));
  }
  const taskResources = parsed(
    "mesos-task-resources",
    () => parseTaskResources(c.mesosTaskResources),
  );
  if (c.mesosSecretFile !== undefined && c.mesosSecret !== undefined) {
    throw new ConfigError(
      "--mesos-secret-file: give the secret by file or by RELAY_MESOS_SECRET, not both",
    );
  }
  if (c.webTokenFile !== undefined && c.webToken !== undefined) {
    throw new ConfigError(
      "--web-token-file: give the token by file or by RELAY_WEB_TOKEN, not both",
    );
  }
  let webAddress: ListenAddress;
  try {
    webAddress = parseListen(c.webListen);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }

  if ((c.mesosSecretFile !== undefined || c.mesosSecret !== undefined) && !c.mesosPrincipal) {
    throw new ConfigError("--mesos-principal: required with a Mesos secret");
  }
  for (const [name, key, pattern, shape] of SHAPED_LISTS) {
    for (const entry of c[key]) {
      if (!pattern.test(entry)) {
        throw new ConfigError(`--${name}: expected ${shape}, got "${entry}"`);
      }
    }
  }
  const constraints = c.mesosConstraint.map((entry) =>
    parsed("mesos-constraint", () => parseConstraint(entry))
  );
  for (const entry of c.env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(=|$)/.test(entry)) {
      throw new ConfigError(`--env: expected KEY=VALUE or KEY, got "${entry}"`);
    }
  }

  // A Docker image has its own PATH: ours only when asked for (`--env PATH`).
  const taskEnv = buildTaskEnv(
    c.env,
    c.envFile,
    parentEnv,
    readTextFile,
    c.dockerImage === undefined,
  );
  // `cmd:` signals get the tasks' policy: PATH and what --signal-env names, nothing else.
  const signalEnv = buildTaskEnv(c.signalEnv, undefined, parentEnv, () => "");
  const webToken = c.webTokenFile === undefined
    ? c.webToken
    : readSecretFile("web-token-file", c.webTokenFile, readTextFile);

  return {
    ...plainOptions(c),
    metric: c.metric,
    target: c.target,
    webAddress,
    signalEnv,
    taskEnv,
    ...(webToken !== undefined ? { webToken } : {}),
    ...(master !== undefined
      ? { mesos: mesosSettings(c, master, taskResources, constraints, ha, readTextFile) }
      : {}),
    shownOptions: shownOptions(c),
  };
}

/** Options that {@linkcode Settings} holds as they are: all but the resolved ones. */
function plainOptions(c: Config): Omit<Config, Resolved> {
  return Object.fromEntries(
    Object.entries(c).filter(([key]) => !RESOLVED.has(key) && !/^(mesos|docker)[A-Z]/.test(key)),
  ) as Omit<Config, Resolved>;
}

function mesosSettings(
  c: Config,
  master: MasterSpec,
  taskResources: TaskResources,
  constraints: readonly Constraint[],
  ha: HaSpec | undefined,
  readTextFile: (path: string) => string,
): MesosSettings {
  const secret = c.mesosSecret ??
    (c.mesosSecretFile === undefined
      ? undefined
      : readSecretFile("mesos-secret-file", c.mesosSecretFile, readTextFile));
  const caCert = c.mesosCaCert === undefined
    ? undefined
    : readOptionFile("mesos-ca-cert", c.mesosCaCert, readTextFile);
  return {
    master,
    frameworkName: c.mesosFrameworkName,
    ...(c.mesosUser !== undefined ? { user: c.mesosUser } : {}),
    roles: c.mesosRole.length > 0 ? c.mesosRole : ["*"],
    ...(c.mesosPrincipal ? { principal: c.mesosPrincipal } : {}),
    ...(secret !== undefined ? { secret } : {}),
    ...(caCert !== undefined ? { caCert } : {}),
    contentType: c.mesosContentType,
    maxFrameBytes: c.mesosMaxFrameBytes,
    checkpoint: c.mesosCheckpoint,
    failoverTimeoutSeconds: c.mesosFailoverTimeout,
    ...(c.mesosHostname ? { hostname: c.mesosHostname } : {}),
    labels: c.mesosLabel.map(parsePair),
    taskLabels: c.mesosTaskLabel.map(parsePair),
    constraints,
    taskResources,
    refuseSeconds: c.mesosRefuseSeconds,
    uris: c.mesosUris,
    ...(c.dockerImage
      ? {
        docker: {
          image: c.dockerImage,
          network: c.dockerNetwork,
          forcePull: c.dockerForcePull,
          volumes: c.dockerVolume.map(parseVolume),
          parameters: c.dockerParameter.map(parsePair),
        },
      }
      : {}),
    stateDir: c.stateDir,
    ...(ha !== undefined ? { ha } : {}),
  };
}

/** The options in effect as the web UI shows them (see {@linkcode Settings.shownOptions}). */
function shownOptions(c: Config): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  const local = c.mesosMaster === undefined;
  for (const opt of OPTIONS) {
    // The local executor has no use for the Mesos and Docker options: they would only be noise.
    if (local && (opt.group === "Mesos" || opt.group === "Docker")) continue;
    const value = (c as Record<string, unknown>)[configKey(opt.name)];
    if (value === undefined) continue;
    if ("envOnly" in opt && opt.envOnly) shown[opt.name] = "(redacted)";
    else if (opt.type === "signal") shown[opt.name] = (value as ParsedSignal).text;
    else shown[opt.name] = value;
  }
  return shown;
}

/** Runs one spec parser; its error becomes a ConfigError naming `--option`. */
function parsed<T>(option: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new ConfigError(`--${option}: ${(err as Error).message}`);
  }
}
