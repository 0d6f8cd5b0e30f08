/**
 * Finds and kills the processes of one test by a marker in their environment. Tasks that detach
 * themselves (a trigger's background worker in its own session) escape relay.mesos's process
 * groups and outlive the run; giving every task a unique `KEY=VALUE` (relay.mesos `--env`) that
 * their children inherit lets the test clean them up. Found with `ps e` (each command followed
 * by its environment, as procps prints it on Linux; Deno lets `/proc` be read only with
 * `--allow-all`); where `ps` prints no environment it finds nothing, so the tasks' own life limits
 * must end them.
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
  let text: string;
  try {
    const out = new Deno.Command("ps", {
      args: ["eww", "-e", "-o", "pid=,args="],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    text = new TextDecoder().decode(out.stdout);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*(\d+)\s/);
    // The marker is one whole word of the environment printed after the command.
    if (m && line.split(/\s+/).includes(needle)) pids.push(Number(m[1]));
  }
  return pids.filter((pid) => pid !== Deno.pid);
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
