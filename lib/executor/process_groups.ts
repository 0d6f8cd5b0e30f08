/**
 * Which processes are in a process group, and whether a group is still the one a task left
 * behind. A group's number alone does not prove it: once the group empties, the kernel may hand
 * the number to a new process, whose own group then has it. A remembered member (its pid and
 * start time) that is still there in the group does prove it: while the group has a member, its
 * number goes to no new process.
 *
 * Read with `ps` (POSIX `-o pid,pgid,stat,lstart`; Deno lets `/proc` be read only with
 * `--allow-all`). Where `ps` cannot be run, members are `undefined` and callers fall back on
 * weaker checks.
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
 * it is reaped its number, and so the group's, goes to no one else).
 */
export function stillOurGroup(pgid: number, members: readonly GroupMember[]): boolean {
  if (members.length === 0) return false;
  const rows = ps(["-p", members.map((m) => m.pid).join(",")]) ?? [];
  return rows.some((r) =>
    r.pgid === pgid && members.some((m) => m.pid === r.pid && m.start === r.start)
  );
}
