/**
 * Runs a script with bad options and checks that it refuses them as every command of ours must:
 * exit code 2, one line on stderr that starts with the option at fault, nothing on stdout.
 * @module
 */

import assert from "node:assert/strict";

/** Runs `script` (with read and env permissions) with `args`; asserts it refused, naming `culprit`. */
export async function assertRefused(script: URL, args: string[], culprit: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", "--allow-read", script.pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 2, err);
  assert.equal(err.split("\n").length, 1, err);
  assert.ok(err.startsWith(culprit), err);
  assert.equal(new TextDecoder().decode(out.stdout), "");
}
