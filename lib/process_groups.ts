/**
 * Process groups a task or a signal's command left behind, and signals to them that never hit a
 * stranger. A group's number alone does not prove it is still ours: once the group empties, the
 * kernel may hand the number to a new process, whose own group then has it. A process with the
 * group's number means exactly that (while a group has a member, its number goes to no new
 * process). A remembered member (its pid and start time) that is still in the group proves it
 * even after that.
 *
 * Members are read with `ps` (POSIX `-o pid,pgid,stat,lstart`; Deno lets `/proc` be read only
 * with `--allow-all`). Where `ps` cannot be run, only the weaker number check is made.
 * @module
 */

/** One process, told apart from a later one with the same pid by its start time. */
export interface GroupMember {
  readonly pid: number;
  /** Start time as `ps` prints it (`lstart`). */
  readonly start: string;
}

/** One line of `ps -o pid=,pgid=,stat=,lstart=`. */
export interface PsRow {
  readonly pid: number;
  readonly pgid: number;
  /** Process state letters: R running, S sleeping, Z zombie (ended, not yet reaped)… */
  readonly stat: string;
  readonly start: string;
}

/**
 * Parses the output of `ps -o pid=,pgid=,stat=,lstart=` (lines it cannot read are skipped).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = parsePs("  4242  4240 S    Tue Dec  1 13:18:54 2026\nbad\n");
 * assert.deepEqual(rows, [
 *   { pid: 4242, pgid: 4240, stat: "S", start: "Tue Dec  1 13:18:54 2026" },
 * ]);
 * ```
 */
export function parsePs(text: string): PsRow[] {
  const out: PsRow[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S.*\S)\s*$/);
    if (m) out.push({ pid: Number(m[1]), pgid: Number(m[2]), stat: m[3], start: m[4] });
  }
  return out;
}

function ps(args: string[]): PsRow[] | undefined {
  try {
    const out = new Deno.Command("ps", {
      args: [...args, "-o", "pid=,pgid=,stat=,lstart="],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    // `ps -p` exits 1 when none of the pids exists: an answer, not a failure.
    return parsePs(new TextDecoder().decode(out.stdout));
  } catch {
    return undefined;
  }
}

/**
 * The live processes in group `pgid` now (zombies, ended and waiting to be reaped, left out);
 * `undefined` where `ps` cannot be run.
 */
export function groupMembers(pgid: number): GroupMember[] | undefined {
  const rows = ps(["-e"]);
  return rows
    ?.filter((r) => r.pgid === pgid && !r.stat.startsWith("Z"))
    .map((r) => ({ pid: r.pid, start: r.start }));
}

/**
 * True while one of `members` is the same process, still in group `pgid` (a zombie counts: until
 * it is reaped its number, and so the group's, goes to no one else). `rows` is a `ps` snapshot
 * to judge by; without one, `ps` is asked about these members.
 */
export function stillOurGroup(
  pgid: number,
  members: readonly GroupMember[],
  rows: readonly PsRow[] = ps(["-p", members.map((m) => m.pid).join(",")]) ?? [],
): boolean {
  return rows.some((r) =>
    r.pgid === pgid && members.some((m) => m.pid === r.pid && m.start === r.start)
  );
}

/**
 * Sends `signal` to process group `pgid`; false when the group is empty (or not ours). SIGCONT
 * serves as a probe: it changes nothing for a process that is not stopped.
 */
export function signalGroup(pgid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a process with id `pid` exists. For the group of a process that was reaped: a process
 * with that number means the group is gone and the number reused (signalling -N would hit a
 * stranger's group).
 */
export function pidInUse(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // changes nothing for a process that is not stopped
    return true;
  } catch {
    return false;
  }
}

/** A group a reaped leader left processes in, with those processes where `ps` tells them. */
export interface LeftGroup {
  readonly pgid: number;
  readonly members?: readonly GroupMember[];
}

/**
 * What is left in the group of a leader that was just reaped, or `undefined` when nothing is
 * (or its number is someone else's already).
 */
export function leftInGroup(pgid: number): LeftGroup | undefined {
  if (pidInUse(pgid) || !signalGroup(pgid, "SIGCONT")) return undefined;
  const members = groupMembers(pgid);
  if (members === undefined) return { pgid };
  return members.length > 0 ? { pgid, members } : undefined;
}

/**
 * Sends `signal` to each of `groups` that is still the group its leader left (see the module
 * comment), judged by one `ps` snapshot for all of them; returns those signalled.
 */
export function signalOurGroups(
  groups: readonly LeftGroup[],
  signal: Deno.Signal,
): LeftGroup[] {
  const rows = groups.some((g) => g.members) ? ps(["-e"]) ?? [] : [];
  return groups.filter((g) =>
    (g.members ? stillOurGroup(g.pgid, g.members, rows) : !pidInUse(g.pgid)) &&
    signalGroup(g.pgid, signal)
  );
}
