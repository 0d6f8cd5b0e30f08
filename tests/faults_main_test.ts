/**
 * Faults around the relay.mesos process itself, run as a subprocess (the entry point `deno task
 * compile` builds): killed with SIGKILL and restarted while its tasks run on the test master,
 * SIGTERM in the middle of a launch burst, signals that hang, print garbage or fail, warmer
 * commands that do not exist on the local executor, and a state directory on a full disk.
 */
import assert from "node:assert/strict";
import { jsonLines, runRelay, sleepWarmersOnMesos, spawnRelay } from "./support/relay_process.ts";
import { startTestMaster, type TestAgent, type TestMaster } from "./support/mesos_master.ts";
import { untilWithin } from "./support/until.ts";

const until = untilWithin(15_000);
/** Launches in one tick that make a burst: that many wait for offers or are being launched. */
const BURST_MIN = 8;

function agents(n: number, cpus: number): TestAgent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `agent-${i + 1}`,
    hostname: `a${i + 1}`,
    resources: { cpus, mem: 4096, disk: 100 },
  }));
}

function mesosArgs(master: TestMaster, stateDir: string, target: number, extra: string[] = []) {
  return sleepWarmersOnMesos(master.url, stateDir, target, [
    "--delay",
    "0.25",
    "--log-format",
    "json",
    ...extra,
  ]);
}

const running = (master: TestMaster) =>
  master.tasks().filter((t) => t.state === "TASK_RUNNING").length;

/** Pids of processes whose command line contains `needle` (pgrep -f). */
async function processesWith(needle: string): Promise<number[]> {
  const out = await new Deno.Command("pgrep", { args: ["-f", needle], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(Number);
}

Deno.test("SIGKILL while tasks run, then a restart: the tasks are adopted, nothing relaunched", async () => {
  const master = await startTestMaster({ agents: agents(2, 4), heartbeatSeconds: 1 });
  const stateDir = await Deno.makeTempDir();
  try {
    const first = spawnRelay(mesosArgs(master, stateDir, 3));
    await until("three running tasks", () => running(master) === 3);
    first.child.kill("SIGKILL");
    const killed = await first.done();
    assert.equal(killed.status.signal, "SIGKILL");
    const id = Deno.readTextFileSync(`${stateDir}/framework_id`).trim();
    assert.equal(id, master.frameworks()[0].id);
    assert.equal(running(master), 3, "the tasks outlive their scheduler");

    // --on-exit leave: the adopted tasks stay, so every update can be checked for its ack.
    const second = await runRelay(
      mesosArgs(master, stateDir, 3, ["--duration", "5", "--on-exit", "leave"]),
    );
    assert.equal(second.code, 0, second.stderr);
    const lines = jsonLines(second.stdout);
    // Adopted from whichever update comes first: a resent TASK_STARTING the killed process never
    // acknowledged, or the reconciliation's TASK_RUNNING.
    const adopted = lines.flatMap((e) => {
      const m = String(e.msg).match(/adopted (?:starting|running) task (\S+)/);
      return m ? [m[1]] : [];
    });
    assert.deepEqual(
      adopted.toSorted(),
      master.tasks().map((t) => t.taskId).toSorted(),
      "each task adopted once",
    );
    const ticks = lines.filter((e) => e.event === "tick");
    assert.equal(ticks.reduce((a, t) => a + (t.launched as string[]).length, 0), 0);
    assert.equal(ticks.at(-1)!.metric, 3);
    assert.equal(master.frameworks().length, 1, "re-subscribed as the same framework");
    assert.equal(master.frameworks()[0].id, id);
    assert.equal(master.launchedTasks.length, 3, "nothing launched beyond the need");
    assert.equal(master.unacknowledged(), 0, "updates the killed process missed were acked");
    for (const [uuid, n] of master.acks) assert.equal(n, 1, `uuid ${uuid} acknowledged ${n}×`);
  } finally {
    await master.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("SIGTERM during a launch burst: state written, tasks stopped, exit 0 within the grace", async () => {
  const master = await startTestMaster({ agents: agents(4, 8), heartbeatSeconds: 1 });
  const stateDir = await Deno.makeTempDir();
  try {
    const relay = spawnRelay(
      mesosArgs(master, stateDir, 40, [
        "--response",
        "level",
        "--on-exit",
        "kill",
        "--grace",
        "5",
      ]),
    );
    // After a slow start (1, 2, 6 tasks) a tick asks for many at once: the signal comes as soon
    // as that tick is logged, while its tasks wait for offers or are being launched. The ramp
    // lets a tick start at most as many again as act, so where tasks come up slowly (a loaded
    // machine: 1 a tick for 8 ticks) the bursts are of 8, not the rest of the 40 at once.
    const burst = () =>
      jsonLines(relay.stdout()).find((e) =>
        e.event === "tick" && (e.launched as string[]).length >= BURST_MIN
      );
    await until("a launch burst", () => burst() !== undefined).catch((err) => {
      // Say what the ticks did instead: launches per tick, and the decision's code.
      const ticks = jsonLines(relay.stdout()).filter((e) => e.event === "tick");
      const seen = ticks.map((e) => {
        const d = (e.decision ?? {}) as Record<string, unknown>;
        return `${(e.launched as string[]).length} (${d.code ?? d.kind ?? "?"})`;
      });
      throw new Error(
        `${(err as Error).message}: ${ticks.length} ticks launched ${seen.join(", ")}`,
      );
    });
    const requested = (burst()!.launched as string[]).length;
    const launchedAtSignal = master.launchedTasks.length;
    const signalAt = Date.now();
    relay.child.kill("SIGTERM");
    const { status, stdout, stderr } = await relay.done();
    const took = Date.now() - signalAt;
    assert.equal(status.code, 0, stderr);
    assert.ok(took < 5000 + 2000, `exited ${took} ms after SIGTERM`);
    const stop = jsonLines(stdout).find((e) => e.event === "stop");
    assert.equal(stop?.reason, "signal");
    const id = Deno.readTextFileSync(`${stateDir}/framework_id`).trim();
    assert.equal(id, master.frameworks()[0].id, "the FrameworkID is on disk");
    // Whatever the burst got launched was killed on the way out; nothing keeps running.
    await until(
      "every task ended",
      () => master.tasks().every((t) => t.exitCode !== undefined),
      5000,
    );
    assert.ok(master.launchedTasks.length <= 40);
    console.log(
      `SIGTERM in a burst of ${requested} (${launchedAtSignal} launched by then): exit 0 in ` +
        `${took} ms, ` +
        `${master.launchedTasks.length} launched in all, all stopped`,
    );
  } finally {
    await master.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("a metric that prints garbage, then fails, then recovers: misses counted, loop goes on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const counter = `${dir}/reads`;
    const script =
      `n=$(cat '${counter}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${counter}'; ` +
      `if [ $n -le 3 ]; then echo 'queue: lots'; elif [ $n -le 5 ]; then exit 7; else echo 1; fi`;
    const r = await runRelay([
      "--metric",
      `cmd:${script}`,
      "--target",
      "1",
      "--warmer",
      "true",
      "--delay",
      "0.1",
      "--max-missing",
      "5",
      "--max-ticks",
      "8",
      "--log-format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    // Read 1 is the start-up check's: reported, not a tick.
    assert.match(String(lines[0].msg), /^first read of --metric cmd:.*: missing \(.*queue: lots/);
    const missing = lines.filter((e) => e.event === "missing");
    assert.deepEqual(missing.map((e) => e.consecutive), [1, 2, 3, 4]);
    assert.ok(missing.every((e) => e.signal === "metric"));
    assert.ok(
      missing.slice(0, 2).every((e) => /queue: lots/.test(String(e.reason))),
      JSON.stringify(missing),
    );
    assert.ok(missing.slice(2).every((e) => /7/.test(String(e.reason))), JSON.stringify(missing));
    const ticks = lines.filter((e) => e.event === "tick");
    assert.deepEqual(ticks.map((t) => t.metric), [1, 1, 1, 1], "the loop went on after the misses");
    assert.equal(lines.find((e) => e.event === "stop")?.reason, "max-ticks");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a metric command that hangs: each read times out, exit 3 at --max-missing, no process left", async () => {
  const marker = `sleep 97.${Math.floor(Math.random() * 1e6)}`;
  const started = Date.now();
  const r = await runRelay([
    "--metric",
    `cmd:${marker}`,
    "--target",
    "0",
    "--warmer",
    "true",
    "--signal-timeout",
    "0.3",
    "--delay",
    "0.1",
    "--max-missing",
    "3",
    "--log-format",
    "json",
  ]);
  const took = Date.now() - started;
  assert.equal(r.code, 3, r.stderr);
  const lines = jsonLines(r.stdout);
  const missing = lines.filter((e) => e.event === "missing");
  assert.deepEqual(missing.map((e) => e.consecutive), [1, 2, 3]);
  assert.ok(
    missing.every((e) => /timed out after 0\.3 s/.test(String(e.reason))),
    JSON.stringify(missing),
  );
  assert.equal(lines.find((e) => e.event === "stop")?.reason, "max-missing");
  assert.ok(took < 10_000, `took ${took} ms`);
  assert.deepEqual(await processesWith(marker), [], "the hanging reads were killed");
});

Deno.test("local executor: a warmer command that does not exist trips --max-failures, exit 4", async () => {
  const started = Date.now();
  const r = await runRelay([
    "--metric",
    "0",
    "--target",
    "3",
    "--warmer",
    "no-such-command-relay-faults",
    "--delay",
    "0.2",
    "--duration",
    "20",
    "--max-failures",
    "3",
    "--failure-window",
    "60",
    "--log-format",
    "json",
  ]);
  assert.equal(r.code, 4, r.stderr);
  const lines = jsonLines(r.stdout);
  const failed = lines.filter((e) =>
    e.event === "task" && (e.task as { state: string }).state === "failed"
  );
  assert.ok(failed.length >= 3, `${failed.length} failed tasks`);
  assert.ok(
    lines.some((e) =>
      e.event === "warning" && /3 task failures within 60 s/.test(String(e.message))
    ),
    "the circuit breaker names its reason",
  );
  assert.ok(Date.now() - started < 15_000, "stopped long before --duration");
});

/**
 * A tiny tmpfs as the state dir, filled up (every write: ENOSPC) or remounted read-only (EROFS).
 * Needs mount (root); undefined, said loudly, where it cannot be had.
 */
async function brokenDisk(how: "full" | "read-only"): Promise<string | undefined> {
  const dir = await Deno.makeTempDir();
  const mount = (...args: string[]) =>
    new Deno.Command("mount", { args, stdout: "null", stderr: "piped" }).output()
      .catch(() => undefined);
  // mode=0700: a state dir others may write to is refused (tmpfs defaults to 1777).
  const mounted = await mount("-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", dir);
  if (!mounted?.success) {
    console.log(`*** SKIPPED: cannot mount a tmpfs (not root?) ***`);
    await Deno.remove(dir);
    return undefined;
  }
  if (how === "full") {
    try {
      Deno.writeFileSync(`${dir}/filler`, new Uint8Array(1 << 20));
    } catch { /* ENOSPC: full, as wanted */ }
  } else await mount("-o", "remount,ro", dir);
  return dir;
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir], stderr: "null" }).output();
  await Deno.remove(dir, { recursive: true });
}

Deno.test("state dir on a full disk: one error line naming the state file, the run goes on", async () => {
  const stateDir = await brokenDisk("full");
  if (!stateDir) return;
  const master = await startTestMaster({ agents: agents(1, 4), heartbeatSeconds: 1 });
  try {
    const r = await runRelay(
      mesosArgs(master, stateDir, 2, ["--duration", "4", "--on-exit", "kill"]),
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    const errors = lines.filter((e) => e.level === "error");
    assert.equal(errors.length, 1, JSON.stringify(errors));
    const message = String(errors[0].msg);
    assert.ok(message.includes(`${stateDir}/framework_id`), message);
    assert.match(message, /No space left on device/);
    assert.ok(!message.includes("\n"));
    const ticks = lines.filter((e) => e.event === "tick");
    assert.ok(ticks.length >= 12, `${ticks.length} ticks`);
    assert.equal(ticks.at(-1)!.metric, 2, "tasks ran all the same");
    assert.equal(master.launchedTasks.length, 2);
    assert.throws(() => Deno.statSync(`${stateDir}/framework_id`), Deno.errors.NotFound);
  } finally {
    await master.close();
    await unmount(stateDir);
  }
});

Deno.test("state dir read-only at start: exit 2 naming --state-dir, nothing subscribed", async () => {
  const stateDir = await brokenDisk("read-only");
  if (!stateDir) return;
  const master = await startTestMaster({ agents: agents(1, 4), heartbeatSeconds: 1 });
  try {
    const r = await runRelay(mesosArgs(master, stateDir, 2, ["--duration", "4"]));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^relay\.mesos: --state-dir .*: not writable: .*Read-only file system/m);
    assert.equal(master.subscriptions, 0);
  } finally {
    await master.close();
    await unmount(stateDir);
  }
});

Deno.test("two instances on one state dir: the second exits 2 naming the first", async () => {
  const stateDir = await Deno.makeTempDir();
  const master = await startTestMaster({ agents: agents(1, 4), heartbeatSeconds: 1 });
  const first = spawnRelay(mesosArgs(master, stateDir, 1, ["--on-exit", "kill"]));
  try {
    await until("the first instance subscribed", () => master.subscriptions === 1);
    const second = await runRelay(mesosArgs(master, stateDir, 1, ["--duration", "3"]));
    assert.equal(second.code, 2, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(
        `--state-dir ${stateDir}: in use by another relay\\.mesos \\(pid ${first.child.pid} `,
      ),
    );
    assert.equal(master.subscriptions, 1, "the master saw one SUBSCRIBE only");
  } finally {
    first.child.kill("SIGTERM");
    await first.done();
    await master.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("on Mesos, a second SIGTERM during --on-exit wait kills the tasks at once", async () => {
  const stateDir = await Deno.makeTempDir();
  const master = await startTestMaster({ agents: agents(1, 4), heartbeatSeconds: 1 });
  const relay = spawnRelay(mesosArgs(master, stateDir, 2, ["--on-exit", "wait", "--grace", "60"]));
  try {
    await until("two tasks running", () => running(master) === 2);
    relay.child.kill("SIGTERM");
    await until("the wait", () => /on exit: wait \(\d tasks? running\)/.test(relay.stdout()), 5000)
      .catch((err) => {
        throw new Error(`${err.message}: ${relay.stdout().slice(-1500)}`);
      });
    relay.child.kill("SIGTERM");
    const second = Date.now();
    const { status, stdout } = await relay.done();
    assert.ok(Date.now() - second < 5000, `exited ${Date.now() - second} ms after the second`);
    assert.equal(status.code, 0);
    assert.match(stdout, /second stop signal: killing the tasks now/);
    assert.equal(running(master), 0, "the master saw the tasks killed");
  } finally {
    try {
      relay.child.kill("SIGKILL");
    } catch { /* gone */ }
    await relay.done();
    await master.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
