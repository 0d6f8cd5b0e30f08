import assert from "node:assert/strict";
import { systemClock, VirtualClock } from "../lib/clock.ts";
import { LocalExecutor, type LocalExecutorOptions } from "../lib/executor/local.ts";
import type { TaskEvent, TaskState, TaskView } from "../lib/executor/types.ts";
import { TERMINAL_STATES } from "../lib/executor/types.ts";
import { untilWithin } from "./support/until.ts";

interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

const PATH = Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin";

function setup(options: Partial<LocalExecutorOptions> = {}) {
  const lines: LogLine[] = [];
  const events: TaskEvent[] = [];
  const executor = new LocalExecutor({
    env: { PATH },
    taskTimeoutMs: 0,
    clock: systemClock,
    log: (level, msg, fields = {}) => lines.push({ level, msg, fields }),
    ...options,
  });
  executor.onTaskEvent((e) => events.push(e));
  const output = (id: string, stream = "stdout") =>
    lines.filter((l) => l.fields.task === id && l.fields.stream === stream).map((l) => l.msg);
  return { executor, lines, events, output };
}

function find(executor: LocalExecutor, id: string): TaskView | undefined {
  return executor.tasks().find((t) => t.id === id);
}

const until = untilWithin(2000, 10);

function inState(executor: LocalExecutor, id: string, state: TaskState, ms = 2000) {
  return until(`${id} to be ${state}`, () => find(executor, id)?.state === state, ms);
}

function ended(executor: LocalExecutor, id: string, ms = 2000) {
  return until(`${id} to end`, () => {
    const s = find(executor, id)?.state;
    return s !== undefined && TERMINAL_STATES.has(s);
  }, ms);
}

/**
 * Whether `pid` is a live process (`kill -0` succeeds and it is not a zombie: in containers an
 * orphan's zombie may linger because PID 1 does not reap it).
 */
async function alive(pid: number): Promise<boolean> {
  const r = await new Deno.Command("sh", {
    args: ["-c", `kill -0 ${pid} 2>/dev/null && ! ps -o stat= -p ${pid} | grep -q Z`],
    stdout: "null",
    stderr: "null",
  }).output();
  return r.success;
}

Deno.test("tasks finish or fail with their exit code", async () => {
  const { executor, events } = setup({ warmer: "exit 0", cooler: "exit 3" });
  const [ok] = executor.launch("warmer", 1);
  const [bad] = executor.launch("cooler", 1);
  assert.match(ok, /^relay-warmer-\d{6}-[0-9a-f]{6}$/);
  assert.match(bad, /^relay-cooler-\d{6}-[0-9a-f]{6}$/);
  assert.notEqual(ok.slice(-11, -5), bad.slice(-11, -5), "sequence numbers differ");
  assert.equal(find(executor, ok)?.state, "pending");
  await ended(executor, ok);
  await ended(executor, bad);

  const done = find(executor, ok)!;
  assert.equal(done.state, "finished");
  assert.equal(done.reason, undefined);
  assert.ok(done.startedAt! >= done.requestedAt && done.endedAt! >= done.startedAt!);
  const failed = find(executor, bad)!;
  assert.equal(failed.state, "failed");
  assert.equal(failed.reason, "exit code 3");

  const okStates = events.filter((e) => e.task.id === ok).map((e) => [e.previous, e.task.state]);
  assert.deepEqual(okStates, [[undefined, "pending"], ["pending", "running"], [
    "running",
    "finished",
  ]]);
  await executor.shutdown("kill", 0);
});

Deno.test("a task sees its id, kind and the given env, and nothing else of ours", async () => {
  Deno.env.set("RELAY_LOCAL_TEST_SECRET", "do-not-leak");
  try {
    const { executor, output } = setup({
      cooler: "env",
      env: { PATH, GREETING: "hello world" },
      idPrefix: "test",
    });
    const [id] = executor.launch("cooler", 1);
    assert.match(id, /^test-cooler-/);
    await inState(executor, id, "finished");
    const vars = new Map(
      output(id).map((l) => {
        const i = l.indexOf("=");
        return [l.slice(0, i), l.slice(i + 1)] as [string, string];
      }),
    );
    assert.equal(vars.get("RELAY_TASK_ID"), id);
    assert.equal(vars.get("RELAY_TASK_KIND"), "cooler");
    assert.equal(vars.get("GREETING"), "hello world");
    assert.equal(vars.get("PATH"), PATH);
    assert.ok(!vars.has("RELAY_LOCAL_TEST_SECRET"));
    // The shell itself may add a few variables of its own; nothing else may appear.
    const allowed = new Set(["PATH", "GREETING", "RELAY_TASK_ID", "RELAY_TASK_KIND"]);
    const shellOwn = new Set(["PWD", "OLDPWD", "SHLVL", "_"]);
    for (const name of vars.keys()) {
      assert.ok(allowed.has(name) || shellOwn.has(name), `unexpected variable ${name}`);
    }
    await executor.shutdown("kill", 0);
  } finally {
    Deno.env.delete("RELAY_LOCAL_TEST_SECRET");
  }
});

Deno.test("stdout and stderr lines are logged with the task id", async () => {
  const { executor, lines, output } = setup({
    warmer: "printf 'one\\ntwo\\r\\n'; echo oops >&2; printf 'last without newline'",
  });
  const [id] = executor.launch("warmer", 1);
  await inState(executor, id, "finished");
  assert.deepEqual(output(id, "stdout"), ["one", "two", "last without newline"]);
  assert.deepEqual(output(id, "stderr"), ["oops"]);
  const oops = lines.find((l) => l.msg === "oops")!;
  assert.equal(oops.level, "warn");
  assert.deepEqual(oops.fields, { task: id, stream: "stderr" });
  assert.equal(lines.find((l) => l.msg === "one")!.level, "info");
  await executor.shutdown("kill", 0);
});

Deno.test("a task that runs too long is killed with its children", async () => {
  const dir = await Deno.makeTempDir();
  const pidfile = `${dir}/pid`;
  try {
    const { executor } = setup({
      warmer: `sleep 30 & echo $! > ${pidfile}; wait`,
      taskTimeoutMs: 400,
    });
    const started = Date.now();
    const [id] = executor.launch("warmer", 1);
    await inState(executor, id, "running");
    await until("the background sleep's pid", () => {
      try {
        return Deno.readTextFileSync(pidfile).trim() !== "";
      } catch {
        return false;
      }
    });
    const grandchild = Number(Deno.readTextFileSync(pidfile).trim());
    assert.ok(await alive(grandchild), "the background sleep runs");
    await ended(executor, id);
    assert.ok(Date.now() - started < 2000, "ended by SIGTERM, not by waiting");
    const t = find(executor, id)!;
    assert.equal(t.state, "failed");
    assert.equal(t.reason, "timed out after 0.4 s");
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !(await alive(grandchild));
      if (!gone) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(gone, "the grandchild died with the process group");
    await executor.shutdown("kill", 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kill() stops running tasks and cancels pending ones", async () => {
  const { executor, events } = setup({ warmer: "sleep 30", maxConcurrent: 1 });
  const [a, b] = executor.launch("warmer", 2);
  await inState(executor, a, "running");
  assert.equal(find(executor, b)?.state, "pending");
  executor.kill([b, "no-such-task"]);
  assert.equal(find(executor, b)?.state, "killed", "pending tasks die at once");
  assert.equal(find(executor, b)?.startedAt, undefined);
  executor.kill([a]);
  await ended(executor, a);
  const t = find(executor, a)!;
  assert.equal(t.state, "killed");
  assert.match(t.reason!, /SIGTERM/);
  executor.kill([a, b]); // terminal tasks are ignored
  assert.equal(events.filter((e) => e.task.id === a).length, 3);
  assert.equal(events.filter((e) => e.task.id === b).length, 2);
  await executor.shutdown("kill", 0);
});

Deno.test("maxConcurrent keeps extra tasks pending until a slot frees", async () => {
  const { executor, events } = setup({ cooler: "sleep 0.2", maxConcurrent: 2 });
  let running = 0;
  let peak = 0;
  executor.onTaskEvent((e) => {
    if (e.task.state === "running") peak = Math.max(peak, ++running);
    if (e.previous === "running") running--;
  });
  const ids = executor.launch("cooler", 4);
  await until("two running", () => events.filter((e) => e.task.state === "running").length === 2);
  assert.deepEqual(
    ids.map((id) => find(executor, id)?.state),
    ["running", "running", "pending", "pending"],
  );
  for (const id of ids) await ended(executor, id);
  assert.ok(ids.every((id) => find(executor, id)?.state === "finished"));
  assert.equal(peak, 2);
  // Tasks start in the order they were requested.
  const starts = events.filter((e) => e.task.state === "running").map((e) => e.task.id);
  assert.deepEqual(starts, ids);
  await executor.shutdown("kill", 0);
});

Deno.test("launching an unconfigured kind or after shutdown throws", async () => {
  const { executor } = setup({ warmer: "true" });
  assert.throws(() => executor.launch("cooler", 1), /no cooler command/);
  assert.deepEqual(executor.launch("warmer", 0), []);
  await executor.shutdown("kill", 0);
  assert.throws(() => executor.launch("warmer", 1), /shut down/);
});

Deno.test("shutdown wait lets short tasks finish", async () => {
  const { executor } = setup({ warmer: "sleep 0.2", maxConcurrent: 1 });
  const [a, b] = executor.launch("warmer", 2);
  await inState(executor, a, "running");
  await executor.shutdown("wait", 2000);
  assert.equal(find(executor, a)?.state, "finished");
  assert.equal(find(executor, b)?.state, "killed", "pending tasks are cancelled");
});

Deno.test("shutdown wait kills what outlives the grace period", async () => {
  const { executor } = setup({ warmer: "sleep 30" });
  const [id] = executor.launch("warmer", 1);
  await inState(executor, id, "running");
  const started = Date.now();
  await executor.shutdown("wait", 200);
  const took = Date.now() - started;
  assert.ok(took >= 190 && took < 1500, `took ${took} ms`);
  assert.equal(find(executor, id)?.state, "killed");
});

Deno.test("shutdown kill kills running tasks and waits for them", async () => {
  const { executor } = setup({ warmer: "sleep 30" });
  const ids = executor.launch("warmer", 2);
  for (const id of ids) await inState(executor, id, "running");
  await executor.shutdown("kill", 10_000);
  assert.deepEqual(ids.map((id) => find(executor, id)?.state), ["killed", "killed"]);
});

Deno.test("shutdown leave leaves tasks running", async () => {
  const { executor } = setup({ warmer: "echo started; sleep 30" });
  const [id] = executor.launch("warmer", 1);
  await inState(executor, id, "running");
  const pid = executor.pidOf(id)!;
  await executor.shutdown("leave", 0);
  assert.equal(find(executor, id)?.state, "running");
  assert.ok(await alive(pid), "the task outlives shutdown");
  Deno.kill(-pid, "SIGKILL");
  await ended(executor, id);
  assert.equal(find(executor, id)?.state, "failed");
  assert.equal(find(executor, id)?.reason, "signal SIGKILL");
});

Deno.test("a missing command or shell shows as a failed task", async () => {
  const missing = setup({ warmer: "nonexistent-cmd-relay-test" });
  const [id] = missing.executor.launch("warmer", 1);
  await ended(missing.executor, id);
  assert.equal(find(missing.executor, id)?.state, "failed");
  assert.equal(find(missing.executor, id)?.reason, "exit code 127");
  await missing.executor.shutdown("kill", 0);

  const noShell = setup({ warmer: "true", env: { PATH: "/nonexistent" } });
  const [id2] = noShell.executor.launch("warmer", 1);
  await ended(noShell.executor, id2);
  const t = find(noShell.executor, id2)!;
  assert.equal(t.state, "failed");
  assert.match(t.reason!, /^spawn error: /);
  assert.equal(t.startedAt, undefined);
  await noShell.executor.shutdown("kill", 0);
});

Deno.test("listener exceptions are contained", async () => {
  const { executor, events, lines } = setup({ warmer: "true" });
  executor.onTaskEvent(() => {
    throw new Error("listener bug");
  });
  const later: TaskEvent[] = [];
  const unsubscribe = executor.onTaskEvent((e) => later.push(e));
  const [id] = executor.launch("warmer", 1);
  await inState(executor, id, "finished");
  assert.equal(events.filter((e) => e.task.id === id).length, 3);
  assert.equal(later.length, 3);
  assert.ok(lines.some((l) => l.level === "error" && l.fields.error === "listener bug"));
  unsubscribe();
  const [id2] = executor.launch("warmer", 1);
  await inState(executor, id2, "finished");
  assert.equal(later.length, 3, "unsubscribed listeners hear nothing");
  await executor.shutdown("kill", 0);
});

Deno.test("terminal tasks are dropped from tasks() after retainMs", async () => {
  const clock = new VirtualClock(1_000_000);
  const { executor } = setup({ warmer: "true", clock, retainMs: 5000 });
  const [id] = executor.launch("warmer", 1);
  await inState(executor, id, "finished");
  clock.advance(4000);
  assert.ok(find(executor, id), "still retained");
  clock.advance(2000);
  assert.equal(find(executor, id), undefined);
  await executor.shutdown("kill", 0);
});

Deno.test("a task that ignores SIGTERM gets SIGKILL after 2 s", async () => {
  const { executor } = setup({ warmer: "trap '' TERM; sleep 30" });
  const [id] = executor.launch("warmer", 1);
  await inState(executor, id, "running");
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the shell install its trap
  const started = Date.now();
  executor.kill([id]);
  await ended(executor, id, 2800);
  const took = Date.now() - started;
  assert.ok(took >= 1900, `ended after ${took} ms`);
  assert.equal(find(executor, id)?.state, "killed");
  assert.equal(find(executor, id)?.reason, "killed by request (signal SIGKILL)");
  await executor.shutdown("kill", 0);
});

Deno.test("killGraceMs (--task-kill-grace): SIGKILL after that long instead of 2 s", async () => {
  const { executor } = setup({ warmer: "trap '' TERM; sleep 30", killGraceMs: 300 });
  const [id] = executor.launch("warmer", 1);
  await inState(executor, id, "running");
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the shell install its trap
  const started = Date.now();
  executor.kill([id]);
  await ended(executor, id, 1500);
  const took = Date.now() - started;
  assert.ok(took >= 280 && took < 1500, `ended after ${took} ms`);
  assert.equal(find(executor, id)?.reason, "killed by request (signal SIGKILL)");
  await executor.shutdown("kill", 0);
});

Deno.test("held launches wait as pending until the hold ends; the other kind goes on", async () => {
  const { executor } = setup({ warmer: "exit 0", cooler: "exit 0" });
  try {
    const heldFor = 400;
    executor.holdLaunches("warmer", Date.now() + heldFor);
    const started = Date.now();
    const [w] = executor.launch("warmer", 1);
    const [c] = executor.launch("cooler", 1);
    await ended(executor, c);
    assert.equal(find(executor, w)?.state, "pending", "the warmer waits");
    await ended(executor, w, 3000);
    assert.equal(find(executor, w)?.state, "finished");
    assert.ok(Date.now() - started >= heldFor - 20, `started after ${Date.now() - started} ms`);
  } finally {
    await executor.shutdown("kill", 0);
  }
});

Deno.test("a shell's report of our kill (Terminated) is not a warning; other stderr stays one", async () => {
  // The shell prints what bash and dash print for a child that died of SIGTERM, then exits.
  const { executor, lines } = setup({
    warmer: "trap 'echo Terminated >&2; exit 143' TERM; echo starting >&2; " +
      "while :; do sleep 0.05; done",
  });
  try {
    const [id] = executor.launch("warmer", 1);
    await until("the task's first line", () => lines.some((l) => l.msg === "starting"));
    executor.kill([id]);
    await ended(executor, id);
    const stderr = lines.filter((l) => l.fields.task === id && l.fields.stream === "stderr");
    assert.deepEqual(stderr[0] && [stderr[0].level, stderr[0].msg], ["warn", "starting"]);
    const reports = stderr.slice(1);
    assert.ok(reports.length >= 1, "the shell's report was read");
    assert.ok(reports.every((l) => l.msg === "Terminated" && l.level === "debug"));
    assert.equal(lines.filter((l) => l.level === "warn" && l.msg === "task failed").length, 0);
  } finally {
    await executor.shutdown("kill", 0);
  }
});
