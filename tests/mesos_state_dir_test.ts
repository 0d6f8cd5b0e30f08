import assert from "node:assert/strict";
import { join } from "node:path";
import {
  FRAMEWORK_ID_FILE,
  lockStateDir,
  readFrameworkId,
  StateDirError,
  writeFrameworkId,
} from "../lib/mesos/state_dir.ts";
import { inOwnProcess } from "./support/own_process.ts";

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const base = await Deno.makeTempDir();
  try {
    await fn(join(base, "state"));
  } finally {
    await Deno.chmod(base, 0o700).catch(() => {});
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("state dir: made 0700; a second holder is refused, naming the first", () =>
  withDir((dir) => {
    const first = lockStateDir(dir, "pid 1 on host-a");
    assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
    assert.throws(() => lockStateDir(dir, "pid 2 on host-b"), (err: Error) => {
      assert.ok(err instanceof StateDirError);
      assert.match(err.message, /in use by another relay\.mesos \(pid 1 on host-a\)/);
      return true;
    });
    first.release();
    // Once released (or the holder died: the kernel drops the lock), the next one gets it.
    lockStateDir(dir, "pid 2 on host-b").release();
  }));

Deno.test("state dir: an existing dir others may write to is refused, others left as they are", () =>
  withDir((dir) => {
    Deno.mkdirSync(dir);
    Deno.chmodSync(dir, 0o777);
    assert.throws(() => lockStateDir(dir, "me"), /not writable: writable by others \(mode 777\)/);
    Deno.chmodSync(dir, 0o755);
    lockStateDir(dir, "me").release();
    assert.equal(Deno.statSync(dir).mode! & 0o777, 0o755);
  }));

Deno.test("state dir: one that cannot be created is a StateDirError saying so", () =>
  withDir((dir) => {
    // A regular file where a directory should be: fails for root too (chmod would not).
    Deno.writeTextFileSync(dir, "");
    assert.throws(() => lockStateDir(join(dir, "sub"), "me"), /not writable/);
  }));

Deno.test("FrameworkID: read only from a small regular file, never from a device", () =>
  withDir((dir) => {
    Deno.mkdirSync(dir);
    assert.equal(readFrameworkId(dir), undefined);
    writeFrameworkId(dir, "fw-1");
    assert.equal(readFrameworkId(dir), "fw-1");
    Deno.removeSync(join(dir, FRAMEWORK_ID_FILE));
    Deno.symlinkSync("/dev/zero", join(dir, FRAMEWORK_ID_FILE));
    assert.throws(() => readFrameworkId(dir), /not a regular file/);
    Deno.removeSync(join(dir, FRAMEWORK_ID_FILE));
    Deno.writeTextFileSync(join(dir, FRAMEWORK_ID_FILE), "x".repeat(10_000));
    assert.throws(() => readFrameworkId(dir), /more than the 512 allowed/);
  }));

Deno.test("FrameworkID: a planted framework_id.tmp link is not followed", () =>
  withDir((dir) => {
    Deno.mkdirSync(dir);
    const victim = join(dir, "..", "victim");
    Deno.writeTextFileSync(victim, "precious\n");
    Deno.symlinkSync(victim, join(dir, `${FRAMEWORK_ID_FILE}.tmp`));
    writeFrameworkId(dir, "fw-2");
    assert.equal(Deno.readTextFileSync(victim), "precious\n");
    assert.equal(readFrameworkId(dir), "fw-2");
    assert.equal(Deno.lstatSync(join(dir, FRAMEWORK_ID_FILE)).isSymlink, false);
    assert.equal(Deno.statSync(join(dir, FRAMEWORK_ID_FILE)).mode! & 0o777, 0o600);
  }));

Deno.test("FrameworkID: a symlink to /dev/zero costs no memory (its own process)", async () => {
  const { result, grewMb } = await inOwnProcess<string>(
    new URL("./support/memory_scenarios.ts", import.meta.url),
    "frameworkIdFromDevZero",
    [],
  );
  assert.match(result, /not a regular file/);
  assert.ok(grewMb < 20, `RSS grew ${grewMb.toFixed(1)} MB`);
});
