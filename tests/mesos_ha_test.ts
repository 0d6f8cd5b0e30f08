/**
 * High availability of Relay.Mesos with a real ZooKeeper (Debian's `zookeeper`, started by
 * tests/support/zookeeper.ts; skipped loudly without it): two relay.mesos processes with the same
 * `--ha-zk`, each with its own state directory. Only the leader subscribes; the standby serves
 * `/healthz` and the UI as standby; SIGKILL the leader and the standby takes over within the
 * ZooKeeper session timeout as the same framework (the FrameworkID is read from ZooKeeper),
 * adopts the running tasks and launches nothing twice.
 */
import assert from "node:assert/strict";
import { HA_SESSION_TIMEOUT_MS, HaElection } from "../lib/mesos/ha.ts";
import { parseHaSpec } from "../lib/specs/ha.ts";
import { relayCommand, sleepWarmersOnMesos } from "./support/relay_process.ts";
import { startTestMaster } from "./support/mesos_master.ts";
import { freePort, startZooKeeper, TcpProxy } from "./support/zookeeper.ts";
import { untilWithin } from "./support/until.ts";

const zk = await startZooKeeper();

const until = untilWithin(15_000);
/** Each instance's run: fast ticks, long enough to outlast the test, its tasks killed at exit. */
const RUN_ARGS = ["--delay", "0.2", "--duration", "60", "--on-exit", "kill"];

async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url);
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

/**
 * Two relay.mesos instances as the HA tests run them: a state dir and the output of each, and
 * one clean-up (the first killed outright, it may be gone already; the second asked to stop).
 */
async function twoInstances() {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const output = ["", ""];
  const children: (Deno.ChildProcess | undefined)[] = [undefined, undefined];
  const spawn = (i: number, argv: string[]): Deno.ChildProcess => {
    const child = relayCommand(argv).spawn();
    for (const stream of [child.stdout, child.stderr]) {
      (async () => {
        for await (const c of stream.pipeThrough(new TextDecoderStream())) output[i] += c;
      })().catch(() => {});
    }
    children[i] = child;
    return child;
  };
  const report = (first: string, second: string) =>
    console.error(`--- ${first} ---\n${output[0]}\n--- ${second} ---\n${output[1]}`);
  const cleanUp = async () => {
    const [first, second] = children;
    for (const [child, signal] of [[first, "SIGKILL"], [second, "SIGTERM"]] as const) {
      if (!child) continue;
      try {
        child.kill(signal);
      } catch { /* gone */ }
      await child.status;
    }
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  };
  return { dirs, output, spawn, report, cleanUp };
}

Deno.test("--ha-zk: a zk:// spec with a path; bad ones say why", () => {
  assert.deepEqual(parseHaSpec("zk://a:2181,b:2181/relay/q1"), {
    servers: "a:2181,b:2181",
    path: "/relay/q1",
  });
  assert.throws(() => parseHaSpec("http://a:2181/x"), /expected zk:\/\//);
  assert.throws(() => parseHaSpec("zk://a:2181"), /expected zk:\/\//);
  assert.throws(() => parseHaSpec("zk://a:2181/"), /bad znode path/);
  assert.throws(() => parseHaSpec("zk://a/x"), /expected host:port/);
  assert.throws(() => parseHaSpec("zk://u:p@a:2181/x"), /authentication/);
});

Deno.test({
  name: "--ha-zk: one leader subscribes; SIGKILL it and the standby takes over the same framework",
  ignore: zk === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const master = await startTestMaster({
      agents: [{ id: "a1", hostname: "a1", resources: { cpus: 4, mem: 1024, disk: 0 } }],
      heartbeatSeconds: 1,
    });
    const pair = await twoInstances();
    const { dirs } = pair;
    const ports = [freePort(), freePort()];
    const spec = `zk://${zk!.connectString}/relay-ha-${crypto.randomUUID().slice(0, 8)}`;
    const spawn = (i: number) => pair.spawn(i, args(i));
    const args = (i: number) =>
      sleepWarmersOnMesos(master.url, dirs[i], 2, [
        "--ha-zk",
        spec,
        "--web",
        "--web-listen",
        `127.0.0.1:${ports[i]}`,
        ...RUN_ARGS,
      ]);
    const leader = spawn(0);
    try {
      await until(
        "the first instance runs two tasks",
        () => master.tasks().filter((t) => t.state === "TASK_RUNNING").length === 2,
      );
      const framework = master.frameworks()[0].id;
      spawn(1);
      await until("the second instance stands by", async () => {
        const h = await get(`http://127.0.0.1:${ports[1]}/healthz`);
        return h.status === 200 && /standby/.test(h.body);
      });
      const state = JSON.parse((await get(`http://127.0.0.1:${ports[1]}/api/state`)).body);
      assert.equal(state.status, "standby");
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(master.subscriptions, 1, "only the leader subscribes");
      const pids = master.tasks().map((t) => t.pid).sort();

      leader.kill("SIGKILL");
      const killedAt = Date.now();
      await until(
        "the standby subscribes",
        () => master.subscriptions === 2 && master.frameworks()[0].connected,
        HA_SESSION_TIMEOUT_MS + 10_000,
      );
      const tookOver = Date.now() - killedAt;
      assert.ok(tookOver < HA_SESSION_TIMEOUT_MS + 3000, `took over after ${tookOver} ms`);
      assert.equal(master.frameworks().length, 1);
      assert.equal(master.frameworks()[0].id, framework, "the same framework");
      // It adopts the two running tasks (reconciliation), then keeps the need: nothing new.
      await until("healthy as leader", async () => {
        const h = await get(`http://127.0.0.1:${ports[1]}/healthz`);
        return h.status === 200 && /last tick/.test(h.body);
      });
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(master.launchedTasks.length, 2, "nothing launched twice");
      assert.deepEqual(master.tasks().map((t) => t.pid).sort(), pids, "the same processes");
      assert.ok(master.tasks().every((t) => t.state === "TASK_RUNNING"));
      // The FrameworkID came from ZooKeeper: the standby's own state dir never had one.
      await assert.rejects(Deno.stat(`${dirs[1]}/framework_id`));
      console.log(`ha: the standby took over ${tookOver} ms after the leader's SIGKILL`);
    } catch (err) {
      pair.report("leader output", "standby output");
      throw err;
    } finally {
      await pair.cleanUp();
      await master.close();
    }
  },
});

Deno.test({
  name: "--ha-zk: a leader that loses its ZooKeeper session stops (exit 4), leaving its tasks",
  ignore: zk === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const master = await startTestMaster({
      agents: [{ id: "a1", hostname: "a1", resources: { cpus: 4, mem: 1024, disk: 0 } }],
      heartbeatSeconds: 1,
    });
    // The first instance reaches ZooKeeper through a proxy the test can cut.
    const proxy = new TcpProxy(zk!.port);
    proxy.up();
    const path = `/relay-ha-${crypto.randomUUID().slice(0, 8)}`;
    const pair = await twoInstances();
    const { dirs, output } = pair;
    const spawn = (i: number, servers: string) =>
      pair.spawn(
        i,
        sleepWarmersOnMesos(master.url, dirs[i], 2, [
          "--ha-zk",
          `zk://${servers}${path}`,
          ...RUN_ARGS,
        ]),
      );
    const first = spawn(0, proxy.connectString);
    try {
      await until(
        "the first instance runs two tasks",
        () => master.tasks().filter((t) => t.state === "TASK_RUNNING").length === 2,
      );
      spawn(1, zk!.connectString);
      await until("the second one stands by", () => /ha: standby behind/.test(output[1]));
      const pids = master.tasks().map((t) => t.pid).sort();
      await proxy.down(); // its session ends on its side; the server expires it later
      const status = await first.status;
      assert.equal(status.code, 4, output[0]);
      assert.match(output[0], /lost the lead in ZooKeeper/);
      // It left its tasks to the next leader (no KILL, although --on-exit kill).
      assert.equal(master.callsOfType("KILL").length, 0);
      await until(
        "the second one takes over",
        () => master.subscriptions === 2 && master.frameworks()[0].connected,
        HA_SESSION_TIMEOUT_MS + 10_000,
      );
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(master.frameworks().length, 1);
      assert.equal(master.launchedTasks.length, 2, "nothing launched twice");
      assert.deepEqual(master.tasks().map((t) => t.pid).sort(), pids, "the same processes");
    } catch (err) {
      pair.report("first", "second");
      throw err;
    } finally {
      await pair.cleanUp();
      await proxy.down();
      await master.close();
    }
  },
});

Deno.test({
  name: "ha election: the lowest znode leads; the next one leads when it goes",
  ignore: zk === undefined,
  fn: async () => {
    const spec = parseHaSpec(
      `zk://${zk!.connectString}/relay-el-${crypto.randomUUID().slice(0, 8)}`,
    );
    const logs: string[] = [];
    const log = (_l: string, m: string) => logs.push(m);
    const a = new HaElection(spec, { log, id: "a" });
    const b = new HaElection(spec, { log, id: "b" });
    const stop = new AbortController();
    try {
      assert.equal(await a.lead(stop.signal), true);
      await a.saveFrameworkId("fw-42");
      let bLeads = false;
      const bRun = b.lead(stop.signal).then((v) => (bLeads = v));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(bLeads, false, "b stands by while a leads");
      await a.close();
      await bRun;
      assert.equal(bLeads, true);
      assert.equal(await b.loadFrameworkId(), "fw-42");
    } finally {
      stop.abort();
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "zookeeper (ha): stop the test server",
  ignore: zk === undefined,
  fn: async () => {
    await zk!.stop();
  },
});
