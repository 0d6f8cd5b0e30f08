import assert from "node:assert/strict";
import { readOptionFile, readSecretFile } from "../lib/config/option_files.ts";
import { ConfigError } from "../lib/config/parse.ts";

const files: Record<string, string> = { "ca.pem": "PEM\n", "secret": "  s3cr3t\n", "blank": " \n" };
const read = (p: string) => {
  if (!(p in files)) throw new Deno.errors.NotFound(p);
  return files[p];
};

Deno.test("option files: read as they are; a missing one names the option and path", () => {
  assert.equal(readOptionFile("mesos-ca-cert", "ca.pem", read), "PEM\n");
  assert.throws(
    () => readOptionFile("mesos-ca-cert", "nope.pem", read),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === "--mesos-ca-cert nope.pem: cannot read: file not found",
  );
});

Deno.test("secret files: trimmed; an empty one is refused, naming the option and path", () => {
  assert.equal(readSecretFile("mesos-secret-file", "secret", read), "s3cr3t");
  assert.throws(
    () => readSecretFile("web-token-file", "blank", read),
    (e: unknown) => e instanceof ConfigError && e.message === "--web-token-file blank: empty",
  );
  assert.throws(
    () => readSecretFile("mesos-secret-file", "gone", read),
    /^ConfigError: --mesos-secret-file gone: cannot read: file not found$/,
  );
});
