/**
 * Which processes are in a process group, and whether a group is still the one a task left
 * behind, read from Linux's `/proc`. A group's number alone does not prove it: once the group
 * empties, the kernel may hand the number to a new process, whose own group then has it. A
 * remembered member (its pid and start time) that is still alive in the group does prove it:
 * while the group has a member, its number goes to no new process.
 *
 * Where `/proc` cannot be read (not Linux), members are `undefined` and callers fall back on
 * weaker checks.
 * @module
 */

/** One process, told apart from a later one with the same pid by its start time. */
export interface GroupMember {
  readonly pid: number;
  /** Start time after boot, in clock ticks (`/proc/PID/stat` field 22). */
  readonly start: number;
}

/** The fields of `/proc/PID/stat` we use. */
export interface ProcStat {
  readonly pid: number;
  /** One letter: R running, S sleeping, Z zombie (ended, not yet reaped)… */
  readonly state: string;
  readonly pgrp: number;
  readonly start: number;
}

/**
 * Parses one `/proc/PID/stat` line (the command name may hold spaces and parentheses: fields
 * are counted after its last `)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const line = "4242 (sleep (x)) S 1 4240 4240 0 -1 4194304 91 0 0 0 0 0 0 0 20 0 1 0 98765 0";
 * assert.deepEqual(parseProcStat(line), { pid: 4242, state: "S", pgrp: 4240, start: 98765 });
 * ```
 */
export function parseProcStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(")");
  if (close < 0) return undefined;
  const pid = Number(line.slice(0, line.indexOf(" ")));
  // After ") ": state(3) ppid(4) pgrp(5) … starttime(22): indexes 0, 1, 2 … 19.
  const rest = line.slice(close + 2).split(" ");
  const pgrp = Number(rest[2]);
  const start = Number(rest[19]);
  return Number.isInteger(pid) && Number.isInteger(pgrp) && Number.isFinite(start)
    ? { pid, state: rest[0], pgrp, start }
    : undefined;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/**
 * The live processes in group `pgid` now (zombies, ended and waiting to be reaped, left out);
 * `undefined` where `/proc` cannot be read.
 */
export function groupMembers(pgid: number): GroupMember[] | undefined {
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return undefined;
  }
  const out: GroupMember[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readStat(Number(entry.name));
    if (stat && stat.pgrp === pgid && stat.state !== "Z") {
      out.push({ pid: stat.pid, start: stat.start });
    }
  }
  return out;
}

/**
 * True while one of `members` is the same process, still in group `pgid` (a zombie counts: until
 * it is reaped its number, and so the group's, goes to no one else).
 */
export function stillOurGroup(pgid: number, members: readonly GroupMember[]): boolean {
  return members.some((m) => {
    const stat = readStat(m.pid);
    return stat !== undefined && stat.start === m.start && stat.pgrp === pgid;
  });
}
