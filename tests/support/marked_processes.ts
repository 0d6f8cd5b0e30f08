/**
 * Finds and kills the processes of one test by a marker in their environment. Tasks that detach
 * themselves (a trigger's background worker in its own session) escape relay.mesos's process
 * groups and outlive the run; giving every task a unique `KEY=VALUE` (relay.mesos `--env`) that
 * their children inherit lets the test clean them up. Linux only (reads `/proc/PID/environ`);
 * elsewhere it finds nothing, so the tasks' own life limits must end them.
 * @module
 */

/** Name of the environment variable that marks a test's processes. */
export const MARK_VARIABLE = "RELAY_TEST_MARK";

/** A fresh marker value, unique to one test run. */
export function newMark(): string {
  return crypto.randomUUID();
}

/** Process ids of this user's processes whose environment holds `MARK_VARIABLE=mark`. */
export function markedPids(mark: string): number[] {
  const needle = `${MARK_VARIABLE}=${mark}`;
  const pids: number[] = [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const environ = Deno.readTextFileSync(`/proc/${entry.name}/environ`);
      if (environ.split("\0").includes(needle)) pids.push(Number(entry.name));
    } catch {
      // Gone meanwhile, or another user's process: not ours.
    }
  }
  return pids;
}

/** Sends SIGKILL to every process marked with `mark`; returns how many there were. */
export function killMarked(mark: string): number {
  const pids = markedPids(mark);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}
