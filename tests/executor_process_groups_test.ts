import assert from "node:assert/strict";
import { groupMembers, stillOurGroup } from "../lib/process_groups.ts";

Deno.test("process groups: a remembered member proves the group; another process with its pid does not", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", "sleep 30 & wait"],
    detached: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let members = groupMembers(child.pid) ?? [];
    for (let i = 0; i < 50 && members.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      members = groupMembers(child.pid) ?? [];
    }
    assert.equal(members.length, 2, "the shell and its sleep");
    assert.ok(members.some((m) => m.pid === child.pid));
    assert.equal(stillOurGroup(child.pid, members), true);
    // The same pids with other start times are other processes: not the group we saw.
    const strangers = members.map((m) => ({ pid: m.pid, start: `${m.start} (another)` }));
    assert.equal(stillOurGroup(child.pid, strangers), false);
  } finally {
    Deno.kill(-child.pid, "SIGKILL");
    await child.status;
  }
  let left = groupMembers(child.pid);
  for (let i = 0; i < 50 && left?.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
    left = groupMembers(child.pid);
  }
  assert.deepEqual(left, [], "the group is empty once killed");
});
