/**
 * The one table of options. Flags, environment names, YAML keys, types, defaults and help text
 * all come from here; the parser, `--help` and the README's option list are derived from it.
 *
 * Naming rule (applied in {@linkcode envName} and {@linkcode yamlKey}): the flag `--max-running`
 * reads `RELAY_MAX_RUNNING` from the environment and `max_running` from a YAML file. Mesos options
 * are named `mesos-*`, so they read `RELAY_MESOS_*`, as in the original Relay.Mesos.
 * @module
 */

import { DEFAULT_TASK_COST } from "../control/tuning.ts";
import type { ParsedSignal } from "../signals/spec.ts";

/**
 * Longest duration a timer can wait, in seconds: Deno's timers hold 2^31 - 1 ms (about 24.8
 * days); a longer one fires at once. Every option that becomes a timer is bounded by it.
 */
export const MAX_TIMER_SECONDS = 2_147_483;
/** Longest `--duration` (ten years): the loop sleeps in pieces, so only sanity bounds it. */
export const MAX_RUN_SECONDS = 10 * 365 * 86_400;
/** Most starts one tick may ask for (`--max-tasks-per-tick`); the loop enforces it even at 0. */
export const MAX_STARTS_PER_TICK = 1000;

/** How an option's text is turned into a value. */
export type OptionType =
  | "number"
  | "integer"
  | "boolean"
  | "string"
  | "enum"
  | "list"
  | "signal";

/** One row of the table. */
export interface OptionSpec {
  /** Long flag without dashes, kebab-case. */
  readonly name: string;
  readonly type: OptionType;
  /** Default value; `undefined` means "not set". */
  readonly default: number | boolean | string | readonly string[] | undefined;
  /** Placeholder shown in help, e.g. `SECONDS`. */
  readonly arg?: string;
  /** Allowed values, for `enum`. */
  readonly choices?: readonly string[];
  /** Smallest allowed value, for `number` and `integer`. */
  readonly min?: number;
  /** True when the minimum itself is not allowed (value must be greater). */
  readonly minExclusive?: boolean;
  /** Largest allowed value, for `number` and `integer` (what the program can honour). */
  readonly max?: number;
  /** Help group. */
  readonly group:
    | "Signals"
    | "Tasks"
    | "Control"
    | "Run"
    | "Output"
    | "Web"
    | "Mesos"
    | "Docker";
  /** Read only from the environment (secrets): no flag, no YAML key. */
  readonly envOnly?: boolean;
  /**
   * The original relay.mesos's snake_case spellings of this option (`mesos_master`), accepted as
   * deprecated flags (`--mesos_master`) and environment names (`RELAY_MESOS_MASTER`) where the
   * value means the same. A list option's alias value is split on commas, as the original did.
   */
  readonly aliases?: readonly string[];
  /** The original relay.mesos's one-letter flag for this option (`-m`), kept as is. */
  readonly short?: string;
  readonly help: string;
}

/** Every option Relay.Mesos understands, in help order. */
export const OPTIONS = [
  // Signals
  {
    name: "metric",
    type: "signal",
    default: undefined,
    arg: "SPEC",
    short: "m",
    group: "Signals",
    help: "The measured signal to steer (number, cmd:, file:, http(s)://, sine:, square:, " +
      "schedule:, tasks:, module:). Required.",
  },
  {
    name: "target",
    type: "signal",
    default: undefined,
    arg: "SPEC",
    short: "t",
    group: "Signals",
    help: "The value the metric should track, same forms as --metric. Required.",
  },
  {
    name: "signal-timeout",
    type: "number",
    default: 5,
    min: 0,
    minExclusive: true,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Signals",
    help: "Time allowed for one read of a signal; a slower read is a missing sample.",
  },
  {
    name: "signal-max-bytes",
    type: "integer",
    default: 65536,
    min: 64,
    max: 16 * 1024 * 1024,
    arg: "BYTES",
    group: "Signals",
    help: "Most bytes one read of a cmd:, file: or http(s):// signal may take; more is a missing " +
      "sample (a command is killed; of a larger regular file only the end is read).",
  },
  {
    name: "max-missing",
    type: "integer",
    default: 0,
    min: 0,
    arg: "N",
    group: "Signals",
    help: "Stop with exit code 3 after N consecutive missing samples (0 = never).",
  },
  {
    name: "signal-env",
    type: "list",
    default: [],
    arg: "KEY[=VALUE]",
    group: "Signals",
    help: "Environment for cmd: signals (repeatable; KEY alone passes Relay's own value). " +
      "cmd: signals get PATH and these, nothing else.",
  },
  // Tasks
  {
    name: "warmer",
    type: "string",
    default: undefined,
    arg: "COMMAND",
    short: "w",
    group: "Tasks",
    help: "Shell command of a task that raises the metric.",
  },
  {
    name: "cooler",
    type: "string",
    default: undefined,
    arg: "COMMAND",
    short: "c",
    group: "Tasks",
    help: "Shell command of a task that lowers the metric.",
  },
  {
    name: "cooler-mode",
    type: "enum",
    choices: ["launch", "kill"],
    default: "launch",
    group: "Tasks",
    help: "launch: cool by running the cooler command; kill: cool by stopping running warmers, " +
      "newest first.",
  },
  {
    name: "env",
    type: "list",
    default: [],
    arg: "KEY=VALUE",
    group: "Tasks",
    help: "Environment for tasks (repeatable; KEY alone passes Relay's own value). Tasks get " +
      "PATH, RELAY_TASK_ID, RELAY_TASK_KIND and these, nothing else.",
  },
  {
    name: "env-file",
    type: "string",
    default: undefined,
    arg: "PATH",
    group: "Tasks",
    aliases: ["mesos_environment"],
    help: "File of KEY=VALUE lines (# comments) added to the tasks' environment.",
  },
  {
    name: "task-timeout",
    type: "number",
    default: 0,
    min: 0,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Tasks",
    help: "Kill a task that runs longer than this and count it failed (0 = no limit).",
  },
  {
    name: "task-kill-grace",
    type: "number",
    default: undefined,
    min: 0,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Tasks",
    help: "Seconds a killed task gets from SIGTERM to SIGKILL (local default 2; on Mesos the " +
      "kill_policy, default the agent's).",
  },
  {
    name: "kill-order",
    type: "enum",
    choices: ["newest", "oldest"],
    default: "newest",
    group: "Tasks",
    help: "Which running warmers --cooler-mode kill stops first (waiting ones always go first).",
  },
  {
    name: "max-failures",
    type: "integer",
    default: 0,
    min: 0,
    arg: "N",
    group: "Tasks",
    aliases: ["max_failures"],
    help: "Stop with exit code 4 after N task failures (failed, lost, dropped...) within " +
      "--failure-window (0 = never).",
  },
  {
    name: "failure-window",
    type: "number",
    default: 300,
    min: 0,
    minExclusive: true,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Tasks",
    help: "Window in which --max-failures counts failures.",
  },
  // Control
  {
    name: "law",
    type: "enum",
    choices: ["adaptive", "classic"],
    default: "adaptive",
    group: "Control",
    help: "adaptive: learns how one start moves the metric and plans starts over a horizon; " +
      "classic: the 2015 Relay law, for comparison.",
  },
  {
    name: "response",
    type: "enum",
    choices: ["auto", "level", "rate"],
    default: "auto",
    group: "Control",
    help: "Hint of how a task moves the metric: level (while it acts, e.g. a consumer count), " +
      "rate (the metric's slope, e.g. a queue), or auto (learned).",
  },
  {
    name: "initial-effect",
    type: "number",
    default: 1,
    min: 0,
    minExclusive: true,
    arg: "UNITS",
    group: "Control",
    help: "Hint: first guess of how much one task moves the metric (per second for a rate); " +
      "learned and replaced online.",
  },
  {
    name: "task-cost",
    type: "number",
    default: DEFAULT_TASK_COST,
    min: 0,
    arg: "SHARE",
    group: "Control",
    help: "Price of one task-second, as a share of what one task's effect is worth for a " +
      "second: higher runs fewer tasks and tolerates more error, 0 buys the least error.",
  },
  {
    name: "deadband",
    type: "number",
    default: 0,
    min: 0,
    arg: "UNITS",
    group: "Control",
    help: "Take no action while |target - metric| is within this band.",
  },
  {
    name: "max-tasks-per-tick",
    type: "integer",
    default: 0,
    min: 0,
    max: MAX_STARTS_PER_TICK,
    arg: "N",
    group: "Control",
    help: "Start at most N tasks per tick (0 = no limit).",
  },
  {
    name: "max-running",
    type: "integer",
    default: 200,
    min: 0,
    arg: "N",
    group: "Control",
    help:
      "At most N of this Relay's tasks pending or running at once: a guard against runaways, not a capacity plan (0 = no limit).",
  },
  {
    name: "cooldown-up",
    type: "number",
    default: 0,
    min: 0,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Control",
    help: "After starting warmers, wait this long before starting more warmers.",
  },
  {
    name: "cooldown-down",
    type: "number",
    default: 0,
    min: 0,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Control",
    help: "After cooling (coolers or kills), wait this long before cooling again.",
  },
  {
    name: "lookback",
    type: "integer",
    default: 1000,
    min: 1,
    max: 1_000_000,
    arg: "N",
    group: "Control",
    help: "Error history length of the classic law.",
  },
  // Run
  {
    name: "delay",
    type: "number",
    default: 1,
    short: "d",
    min: 0,
    minExclusive: true,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Run",
    help: "Time between ticks.",
  },
  {
    name: "duration",
    type: "number",
    default: 0,
    min: 0,
    max: MAX_RUN_SECONDS,
    arg: "SECONDS",
    group: "Run",
    help: "Stop cleanly (exit 0) after this long (0 = run until stopped).",
  },
  {
    name: "max-ticks",
    type: "integer",
    default: 0,
    min: 0,
    arg: "N",
    group: "Run",
    help: "Stop cleanly (exit 0) after N ticks (0 = no limit).",
  },
  {
    name: "dry-run",
    type: "boolean",
    default: false,
    group: "Run",
    help: "Decide and log, launch nothing.",
  },
  {
    name: "on-exit",
    type: "enum",
    choices: ["wait", "kill", "leave"],
    default: "wait",
    group: "Run",
    help: "On SIGINT/SIGTERM or the end of the run: wait for tasks (up to --grace, then kill), " +
      "kill them, or leave them running.",
  },
  {
    name: "grace",
    type: "number",
    default: 30,
    min: 0,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Run",
    help: "How long --on-exit wait waits before killing.",
  },
  {
    name: "config",
    type: "string",
    default: undefined,
    arg: "PATH",
    group: "Run",
    help: "YAML file of options (keys like max_running). Precedence: flag > env > file > default.",
  },
  // Mesos
  {
    name: "mesos-master",
    type: "string",
    default: undefined,
    arg: "URL",
    group: "Mesos",
    aliases: ["mesos_master"],
    help: "Run tasks on Mesos: http(s)://host:5050 (a comma list allowed) or " +
      "zk://host:2181[,host:2181]/mesos. Unset: tasks run as local processes.",
  },
  {
    name: "mesos-framework-name",
    type: "string",
    default: "relay",
    arg: "NAME",
    group: "Mesos",
    aliases: ["mesos_framework_name"],
    help: 'Framework name, shown as "Relay.Mesos: NAME"; also in task names.',
  },
  {
    name: "mesos-user",
    type: "string",
    default: undefined,
    arg: "USER",
    group: "Mesos",
    help: "User tasks run as on the agents (default: the user running relay.mesos).",
  },
  {
    name: "mesos-role",
    type: "list",
    default: ["*"],
    arg: "ROLE",
    group: "Mesos",
    aliases: ["mesos_framework_role"],
    help: "Role(s) to receive offers for (repeatable; MULTI_ROLE).",
  },
  {
    name: "mesos-principal",
    type: "string",
    default: undefined,
    arg: "PRINCIPAL",
    group: "Mesos",
    aliases: ["mesos_framework_principal"],
    help: "Principal for authentication (HTTP basic, with the secret).",
  },
  {
    name: "mesos-secret-file",
    type: "string",
    default: undefined,
    arg: "PATH",
    group: "Mesos",
    help: "File holding the secret for --mesos-principal (or set RELAY_MESOS_SECRET).",
  },
  {
    name: "mesos-secret",
    type: "string",
    default: undefined,
    arg: "SECRET",
    group: "Mesos",
    envOnly: true,
    help: "The secret for --mesos-principal, from the environment only; never printed.",
  },
  {
    name: "mesos-ca-cert",
    type: "string",
    default: undefined,
    arg: "PATH",
    group: "Mesos",
    help: "PEM file of the CA that signed an https:// master's certificate.",
  },
  {
    name: "mesos-content-type",
    type: "enum",
    choices: ["protobuf", "json"],
    default: "protobuf",
    group: "Mesos",
    help: "Encoding of calls and events.",
  },
  {
    name: "mesos-max-frame-bytes",
    type: "integer",
    default: 16777216,
    min: 1024,
    max: 256 * 1024 * 1024,
    arg: "BYTES",
    group: "Mesos",
    help: "Largest event accepted from the master; a bigger one drops the connection.",
  },
  {
    name: "mesos-failover-timeout",
    type: "number",
    default: 604800,
    min: 0,
    max: MAX_RUN_SECONDS,
    arg: "SECONDS",
    group: "Mesos",
    help: "How long Mesos keeps our tasks while relay.mesos is away.",
  },
  {
    name: "mesos-checkpoint",
    type: "boolean",
    default: true,
    group: "Mesos",
    aliases: ["mesos_checkpoint"],
    help: "Ask agents to checkpoint tasks so they survive agent restarts.",
  },
  {
    name: "mesos-hostname",
    type: "string",
    default: undefined,
    arg: "HOST",
    group: "Mesos",
    help: "Hostname reported in FrameworkInfo.",
  },
  {
    name: "mesos-label",
    type: "list",
    default: [],
    arg: "KEY=VALUE",
    group: "Mesos",
    help: "Framework label (repeatable).",
  },
  {
    name: "mesos-task-label",
    type: "list",
    default: [],
    arg: "KEY=VALUE",
    group: "Mesos",
    help: "Label on every task (repeatable), besides relay.mesos.kind.",
  },
  {
    name: "mesos-constraint",
    type: "list",
    default: [],
    arg: "FIELD:OP[:ARG]",
    group: "Mesos",
    help: "Placement constraint (repeatable), Marathon style: UNIQUE, MAX_PER:N, LIKE:RE, " +
      "UNLIKE:RE, CLUSTER[:V], GROUP_BY[:N].",
  },
  {
    name: "mesos-task-resources",
    type: "string",
    default: "cpus=0.1,mem=64",
    arg: "LIST",
    group: "Mesos",
    aliases: ["mesos_task_resources"],
    help: "Resources of one task: cpus=,mem=,disk=,gpus=.",
  },
  {
    name: "mesos-refuse-seconds",
    type: "number",
    default: 5,
    min: 0,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Mesos",
    help: "How long a declined offer's resources are not offered again.",
  },
  {
    name: "mesos-uris",
    type: "list",
    default: [],
    arg: "URI",
    group: "Mesos",
    aliases: ["uris"],
    help: "URIs the agent fetches into the task's sandbox (repeatable).",
  },
  {
    name: "state-dir",
    type: "string",
    default: "./.relay-mesos",
    arg: "DIR",
    group: "Mesos",
    help: "Where the FrameworkID is kept, so a restart re-subscribes and adopts running tasks.",
  },
  {
    name: "ha-zk",
    type: "string",
    default: undefined,
    arg: "zk://HOST:PORT/PATH",
    group: "Mesos",
    help:
      "Instances elect one leader in ZooKeeper; standbys take over with the FrameworkID kept there.",
  },
  // Docker
  {
    name: "docker-image",
    type: "string",
    default: undefined,
    arg: "IMAGE",
    group: "Docker",
    aliases: ["docker_image"],
    help: "Run tasks in this Docker image (Mesos only).",
  },
  {
    name: "docker-network",
    type: "enum",
    choices: ["HOST", "BRIDGE", "NONE", "USER"],
    default: "HOST",
    group: "Docker",
    aliases: ["docker_network"],
    help: "Docker network mode.",
  },
  {
    name: "docker-force-pull",
    type: "boolean",
    default: false,
    group: "Docker",
    aliases: ["force_pull_image"],
    help: "Pull the image before every task.",
  },
  {
    name: "docker-volume",
    type: "list",
    default: [],
    arg: "HOST:CONTAINER[:ro]",
    group: "Docker",
    aliases: ["volumes"],
    help: "Volume to mount (repeatable).",
  },
  {
    name: "docker-parameter",
    type: "list",
    default: [],
    arg: "KEY=VALUE",
    group: "Docker",
    help: "Extra docker run parameter (repeatable).",
  },
  // Output
  {
    name: "log-format",
    type: "enum",
    choices: ["text", "json"],
    default: "text",
    group: "Output",
    help: "text: one readable line per event; json: one JSON object per line.",
  },
  {
    name: "log-level",
    type: "enum",
    choices: ["debug", "info", "warn", "error"],
    default: "info",
    group: "Output",
    help: "Least severe level written.",
  },
  // Web
  {
    name: "web",
    type: "boolean",
    default: false,
    group: "Web",
    help: "Serve the web UI, /api, /events, /healthz and /metrics.",
  },
  {
    name: "web-listen",
    type: "string",
    default: "127.0.0.1:8080",
    arg: "HOST:PORT",
    group: "Web",
    help: "Address of the web server; loopback by default (port 0 picks a free one).",
  },
  {
    name: "web-token",
    type: "string",
    default: undefined,
    arg: "TOKEN",
    group: "Web",
    envOnly: true,
    help: "Bearer token every web request must carry, from the environment only; never printed.",
  },
  {
    name: "web-token-file",
    type: "string",
    default: undefined,
    arg: "PATH",
    group: "Web",
    help: "File holding the web token (instead of RELAY_WEB_TOKEN).",
  },
  {
    name: "health-timeout",
    type: "number",
    default: 10,
    min: 0,
    minExclusive: true,
    max: MAX_TIMER_SECONDS,
    arg: "SECONDS",
    group: "Web",
    help: "/healthz answers 503 after this long without a tick (at least 3 ticks), without " +
      "a Mesos connection, or with tasks starved of offers.",
  },
  {
    name: "history-points",
    type: "integer",
    default: 10000,
    min: 10,
    max: 100_000,
    arg: "N",
    group: "Web",
    help: "Ticks kept in memory for the chart; older ones are dropped.",
  },
] as const satisfies readonly OptionSpec[];

/**
 * Options of the original Relay and relay.mesos that have no equivalent here, with what to use
 * instead: given as a flag, they are refused with this note rather than a bare "unknown option".
 */
export const LEGACY_OPTIONS: Readonly<Record<string, string>> = {
  ramp: "the adaptive law ramps up by itself while a task's effect is unknown; " +
    "--max-tasks-per-tick caps starts per tick",
  sendstats: "use --web (the web UI, /events and /metrics)",
  stop_condition: "--max-missing, --duration and --max-ticks end a run",
  docker_parameters:
    "use --docker-parameter KEY=VALUE, once per parameter, instead of a JSON object",
  task_resources: "use --mesos-task-resources cpus=0.5,mem=256",
};

/** Names of all options in the table. */
export type OptionName = (typeof OPTIONS)[number]["name"];

/** `max-running` → `RELAY_MAX_RUNNING`. */
export function envName(name: string): string {
  return "RELAY_" + name.toUpperCase().replaceAll("-", "_");
}

/** `max-running` → `max_running`. */
export function yamlKey(name: string): string {
  return name.replaceAll("-", "_");
}

/** `max-running` → `maxRunning`. */
export function configKey(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

type CamelCase<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<CamelCase<T>>}`
  : S;

type ValueOf<O extends OptionSpec> = O extends { type: "enum"; choices: readonly (infer C)[] } ? C
  : O["type"] extends "number" | "integer" ? number
  : O["type"] extends "boolean" ? boolean
  : O["type"] extends "list" ? string[]
  : O["type"] extends "signal" ? ParsedSignal
  : string;

/**
 * Each option's value as given, typed and checked on its own: one field per option, camelCase
 * (signals already parsed). A run uses the resolved `Settings` of settings.ts instead.
 */
export type Config = {
  -readonly [O in (typeof OPTIONS)[number] as CamelCase<O["name"]>]: O["default"] extends undefined
    ? ValueOf<O> | undefined
    : ValueOf<O>;
};
