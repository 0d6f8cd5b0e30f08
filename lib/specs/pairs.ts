/**
 * The `KEY=VALUE` entries of list options (`--mesos-label`, `--mesos-task-label`,
 * `--docker-parameter`) and `--docker-volume /HOST:/CONTAINER[:ro|rw]`. Pure: no I/O; the
 * parsers take text already checked against the option's shape and return its parts.
 * @module
 */

/** One `KEY=VALUE` entry: the key is what comes before the first `=`. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** One bind mount of a Docker task; `RW` unless `:ro` is given. */
export interface Volume {
  readonly host: string;
  readonly container: string;
  readonly mode: "RW" | "RO";
}

/** `KEY=VALUE`, a key with no `=` after it, and a value that may hold `=`. */
export const PAIR_SHAPE = /^[^=]+=.*$/;
/** `/HOST:/CONTAINER[:ro|rw]`: both paths absolute. */
export const VOLUME_SHAPE = /^\/[^:]*:\/[^:]*(:(ro|rw))?$/;

/**
 * Splits `KEY=VALUE` at its first `=`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parsePair("team=a=b"), { key: "team", value: "a=b" });
 * ```
 */
export function parsePair(entry: string): KeyValue {
  const eq = entry.indexOf("=");
  return { key: entry.slice(0, eq), value: entry.slice(eq + 1) };
}

/**
 * Splits `/HOST:/CONTAINER[:ro|rw]` (an entry matching {@linkcode VOLUME_SHAPE}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseVolume("/data:/in:ro"), { host: "/data", container: "/in", mode: "RO" });
 * ```
 */
export function parseVolume(entry: string): Volume {
  const [host, container, mode] = entry.split(":");
  return { host, container, mode: mode === "ro" ? "RO" : "RW" };
}
