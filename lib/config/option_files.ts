/**
 * Files that options name (a secret, a token, a certificate) are read at start-up, before anything
 * runs; a file that cannot be read, or a secret file that is empty, is a ConfigError naming the
 * option and the path, like any other bad input.
 * @module
 */

import { ConfigError } from "./parse.ts";

/**
 * Reads the file that `--option` names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const read = (path: string) => {
 *   if (path === "ca.pem") return "-----BEGIN CERTIFICATE-----\n";
 *   throw new Deno.errors.NotFound(path);
 * };
 * assert.equal(readOptionFile("mesos-ca-cert", "ca.pem", read), "-----BEGIN CERTIFICATE-----\n");
 * assert.throws(
 *   () => readOptionFile("mesos-ca-cert", "gone.pem", read),
 *   /^ConfigError: --mesos-ca-cert gone.pem: cannot read: file not found$/,
 * );
 * ```
 */
export function readOptionFile(
  option: string,
  path: string,
  readTextFile: (path: string) => string,
): string {
  try {
    return readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "file not found" : (err as Error).message;
    throw new ConfigError(`--${option} ${path}: cannot read: ${why}`);
  }
}

/**
 * Reads a secret from the file that `--option` names: surrounding whitespace trimmed, and an
 * empty secret refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(readSecretFile("web-token-file", "token", () => " s3cret\n"), "s3cret");
 * assert.throws(() => readSecretFile("web-token-file", "token", () => "\n"), /token/);
 * ```
 */
export function readSecretFile(
  option: string,
  path: string,
  readTextFile: (path: string) => string,
): string {
  const secret = readOptionFile(option, path, readTextFile).trim();
  if (secret === "") throw new ConfigError(`--${option} ${path}: empty`);
  return secret;
}
