/**
 * Builds the environment a task sees: PATH plus exactly what the user asked for with `--env`
 * and `--env-file`. Nothing else of Relay's own environment leaks into tasks. Tasks in a Docker
 * image get no PATH of ours unless asked for (`--env PATH`, or PATH in the file): the image has
 * its own, and this host's would override it.
 * @module
 */

import { ConfigError } from "./error.ts";

/**
 * Resolves `--env` entries (`KEY=VALUE`, or `KEY` to pass Relay's own value) and the lines of
 * `--env-file` into one map. Later entries win; `--env` wins over the file. Relay's own PATH comes
 * first unless `inheritPath` is false (tasks in a Docker image).
 *
 * @example
 * ```ts
 * buildTaskEnv(["A=1", "HOME"], undefined, { PATH: "/bin", HOME: "/root" }, () => "");
 * // { PATH: "/bin", HOME: "/root", A: "1" }
 * ```
 */
export function buildTaskEnv(
  entries: readonly string[],
  envFile: string | undefined,
  parentEnv: Readonly<Record<string, string | undefined>>,
  readTextFile: (path: string) => string,
  inheritPath = true,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (inheritPath && parentEnv.PATH !== undefined) env.PATH = parentEnv.PATH;
  if (envFile !== undefined) {
    let text: string;
    try {
      text = readTextFile(envFile);
    } catch (err) {
      throw new ConfigError(`--env-file ${envFile}: cannot read: ${(err as Error).message}`);
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed === "" || trimmed.startsWith("#")) return;
      const m = trimmed.replace(/^export\s+/, "").match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
      if (!m) throw new ConfigError(`--env-file ${envFile}:${i + 1}: expected KEY=VALUE`);
      env[m[1]] = unquote(m[2]);
    });
  }
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq === -1) {
      const inherited = parentEnv[entry];
      if (inherited !== undefined) env[entry] = inherited;
    } else {
      env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  }
  return env;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) return v.slice(1, -1);
  return v;
}
