/**
 * Turns command-line flags, `RELAY_*` environment variables and an optional YAML file into the
 * resolved {@linkcode Settings} of a run (each option read and typed here, the rest in
 * settings.ts), or one {@linkcode ConfigError} naming the culprit. Pure apart from the injected
 * `readTextFile`, so every bad-input case is tested directly.
 * @module
 */

import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { parseSignalSpec } from "../signals/spec.ts";
import { ConfigError } from "./error.ts";
import {
  type Config,
  configKey,
  envName,
  LEGACY_OPTIONS,
  OPTIONS,
  type OptionSpec,
  yamlKey,
} from "./options.ts";
import { resolveSettings, type Settings } from "./settings.ts";

export { ConfigError };

/** What the command line asked for. */
export type ParseResult =
  | {
    readonly kind: "run";
    readonly settings: Settings;
    /** Things worth saying that are not errors: unknown `RELAY_*` names, deprecated spellings. */
    readonly warnings: readonly string[];
  }
  | { readonly kind: "help" }
  | { readonly kind: "version" };

/** Inputs of {@linkcode parseConfig}. */
export interface ParseInput {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Reads the files options name (`--config`, `--env-file`, secrets, the CA certificate); errors
   * are reported against the option.
   */
  readonly readTextFile: (path: string) => string;
}

type Raw = string | boolean | string[] | number | readonly string[];

/** Environment names Relay sets itself for its tasks: a Relay run inside a task sees them. */
const OWN_TASK_VARIABLES: ReadonlySet<string> = new Set(["RELAY_TASK_ID", "RELAY_TASK_KIND"]);
/** Prefix of the environment names Relay reads; any other name under it is a likely typo. */
const ENV_PREFIX = "RELAY_";

const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses options with precedence flag > environment > config file > default.
 *
 * @example
 * ```ts
 * const r = parseConfig({
 *   argv: ["--metric", "cmd:wc -l < queue", "--target", "0", "--cooler", "./consume.sh"],
 *   env: { RELAY_DELAY: "2" },
 *   readTextFile: (p) => Deno.readTextFileSync(p),
 * });
 * if (r.kind === "run") r.settings.delay; // 2
 * ```
 */
export function parseConfig(input: ParseInput): ParseResult {
  const warnings: string[] = [];
  const flags = parseFlags(input.argv, warnings);
  if (flags.help === true) return { kind: "help" };
  if (flags.version === true) return { kind: "version" };
  const env = readEnv(input.env, warnings);

  const configPath = (flags.config as string | undefined) ?? env[envName("config")];
  const file = configPath === undefined ? {} : readYaml(configPath, input.readTextFile);

  const values: Record<string, unknown> = {};
  for (const opt of OPTIONS as readonly OptionSpec[]) {
    let value: unknown = opt.default;
    if (opt.envOnly) {
      const text = env[envName(opt.name)];
      if (text !== undefined) value = coerce(opt, text, envName(opt.name));
    } else if (opt.name in flags) {
      value = coerce(opt, flags[opt.name], `--${opt.name}`);
    } else if (env[envName(opt.name)] !== undefined) {
      value = coerce(opt, env[envName(opt.name)]!, envName(opt.name));
    } else if (yamlKey(opt.name) in file) {
      value = coerce(opt, file[yamlKey(opt.name)], `${configPath}: ${yamlKey(opt.name)}`);
    }
    values[configKey(opt.name)] = Array.isArray(value) ? [...value] : value;
  }
  const settings = resolveSettings(values as Config, input.env, input.readTextFile);
  return { kind: "run", settings, warnings };
}

/**
 * The `RELAY_*` variables, as the table names them: an empty value is unset (but an empty secret
 * is refused, see {@linkcode coerce}), a deprecated name
 * of the original relay.mesos is read as its option (when the new name is not set) with a note,
 * and any other unknown `RELAY_*` name is warned about, with the closest known name.
 */
function readEnv(
  raw: Readonly<Record<string, string | undefined>>,
  warnings: string[],
): Record<string, string | undefined> {
  const known = new Set((OPTIONS as readonly OptionSpec[]).map((o) => envName(o.name)));
  // A secret set empty is more likely a broken injection than a wish for none: it stays an error.
  const secrets = new Set(
    (OPTIONS as readonly OptionSpec[]).filter((o) => o.envOnly).map((o) => envName(o.name)),
  );
  const byAlias = new Map<string, string>();
  for (const opt of OPTIONS as readonly OptionSpec[]) {
    for (const alias of opt.aliases ?? []) byAlias.set(envName(alias), envName(opt.name));
  }
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!name.startsWith(ENV_PREFIX)) continue;
    if (value === undefined || (value === "" && !secrets.has(name))) continue;
    if (known.has(name)) {
      env[name] = value;
      continue;
    }
    const current = byAlias.get(name);
    if (current !== undefined) {
      const set = raw[current] !== undefined && raw[current] !== "";
      warnings.push(
        `${name}: the original relay.mesos's name, deprecated: use ${current}` +
          (set ? ` (${current} is set too, and wins)` : ""),
      );
      if (!set) env[current] = value;
      continue;
    }
    if (OWN_TASK_VARIABLES.has(name)) continue;
    const hint = closest(name, [...known]);
    warnings.push(
      `${name}: unknown environment variable, ignored` +
        (hint ? ` (did you mean ${hint}?)` : " (see --help for the RELAY_* names)"),
    );
  }
  return env;
}

/** Every flag's parseArgs type: booleans are read as text, so they can say true or false. */
function flagTypes(): Record<string, { type: "string" | "boolean"; multiple?: boolean }> {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {
    help: { type: "boolean" },
    version: { type: "boolean" },
  };
  for (const opt of OPTIONS as readonly OptionSpec[]) {
    if (opt.envOnly) continue;
    options[opt.name] = { type: "string", multiple: opt.type === "list" };
  }
  return options;
}

/**
 * Rewrites the command line into `--name=value` words parseArgs reads with no surprise:
 * `--flag`, `--flag=false`, `--flag no` and `--no-flag` for booleans; the original's snake_case
 * aliases to the option's name (with a deprecation note, list values split on commas); a value
 * that looks like a negative number to the option before it (`--target -5`); `--` dropped.
 */
function normalizeArgs(
  argv: readonly string[],
  specs: ReadonlyMap<string, OptionSpec>,
  warnings: string[],
): string[] {
  const aliases = new Map<string, OptionSpec>();
  const shorts = new Map<string, OptionSpec>();
  for (const opt of specs.values()) {
    for (const a of opt.aliases ?? []) aliases.set(a, opt);
    if (opt.short) shorts.set(opt.short, opt);
  }
  const noted = new Set<string>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    // The original's one-letter flags (`-m SPEC`, `-d=2`) are their long options.
    const short = /^-([a-zA-Z])(=.*)?$/.exec(argv[i]);
    const arg = short && shorts.has(short[1])
      ? `--${shorts.get(short[1])!.name}${short[2] ?? ""}`
      : argv[i];
    // There are no positional arguments, so `--` has nothing to end: `deno task start -- OPTS`
    // passes it on, and it is skipped.
    if (arg === "--") continue;
    if (!arg.startsWith("--")) {
      args.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let opt = specs.get(name);
    let fromAlias = false;
    if (opt === undefined && aliases.has(name)) {
      opt = aliases.get(name)!;
      if (!noted.has(name)) {
        warnings.push(
          `--${name}: the original relay.mesos's spelling, deprecated: use --${opt.name}`,
        );
        noted.add(name);
      }
      name = opt.name;
      fromAlias = true;
    }
    if (
      opt === undefined && name.startsWith("no-") && specs.get(name.slice(3))?.type === "boolean"
    ) {
      if (inline !== undefined) throw new ConfigError(`--${name}: takes no value`);
      args.push(`--${name.slice(3)}=false`);
      continue;
    }
    if (opt === undefined) {
      args.push(arg);
      continue;
    }
    const next = argv[i + 1];
    let values: string[];
    if (inline !== undefined) {
      values = [inline];
    } else if (opt.type === "boolean") {
      // `--dry-run no`: a word that can only be a boolean belongs to the switch before it.
      const word = next?.trim().toLowerCase();
      if (word !== undefined && (TRUE.has(word) || FALSE.has(word))) {
        values = [next!];
        i++;
      } else {
        values = ["true"];
      }
    } else if (next !== undefined && (!next.startsWith("-") || /^-(\d|\.\d)/.test(next))) {
      values = [next];
      i++;
    } else {
      throw new ConfigError(`--${name}: missing value`);
    }
    if (fromAlias && opt.type === "list") {
      values = values.flatMap((v) => v.split(",").map((x) => x.trim()).filter(Boolean));
    }
    for (const value of values) args.push(`--${name}=${value}`);
  }
  return args;
}

function parseFlags(argv: readonly string[], warnings: string[]): Record<string, Raw> {
  const specs = new Map(
    (OPTIONS as readonly OptionSpec[]).filter((o) => !o.envOnly).map((o) => [o.name, o]),
  );
  const options = flagTypes();
  const args = normalizeArgs(argv, specs, warnings);
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new ConfigError(
        `unexpected argument "${positionals[0]}" (options start with --; see --help)`,
      );
    }
    return values as Record<string, Raw>;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(describeArgsError(err, argv, [...specs.keys()]));
  }
}

function describeArgsError(err: unknown, argv: readonly string[], names: string[]): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const flag = message.match(/'(-[^' ]*)/)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const name = flag.replace(/^-+/, "").split("=")[0];
      const legacy = LEGACY_OPTIONS[name.replaceAll("-", "_")];
      if (legacy !== undefined) {
        return `${flag}: an option of the original Relay with no equivalent here: ${legacy}`;
      }
      const hint = closest(name, names);
      return `${flag}: unknown option (${hint ? `did you mean --${hint}? ` : ""}see --help)`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/does not take an argument/.test(message)) {
        return `${flag.split("=")[0]}: takes no value`;
      }
      return `${flag}: missing value`;
    default:
      return `${argv.join(" ").slice(0, 60)}: ${message.split("\n")[0]}`;
  }
}

function readYaml(path: string, readTextFile: (p: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "file not found"
      : (err instanceof Error ? err.message : String(err));
    throw new ConfigError(`--config ${path}: cannot read: ${why}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new ConfigError(`--config ${path}: not valid YAML: ${first}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError(`--config ${path}: expected a mapping of option keys to values`);
  }
  const known = new Set(
    (OPTIONS as readonly OptionSpec[]).filter((o) => !o.envOnly).map((o) => yamlKey(o.name)),
  );
  known.delete("config");
  for (const key of Object.keys(doc)) {
    if (!known.has(key)) {
      const hint = closest(key, [...known]);
      throw new ConfigError(
        `${path}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}`,
      );
    }
  }
  return doc as Record<string, unknown>;
}

/** Converts one raw value (flag text, env text, or YAML value) to the option's type. */
function coerce(opt: OptionSpec, raw: unknown, where: string): unknown {
  const shown = typeof raw === "string" ? `"${raw}"` : JSON.stringify(raw);
  switch (opt.type) {
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      const text = String(raw).trim().toLowerCase();
      if (TRUE.has(text)) return true;
      if (FALSE.has(text)) return false;
      throw new ConfigError(`${where}: expected true/false/1/0/yes/no, got ${shown}`);
    }
    case "number":
    case "integer": {
      const text = typeof raw === "number"
        ? String(raw)
        : typeof raw === "string"
        ? raw.trim()
        : "";
      const n = NUMBER.test(text) ? Number(text) : NaN;
      if (!Number.isFinite(n)) throw new ConfigError(`${where}: expected a number, got ${shown}`);
      if (opt.type === "integer" && !Number.isInteger(n)) {
        throw new ConfigError(`${where}: expected a whole number, got ${shown}`);
      }
      if (opt.min !== undefined && (opt.minExclusive ? n <= opt.min : n < opt.min)) {
        throw new ConfigError(
          `${where}: must be ${opt.minExclusive ? ">" : ">="} ${opt.min}, got ${shown}`,
        );
      }
      if (opt.max !== undefined && n > opt.max) {
        throw new ConfigError(`${where}: must be <= ${opt.max}, got ${shown}`);
      }
      return n;
    }
    case "enum": {
      const text = String(raw).trim();
      if (typeof raw !== "string" || !opt.choices!.includes(text)) {
        throw new ConfigError(`${where}: expected one of ${opt.choices!.join("|")}, got ${shown}`);
      }
      return text;
    }
    case "list": {
      if (Array.isArray(raw)) {
        return raw.map((item) => {
          if (typeof item !== "string" && typeof item !== "number") {
            throw new ConfigError(`${where}: expected a list of strings, got ${shown}`);
          }
          return String(item);
        });
      }
      if (typeof raw === "string") return raw.split(",").map((s) => s.trim()).filter(Boolean);
      if (raw !== null && typeof raw === "object") {
        // YAML mapping form: { KEY: value }.
        return Object.entries(raw).map(([k, v]) => `${k}=${v ?? ""}`);
      }
      throw new ConfigError(`${where}: expected a list, got ${shown}`);
    }
    case "signal": {
      const text = typeof raw === "number" ? String(raw) : raw;
      if (typeof text !== "string" || text.trim() === "") {
        throw new ConfigError(`${where}: expected a signal spec, got ${shown}`);
      }
      try {
        return { text: text.trim(), spec: parseSignalSpec(text.trim()) };
      } catch (err) {
        throw new ConfigError(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    case "string": {
      if (typeof raw !== "string" && typeof raw !== "number") {
        throw new ConfigError(`${where}: expected text, got ${shown}`);
      }
      const text = String(raw);
      if (text.trim() === "") throw new ConfigError(`${where}: must not be empty`);
      return text;
    }
  }
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
