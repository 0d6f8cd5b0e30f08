/**
 * The start-up check of the signals: each one is read once before the first tick, so that what
 * can be known at start is said at start. A value or the reason it is missing is reported; a
 * source that cannot work as given (a `cmd:` whose program is not found or not executable, a
 * `module:` whose file or export does not load) is a usage error, before anything has started.
 * @module
 */

import { readWithTimeout } from "./sources.ts";
import { type Signal, SignalReadError } from "./types.ts";

/** What the first read of one signal gave. */
export type FirstRead =
  | { readonly name: "metric" | "target"; readonly spec: string; readonly value: number }
  | {
    readonly name: "metric" | "target";
    readonly spec: string;
    /** Why no sample came, in a few words. */
    readonly reason: string;
    /** True when no later read can succeed: exit 2 at start. */
    readonly permanent: boolean;
  };

/**
 * Reads each signal once, all at the same time, each within `timeoutMs`. Never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSignal } from "./sources.ts";
 * const reads = await firstReads({ metric: createSignal("cmd:echo 3") }, 5000, Date.now());
 * assert.deepEqual(reads, [{ name: "metric", spec: "cmd:echo 3", value: 3 }]);
 * ```
 */
export function firstReads(
  signals: Partial<Record<"metric" | "target", Signal>>,
  timeoutMs: number,
  now: number,
): Promise<FirstRead[]> {
  const ctx = { now, tasks: { running: 0, pending: 0 } };
  return Promise.all(
    (Object.entries(signals) as ["metric" | "target", Signal][]).map(async ([name, signal]) => {
      try {
        return { name, spec: signal.spec, value: await readWithTimeout(signal, ctx, timeoutMs) };
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const permanent = err instanceof SignalReadError && err.permanent;
        return { name, spec: signal.spec, reason, permanent };
      }
    }),
  );
}

/**
 * The one-line report of a first read: `metric cmd:wc -l < q: 12` or
 * `target file:t: missing (file not found: t); ...`. A permanent failure names the option, and
 * says "command not found" for exit 127 and "not executable" for exit 126.
 */
export function describeFirstRead(r: FirstRead): string {
  if ("value" in r) return `first read of --${r.name} ${r.spec}: ${r.value}`;
  if (r.permanent) {
    const what = /^exit code 127\b/.test(r.reason)
      ? "command not found"
      : /^exit code 126\b/.test(r.reason)
      ? "command not executable"
      : r.spec.trim().toLowerCase().startsWith("module:")
      ? "does not load"
      : "cannot be used";
    return `--${r.name} ${r.spec}: ${what} (${r.reason})`;
  }
  return `first read of --${r.name} ${r.spec}: missing (${r.reason}); ` +
    "each tick tries again, and a tick without a sample takes no action";
}
