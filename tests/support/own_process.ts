/**
 * Runs one exported function of a module in a Deno process of its own and reports how much that
 * process's resident memory grew while it ran. `deno test --parallel` runs every test file in
 * one process, so a test's own `Deno.memoryUsage().rss` moves with whatever the other files do;
 * a memory bound is measured where nothing else runs.
 * @module
 */

import { TEST_PERMS } from "./relay_process.ts";

const CHILD = new URL("./own_process_child.ts", import.meta.url).pathname;

/** What the child reports: the function's result (as JSON) and its RSS growth in MB. */
export interface OwnProcessResult<T> {
  readonly result: T;
  readonly grewMb: number;
}

/**
 * Calls `fn(...args)` of `module` in a new Deno process; after it returns the child waits
 * `settleMs` (a read that ignored its timeout must not keep growing) before it measures.
 */
export async function inOwnProcess<T>(
  module: URL,
  fn: string,
  args: unknown[],
  settleMs = 300,
): Promise<OwnProcessResult<T>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...TEST_PERMS, CHILD, module.href, fn, JSON.stringify(args), String(settleMs)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success || !text.startsWith("{")) {
    throw new Error(
      `${fn} in its own process failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(text);
}
