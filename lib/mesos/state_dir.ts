/**
 * The state directory (`--state-dir`) of a Mesos run: where the FrameworkID is kept so that a
 * restart re-subscribes as the same framework and adopts its tasks. Invariants: a new directory is
 * made 0700, an existing one that others may write to is refused; one instance at a time holds it (an exclusive `flock` on `lock`, released by the
 * kernel when the process ends, so a crash leaves no stale lock); the FrameworkID is read only
 * from a regular file of a few hundred bytes, and written through a temporary file created
 * exclusively (never through a link someone planted) and then renamed over the old one.
 * @module
 */

import { join } from "node:path";
import { readSmallFileSync } from "../bounded_read.ts";

/** The file holding the FrameworkID. */
export const FRAMEWORK_ID_FILE = "framework_id";
/** The lock file; its content names the holder. */
export const LOCK_FILE = "lock";
/** Largest FrameworkID file read: Mesos ids are about 40 characters. */
export const FRAMEWORK_ID_MAX_BYTES = 512;

/** Why a state directory cannot be used: held by another instance, or not writable. */
export class StateDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateDirError";
  }
}

/** A held state directory; {@linkcode StateDirLock.release} lets the next instance in. */
export interface StateDirLock {
  readonly dir: string;
  release(): void;
}

/**
 * Creates `dir` (0700) if needed, checks that it is writable and takes its lock. Throws
 * {@linkcode StateDirError} naming the holder when another instance has it, or saying why the
 * directory cannot be written.
 *
 * @example
 * ```ts ignore
 * // Writes (doc tests run without --allow-write); tests/mesos_state_dir_test.ts runs this.
 * import assert from "node:assert/strict";
 * const dir = `${Deno.makeTempDirSync()}/state`;
 * const lock = lockStateDir(dir, "pid 42 on host-a");
 * assert.throws(() => lockStateDir(dir, "pid 43 on host-b"), StateDirError);
 * lock.release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function lockStateDir(dir: string, holder: string): StateDirLock {
  let file: Deno.FsFile;
  const path = join(dir, LOCK_FILE);
  try {
    const existed = isDir(dir);
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existed) Deno.chmodSync(dir, 0o700);
    const mode = Deno.statSync(dir).mode ?? 0;
    if (mode & 0o022) {
      throw new Error(
        `writable by others (mode ${(mode & 0o7777).toString(8)}); use a directory of your own`,
      );
    }
    refuseLink(path);
    file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (err) {
    throw new StateDirError(`${dir}: not writable: ${(err as Error).message}`);
  }
  if (!file.tryLockSync(true)) {
    let who = "";
    try {
      who = readSmallFileSync(path, 256).trim();
    } catch {
      // The holder's note is only a courtesy.
    }
    file.close();
    throw new StateDirError(
      `${dir}: in use by another relay.mesos (${who || "holder unknown"}); ` +
        "give each instance its own --state-dir, or use --ha-zk",
    );
  }
  try {
    // New files can be made there (the FrameworkID's temporary file will be).
    const probe = join(dir, `${LOCK_FILE}.probe`);
    removeIfThere(probe);
    Deno.openSync(probe, { write: true, createNew: true, mode: 0o600 }).close();
    Deno.removeSync(probe);
  } catch (err) {
    file.close();
    throw new StateDirError(`${dir}: not writable: ${(err as Error).message}`);
  }
  try {
    file.truncateSync(0);
    file.writeSync(new TextEncoder().encode(`${holder}\n`));
  } catch {
    // A full disk: the lock holds all the same; only the holder's note is missing.
  }
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      try {
        file.unlockSync();
      } finally {
        file.close();
      }
    },
  };
}

/**
 * The FrameworkID saved in `dir`, or undefined when there is none. Throws when the file is not a
 * regular file or is larger than {@linkcode FRAMEWORK_ID_MAX_BYTES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(readFrameworkId("/nonexistent/state"), undefined);
 * ```
 */
export function readFrameworkId(dir: string): string | undefined {
  try {
    return readSmallFileSync(join(dir, FRAMEWORK_ID_FILE), FRAMEWORK_ID_MAX_BYTES).trim() ||
      undefined;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Saves `id` in `dir` atomically (temporary file created exclusively, then renamed). */
export function writeFrameworkId(dir: string, id: string): void {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, FRAMEWORK_ID_FILE);
  const tmp = `${target}.tmp`;
  // A leftover (or planted link) goes first: removing a link removes the link, not its target.
  removeIfThere(tmp);
  // createNew is O_CREAT|O_EXCL: it fails on any existing name, a symbolic link included.
  const file = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o600 });
  try {
    file.writeSync(new TextEncoder().encode(id + "\n"));
  } finally {
    file.close();
  }
  Deno.renameSync(tmp, target);
}

function refuseLink(path: string): void {
  try {
    if (Deno.lstatSync(path).isSymlink) throw new Error(`${path} is a symbolic link`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
