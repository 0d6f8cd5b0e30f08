/**
 * `relay.mesos --help`, generated from the option table so it can never drift from the parser.
 * @module
 */

import { envName, OPTIONS, type OptionSpec } from "./options.ts";

/** The program's version, printed by `--version`. */
export const VERSION = "0.1.0";

/**
 * Renders the help text: usage, then every option with its env name and default.
 *
 * @example
 * ```ts
 * console.log(helpText()); // "Usage: relay.mesos --metric SPEC ..."
 * ```
 */
export function helpText(): string {
  const lines = [
    `relay.mesos ${VERSION}: a thermostat for distributed systems.`,
    "Each tick reads --metric and --target and starts --warmer tasks (raise the metric) or",
    "--cooler tasks (lower it), learning how much one task moves the metric.",
    "",
    "Usage: relay.mesos --metric SPEC --target SPEC (--warmer CMD | --cooler CMD) [options]",
    "",
    "Signal SPEC: 12.5 | cmd:SHELL | file:PATH | http(s)://URL[#/json/pointer]",
    "  | sine:period=S,min=A,max=B | square:period=S,low=A,high=B",
    "  | schedule:[tz=ZONE,]HH:MM=V,... | tasks:running | tasks:pending | module:./f.ts#name",
  ];
  let group = "";
  for (const opt of OPTIONS as readonly OptionSpec[]) {
    if (opt.group !== group) {
      group = opt.group;
      lines.push("", `${group}:`);
    }
    const value = opt.type === "boolean"
      ? ""
      : opt.type === "enum"
      ? ` ${opt.choices!.join("|")}`
      : ` ${opt.arg ?? "VALUE"}`;
    if (opt.envOnly) {
      lines.push(`  ${envName(opt.name)}=${opt.arg ?? "VALUE"} (environment only)`);
      lines.push(`      ${opt.help}`);
      continue;
    }
    const short = opt.short ? `-${opt.short}, ` : "";
    lines.push(
      opt.type === "boolean"
        ? `  ${short}--${opt.name}, --no-${opt.name}`
        : `  ${short}--${opt.name}${value}`,
    );
    lines.push(`      ${opt.help}`);
    const max = opt.max !== undefined ? `, at most ${opt.max}` : "";
    lines.push(`      [env ${envName(opt.name)}${defaultText(opt)}${max}]`);
  }
  lines.push(
    "",
    "  -h, --help        Show this help and exit.",
    "      --version     Show the version and exit.",
    "",
    "Booleans: --flag, --flag=true|false|1|0|yes|no or --no-flag on the command line; true/false/",
    "1/0/yes/no in the environment and the YAML file. Precedence: flag > env > file > default.",
    "Repeatable options given in the environment (RELAY_ENV, RELAY_SIGNAL_ENV, RELAY_MESOS_ROLE,",
    "...) are split on commas: RELAY_ENV=A=1,B=2. A value that holds a comma goes in a YAML list",
    "(--config) or, for tasks, in --env-file. An empty variable (RELAY_DELAY=) counts as unset;",
    "an unknown RELAY_* name is warned about at start.",
    "Bad input exits with code 2 and starts nothing; so does a --metric or --target whose",
    "command is not found (exit 126/127) or whose module does not load, on its first read.",
  );
  return lines.join("\n");
}

function defaultText(opt: OptionSpec): string {
  if (opt.default === undefined) return "";
  if (Array.isArray(opt.default)) return opt.default.length ? `, default ${opt.default}` : "";
  return `, default ${opt.default}`;
}
