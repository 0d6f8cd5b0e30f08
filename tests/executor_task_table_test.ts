import assert from "node:assert/strict";
import { VirtualClock } from "../lib/clock.ts";
import { type TaskRecord, TaskTable } from "../lib/executor/task_table.ts";
import type { TaskKind } from "../lib/executor/types.ts";

function table(retainMs?: number) {
  const clock = new VirtualClock(1000);
  const logs: string[] = [];
  const t = new TaskTable<TaskRecord>({
    clock,
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
    ...(retainMs !== undefined ? { retainMs } : {}),
  });
  const add = (kind: TaskKind = "warmer") =>
    t.add({ id: t.newId(kind), kind, state: "pending", requestedAt: clock.now() });
  return { t, clock, logs, add };
}

Deno.test("task table: ids count per table, with six random hex digits", () => {
  const { t } = table();
  assert.match(t.newId("warmer"), /^relay-warmer-000001-[0-9a-f]{6}$/);
  assert.match(t.newId("cooler"), /^relay-cooler-000002-[0-9a-f]{6}$/);
});

Deno.test("task table: startedAt on the first run, endedAt and reason at the end; ended stays ended", () => {
  const { t, clock, add } = table();
  const task = add();
  clock.advance(5);
  t.transition(task, "starting");
  t.transition(task, "running");
  clock.advance(10);
  t.transition(task, "failed", "exit code 1");
  t.transition(task, "running");
  assert.deepEqual(t.views(), [{
    id: task.id,
    kind: "warmer",
    state: "failed",
    requestedAt: 1000,
    startedAt: 1005,
    endedAt: 1015,
    reason: "exit code 1",
  }]);
  assert.ok(Object.isFrozen(t.views()[0]));
});

Deno.test("task table: pending tasks in launch order; a started one leaves the queue", () => {
  const { t, add } = table();
  const [a, b, c] = [add(), add("cooler"), add()];
  t.transition(b, "running");
  assert.deepEqual([...t.pending()].map((x) => x.id), [a.id, c.id]);
  assert.equal(t.pendingCount, 2);
});

Deno.test("task table: a listener that throws is logged, the others still hear", () => {
  const { t, logs, add } = table();
  const heard: string[] = [];
  t.onTaskEvent(() => {
    throw new Error("boom");
  });
  const off = t.onTaskEvent((e) => heard.push(`${e.previous ?? "-"}>${e.task.state}`));
  const task = add();
  t.transition(task, "running");
  off();
  t.transition(task, "finished");
  assert.deepEqual(heard, ["->pending", "pending>running"]);
  assert.ok(logs.some((l) => l.startsWith("error task event listener threw") && /boom/.test(l)));
});

Deno.test("task table: ended tasks are dropped after the retention", () => {
  const { t, clock, add } = table(100);
  const [a, b] = [add(), add()];
  t.transition(a, "finished");
  clock.advance(101);
  assert.deepEqual(t.views().map((v) => v.id), [b.id]);
});

Deno.test("task table: a revived task counts as live again and may end once more", async () => {
  const { t, add } = table();
  const task = add();
  t.transition(task, "lost", "ACCEPT call failed");
  await t.idle();
  t.revive(task, "running");
  assert.equal(task.reason, undefined);
  assert.equal(task.endedAt, undefined);
  let idle = false;
  const waiting = t.idle().then(() => idle = true);
  await Promise.resolve();
  assert.equal(idle, false, "a live task again");
  t.transition(task, "finished");
  await waiting;
});

Deno.test("task table shutdown: pending cancelled, wait gives the grace, then kills the rest", async () => {
  const { t, add } = table();
  const [waiting, running] = [add(), add()];
  t.transition(running, "running");
  const killed: string[] = [];
  const slept: number[] = [];
  await t.shutdown("wait", 500, {
    kill: (tasks) => {
      for (const x of tasks) {
        killed.push(x.id);
        t.transition(x, "killed", "killed at shutdown");
      }
    },
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  });
  assert.equal(waiting.state, "killed");
  assert.equal(waiting.reason, "cancelled at shutdown");
  assert.deepEqual(killed, [running.id]);
  assert.deepEqual(slept, [500]);
});

Deno.test("task table shutdown: leave lets live tasks go and kills nothing", async () => {
  const { t, add } = table();
  const task = add();
  t.transition(task, "running");
  const left: string[] = [];
  await t.shutdown("leave", 1000, {
    kill: () => assert.fail("nothing is killed"),
    leave: (tasks) => left.push(...tasks.map((x) => x.id)),
    sleep: () => assert.fail("no wait"),
  });
  assert.deepEqual(left, [task.id]);
  assert.equal(task.state, "running");
});

Deno.test("task table shutdown: a task ending within the grace is not killed, and the wait ends then", async () => {
  const { t, add } = table();
  const task = add();
  t.transition(task, "running");
  let aborted = false;
  const done = t.shutdown("wait", 60_000, {
    kill: () => assert.fail("it ended by itself"),
    sleep: (_ms, signal) =>
      new Promise((resolve) =>
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve();
        })
      ),
  });
  t.transition(task, "finished");
  await done;
  assert.ok(aborted, "the grace timer is let go");
});
