import assert from "node:assert/strict";
import { systemClock } from "../lib/clock.ts";
import { LocalExecutor } from "../lib/executor/local.ts";
import {
  DEFAULT_OUTPUT_LIMITS,
  type Line,
  LineSplitter,
  TaskOutputBudget,
} from "../lib/executor/output.ts";
import { inOwnProcess } from "./support/own_process.ts";
import { runWarmer } from "./support/warmer_run.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("LineSplitter cuts long lines and never holds more than the cap", () => {
  const split = new LineSplitter(4);
  const got: [string, number][] = [];
  const all = (l: Line) => (got.push([dec(l.bytes), l.cut]), true);
  assert.deepEqual(split.push(enc("ab\nlonger line\nxy"), all), { lines: 0, bytes: 0 });
  assert.deepEqual(got, [["ab", 0], ["long", 7]]);
  // An endless line arriving in pieces stays at the cap.
  for (let i = 0; i < 1000; i++) split.push(enc("zzzzzzzz"), all);
  assert.equal(got.length, 2);
  const last = split.flush()!;
  assert.equal(dec(last.bytes), "xyzz");
  assert.equal(last.cut, 8000 - 2);
  assert.equal(split.flush(), undefined);
});

Deno.test("LineSplitter: once a line is refused, the chunk's other lines are only counted", () => {
  const split = new LineSplitter(100);
  const got: string[] = [];
  const two = (l: Line) => got.length < 2 && (got.push(dec(l.bytes)), true);
  assert.deepEqual(split.push(enc("a\nb\nc\ndd\ne\nta"), two), { lines: 2, bytes: 3 });
  assert.deepEqual(got, ["a", "b"]);
  // "c" was refused and is gone; what followed the last newline carries on.
  split.push(enc("il\n"), (l) => (got.push(dec(l.bytes)), true));
  assert.deepEqual(got, ["a", "b", "tail"]);
});

Deno.test("TaskOutputBudget: a burst, then the rate; the note says how much was dropped", () => {
  let now = 0;
  const budget = new TaskOutputBudget(
    { maxLineBytes: 100, linesPerSecond: 10, burstLines: 5, maxTaskBytes: 1000 },
    () => now,
  );
  const admitted = Array.from({ length: 8 }, () => budget.admit(2)).filter(Boolean).length;
  assert.equal(admitted, 5);
  assert.equal(budget.dropNote(), "dropped 3 lines (6 B) of output (over 10 lines/s)");
  assert.equal(budget.dropNote(), undefined);
  now += 1000; // 10 more
  assert.equal(Array.from({ length: 20 }, () => budget.admit(2)).filter(Boolean).length, 5);
  // (burst capped at 5)
  budget.dropNote();
  now += 100_000;
  assert.equal(budget.admit(990), false, "over the lifetime total");
  assert.match(budget.dropNote()!, /\(over 1000 B per task\)$/);
  assert.equal(budget.exhausted, true);
});

/** Whether `pid` runs (a zombie does not: in a container nobody may reap it). */
function alive(pid: number): boolean {
  return psLine(pid).length > 0 && !/^\s*\d+\s+Z/.test(psLine(pid));
}

/** What `ps` says of `pid` (state and command), for failure messages ("" when gone). */
function psLine(pid: number): string {
  const out = new Deno.Command("ps", { args: ["-o", "pid=,stat=,args=", "-p", String(pid)] })
    .outputSync();
  return new TextDecoder().decode(out.stdout).trim();
}

/** What `ps` says of `pid`, for failure messages. */
function procState(pid: number): string {
  return psLine(pid) || "no such process";
}

Deno.test("a warmer printing flat out (yes): a few lines a second logged, the rest counted, the loop live", async () => {
  const { lines, worstLag } = await runWarmer("yes", 3000);
  const output = lines.filter((l) => l.fields?.stream === "stdout");
  const { burstLines, linesPerSecond } = DEFAULT_OUTPUT_LIMITS;
  assert.ok(output.length <= burstLines + linesPerSecond * 4, `${output.length} lines logged`);
  const notes = lines.filter((l) => l.msg.startsWith("task output dropped "));
  assert.ok(notes.length >= 1, "a note says how much was dropped");
  assert.match(notes.at(-1)!.msg, /^task output dropped \d+ lines \([\d.]+ [KM]?B\) of output/);
  assert.ok(worstLag < 250, `event loop stalled ${worstLag.toFixed(0)} ms`);
});

Deno.test("a warmer printing one endless line: cut at the line cap, memory flat", async () => {
  const { result, grewMb } = await inOwnProcess<{ longest: number; notes: number }>(
    new URL("./support/memory_scenarios.ts", import.meta.url),
    "endlessLineWarmer",
    [2000],
  );
  assert.ok(
    result.longest < DEFAULT_OUTPUT_LIMITS.maxLineBytes + 60,
    `a line of ${result.longest}`,
  );
  assert.ok(grewMb < 60, `RSS grew ${grewMb.toFixed(1)} MB`);
});

Deno.test("on exit, what a finished task left in its group is killed too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The leftover must be alive when its task has finished; under a loaded parallel suite it
    // once was not (never reproduced alone), so the set-up is tried again, saying what it saw.
    const seen: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const ex = new LocalExecutor({
        warmer: `sleep 776 >/dev/null 2>&1 & echo $! > ${dir}/pid; exit 0`,
        env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
        taskTimeoutMs: 0,
        clock: systemClock,
        log: () => {},
        killGraceMs: 500,
      });
      ex.launch("warmer", 1);
      const deadline = Date.now() + 5000;
      while (ex.tasks()[0]?.state !== "finished" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(ex.tasks()[0].state, "finished", ex.tasks()[0].reason);
      const text = await Deno.readTextFile(`${dir}/pid`);
      const pid = Number(text);
      if (!alive(pid)) {
        seen.push(`attempt ${attempt}: pid file ${JSON.stringify(text)}, ${procState(pid)}`);
        await ex.shutdown("kill", 0);
        continue;
      }
      await ex.shutdown("kill", 0);
      assert.ok(!alive(pid), `the left-behind sleep is gone (${procState(pid)})`);
      return;
    }
    assert.fail(`the left-behind sleep was never alive after its task: ${seen.join("; ")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Longest wait for 300 spawns to be running. */
const SPAWN_WAIT_MS = 30_000;

Deno.test("300 tasks at once are spawned in batches: the event loop keeps answering", async () => {
  const ex = new LocalExecutor({
    warmer: "sleep 30",
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    taskTimeoutMs: 0,
    clock: systemClock,
    log: () => {},
  });
  let worstLag = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worstLag = Math.max(worstLag, now - last - 10);
    last = now;
  }, 10);
  ex.launch("warmer", 300);
  // How fast 300 processes spawn is the machine's (a clean-clone CI run on a slow day had 232
  // after 10 s); this test is about the event loop while they do, so the wait is generous.
  const deadline = Date.now() + SPAWN_WAIT_MS;
  while (ex.tasks().some((t) => t.state === "pending") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  clearInterval(probe);
  assert.equal(ex.tasks().filter((t) => t.state === "running").length, 300);
  await ex.shutdown("kill", 0);
  console.log(`worst lag ${worstLag.toFixed(0)} ms`);
  // The goal: /healthz answers within 1 s. (All 300 spawned in one go stalled it for seconds.)
  assert.ok(worstLag < 1000, `event loop stalled ${worstLag.toFixed(0)} ms`);
});
