/**
 * The ZooKeeper client and zk:// leader detection against a real ZooKeeper server (Debian's
 * package, started by tests/support/zookeeper.ts and shared by the tests of this file). Masters
 * are played the way Mesos masters register: an ephemeral sequential `json.info_` znode holding a
 * JSON MasterInfo under the Mesos path. Without ZooKeeper every test here is ignored, loudly.
 */

import assert from "node:assert/strict";
import { LeaderDetector } from "../lib/mesos/leader.ts";
import { CreateFlags, type WatchEvent, ZkClient, ZkError } from "../lib/mesos/zk.ts";
import { fourLetterWord, freePort, startZooKeeper, TcpProxy } from "./support/zookeeper.ts";

const zk = await startZooKeeper();
const ignore = zk === undefined;
const server = zk?.connectString ?? "127.0.0.1:1";

let basePaths = 0;
/** A fresh Mesos path per test, so tests do not see each other's masters. */
function mesosPath(): string {
  return `/mesos-${Date.now().toString(36)}-${basePaths++}`;
}

function masterInfo(host: string, port: number, ipOctets = [10, 0, 0, 1]): string {
  const [a, b, c, d] = ipOctets;
  return JSON.stringify({
    address: { hostname: host, ip: ipOctets.join("."), port },
    hostname: host,
    id: crypto.randomUUID(),
    ip: (a | (b << 8) | (c << 16) | (d << 24)) >>> 0,
    pid: `master@${ipOctets.join(".")}:${port}`,
    port,
    version: "1.11.0",
  });
}

/** A pretend Mesos master: its own session and its ephemeral sequential znode. */
interface Master {
  readonly client: ZkClient;
  readonly znode: string;
}

async function startMaster(
  path: string,
  host: string,
  port = 5050,
  connectString = server,
  sessionTimeoutMs = 10_000,
): Promise<Master> {
  const client = await ZkClient.connect(connectString, { sessionTimeoutMs });
  await client.mkdirp(path);
  const znode = await client.create(
    `${path}/json.info_`,
    masterInfo(host, port),
    CreateFlags.EPHEMERAL_SEQUENTIAL,
  );
  return { client, znode };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

interface Recorder {
  readonly logs: string[];
  readonly changes: (string | undefined)[];
  log(level: string, msg: string): void;
}

function recorder(): Recorder {
  const logs: string[] = [];
  return { logs, changes: [], log: (level, msg) => logs.push(`${level} ${msg}`) };
}

function detector(spec: string, rec: Recorder): LeaderDetector {
  const d = new LeaderDetector(spec, {
    log: rec.log,
    backoffMs: { initial: 100, max: 400 },
    sessionTimeoutMs: 2000,
    connectTimeoutMs: 1000,
  });
  d.onChange((leader) => rec.changes.push(leader));
  return d;
}

// --- the client -----------------------------------------------------------------------------

Deno.test({
  name: "zk client: create, read, watch, delete, and typed errors",
  ignore,
  fn: async () => {
    const c = await ZkClient.connect(server);
    try {
      assert.match(c.sessionId, /^[0-9a-f]{16}$/);
      assert.ok(c.sessionTimeoutMs >= 1000 && c.sessionTimeoutMs <= 10_000);
      const root = mesosPath();
      await c.mkdirp(`${root}/sub`);
      await c.mkdirp(`${root}/sub`); // already there: fine
      assert.equal(await c.exists(root), true);
      assert.deepEqual(await c.getChildren(root), ["sub"]);

      const childEvents: WatchEvent[] = [];
      await c.getChildren(root, (e) => childEvents.push(e));
      const created = await c.create(`${root}/n`, "one");
      assert.equal(created, `${root}/n`);
      await waitFor("child watch", () => childEvents.length === 1);
      assert.deepEqual(childEvents[0], { type: "childrenChanged", state: "connected", path: root });

      const dataEvents: WatchEvent[] = [];
      assert.equal(
        new TextDecoder().decode(await c.getData(`${root}/n`, (e) => dataEvents.push(e))),
        "one",
      );
      await c.delete(`${root}/n`);
      await waitFor("data watch", () => dataEvents.length === 1);
      assert.equal(dataEvents[0].type, "deleted");

      const seq1 = await c.create(`${root}/s_`, "", CreateFlags.SEQUENTIAL);
      const seq2 = await c.create(`${root}/s_`, "", CreateFlags.SEQUENTIAL);
      assert.match(seq1, /\/s_\d{10}$/);
      assert.ok(seq2 > seq1);

      const fails: [Promise<unknown>, string, RegExp][] = [
        [c.getData(`${root}/missing`), "NO_NODE", /^no znode \/mesos-.*\/missing$/],
        [c.getChildren(`${root}/missing`), "NO_NODE", /^no znode/],
        [c.delete(`${root}/missing`), "NO_NODE", /^no znode/],
        [c.create(`${root}/sub`), "NODE_EXISTS", /already exists/],
        [c.delete(root), "NOT_EMPTY", /has children/],
        [c.create(`${root}/missing/child`), "NO_NODE", /^no znode/],
      ];
      for (const [p, code, pattern] of fails) {
        await assert.rejects(p, (err: unknown) => {
          assert.ok(err instanceof ZkError);
          assert.equal(err.code, code);
          assert.match(err.message, pattern);
          return true;
        });
      }
      assert.equal(await c.exists(`${root}/missing`), false);
    } finally {
      await c.close();
    }
    assert.equal(c.isClosed, true);
    assert.equal((await c.closed).code, "CLOSED");
    await assert.rejects(c.getChildren("/"), /client closed/);
  },
});

Deno.test({
  name: "zk client: ephemeral znodes go away with the session that owns them",
  ignore,
  fn: async () => {
    const path = mesosPath();
    const owner = await ZkClient.connect(server);
    const watcher = await ZkClient.connect(server);
    try {
      await owner.mkdirp(path);
      const node = await owner.create(`${path}/e_`, "x", CreateFlags.EPHEMERAL_SEQUENTIAL);
      let gone = false;
      await watcher.getData(node, (e) => (gone = e.type === "deleted"));
      await owner.close();
      await waitFor("ephemeral node deleted", () => gone, 3000);
      assert.equal(await watcher.exists(node), false);
    } finally {
      await owner.close();
      await watcher.close();
    }
  },
});

Deno.test({
  name: "zk client: pings keep a short session alive while idle",
  ignore,
  fn: async () => {
    const c = await ZkClient.connect(server, { sessionTimeoutMs: 1000 });
    try {
      assert.equal(c.sessionTimeoutMs, 1000);
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(c.isClosed, false);
      assert.ok(Array.isArray(await c.getChildren("/")));
    } finally {
      await c.close();
    }
  },
});

Deno.test("zk client: connection refused is a one-line typed error", async () => {
  const port = freePort();
  await assert.rejects(ZkClient.connect(`127.0.0.1:${port}`), (err: unknown) => {
    assert.ok(err instanceof ZkError);
    assert.equal(err.code, "CONNECTION_REFUSED");
    assert.equal(err.message, `cannot reach ZooKeeper at 127.0.0.1:${port}: connection refused`);
    return true;
  });
  const other = freePort();
  await assert.rejects(ZkClient.connect(`127.0.0.1:${port},127.0.0.1:${other}`), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(
        `^cannot reach any ZooKeeper server \\(127\\.0\\.0\\.1:${port}: connection refused; ` +
          `127\\.0\\.0\\.1:${other}: connection refused\\)$`,
      ),
    );
    return true;
  });
});

Deno.test({
  name: "zk client: a server that accepts but never answers times out",
  fn: async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      try {
        while (true) held.push(await listener.accept());
      } catch { /* closed */ }
    })();
    try {
      await assert.rejects(
        ZkClient.connect(`127.0.0.1:${port}`, { connectTimeoutMs: 300 }),
        (err: unknown) => {
          assert.ok(err instanceof ZkError);
          assert.equal(err.code, "UNREACHABLE");
          assert.match(err.message, /127\.0\.0\.1:\d+: no answer within 300 ms/);
          return true;
        },
      );
    } finally {
      listener.close();
      await accepting;
      for (const c of held) c.close();
    }
  },
});

Deno.test({
  name: "zk client: the first reachable server of a list is used",
  ignore,
  fn: async () => {
    const c = await ZkClient.connect(`127.0.0.1:${freePort()},${server}`);
    assert.equal(c.server, server);
    await c.close();
  },
});

Deno.test({
  name: "zk client: a dropped connection ends the session with CONNECTION_LOSS",
  ignore,
  fn: async () => {
    const proxy = new TcpProxy(zk!.port);
    proxy.up();
    const c = await ZkClient.connect(proxy.connectString);
    try {
      await proxy.down();
      const reason = await c.closed;
      assert.equal(reason.code, "CONNECTION_LOSS");
      assert.match(reason.message, /closed the connection|lost ZooKeeper/);
      await assert.rejects(c.getChildren("/"), (err: unknown) => {
        return err instanceof ZkError && err.code === "CONNECTION_LOSS";
      });
    } finally {
      await c.close();
      await proxy.down();
    }
  },
});

// --- leader detection -----------------------------------------------------------------------

Deno.test({
  name: "detector (zk): the lowest-sequence json.info_ znode leads; others are ignored",
  ignore,
  fn: async () => {
    const path = mesosPath();
    const setup = await ZkClient.connect(server);
    await setup.mkdirp(`${path}/log_replicas`);
    await setup.create(`${path}/info_`, "protobuf bytes", CreateFlags.EPHEMERAL_SEQUENTIAL);
    const m1 = await startMaster(path, "master-1", 5050);
    const m2 = await startMaster(path, "master-2", 5051);
    const rec = recorder();
    const d = detector(`zk://${server}${path}`, rec);
    try {
      assert.equal(d.current(), undefined);
      d.start();
      assert.equal(await d.waitForLeader(5000), "http://master-1:5050");
      assert.deepEqual(rec.changes, ["http://master-1:5050"]);
      assert.ok(m1.znode < m2.znode);
      assert.ok(rec.logs.some((l) => l.startsWith("info mesos: connected to ZooKeeper")));
      assert.ok(rec.logs.some((l) => l.includes(`leading master is http://master-1:5050`)));
    } finally {
      await d.close();
      await m1.client.close();
      await m2.client.close();
      await setup.close();
    }
  },
});

Deno.test({
  name: "detector (zk): deleting the leader's znode, then closing its session, moves on",
  ignore,
  fn: async () => {
    const path = mesosPath();
    const m1 = await startMaster(path, "master-1", 5050);
    const m2 = await startMaster(path, "master-2", 5050);
    const m3 = await startMaster(path, "master-3", 5050);
    const rec = recorder();
    const d = detector(`zk://${server}${path}`, rec);
    try {
      d.start();
      assert.equal(await d.waitForLeader(5000), "http://master-1:5050");
      await m1.client.delete(m1.znode);
      await waitFor("master-2 leads", () => d.current() === "http://master-2:5050", 3000);
      await m2.client.close(); // the ephemeral znode goes with the session
      await waitFor("master-3 leads", () => d.current() === "http://master-3:5050", 3000);
      await m3.client.close();
      await waitFor("no leader", () => d.current() === undefined, 3000);
      assert.deepEqual(rec.changes, [
        "http://master-1:5050",
        "http://master-2:5050",
        "http://master-3:5050",
        undefined,
      ]);
      assert.ok(rec.logs.some((l) => l.includes("no leading master (no json.info_* znode")));
    } finally {
      await d.close();
      for (const m of [m1, m2, m3]) await m.client.close();
    }
  },
});

Deno.test({
  name: "detector (zk): a new master joins and the old leader leaves mid-run",
  ignore,
  fn: async () => {
    const path = mesosPath();
    const old = await startMaster(path, "old-leader", 5050);
    const rec = recorder();
    const d = detector(`zk://${server}${path}`, rec);
    let fresh: Master | undefined;
    try {
      d.start();
      assert.equal(await d.waitForLeader(5000), "http://old-leader:5050");
      fresh = await startMaster(path, "new-master", 5052);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(d.current(), "http://old-leader:5050", "a later znode does not take over");
      const t0 = Date.now();
      await old.client.close();
      const took = await waitFor("new leader", () => d.current() === "http://new-master:5052");
      console.log(`leader change seen ${Date.now() - t0} ms after the old session closed`);
      assert.ok(took < 5000);
      assert.deepEqual(rec.changes, ["http://old-leader:5050", "http://new-master:5052"]);
    } finally {
      await d.close();
      await old.client.close();
      await fresh?.client.close();
    }
  },
});

Deno.test({
  name: "detector (zk): a crashed leader is replaced once its session expires",
  ignore,
  fn: async () => {
    const path = mesosPath();
    const proxy = new TcpProxy(zk!.port);
    proxy.up();
    // The leader talks through the proxy with a 1 s session; then its "host" vanishes.
    const leader = await startMaster(path, "crashing", 5050, proxy.connectString, 1000);
    const standby = await startMaster(path, "standby", 5050);
    const rec = recorder();
    const d = detector(`zk://${server}${path}`, rec);
    try {
      d.start();
      assert.equal(await d.waitForLeader(5000), "http://crashing:5050");
      const t0 = Date.now();
      await proxy.down(); // no close-session: the server must expire it
      await waitFor("standby leads", () => d.current() === "http://standby:5050", 8000);
      const took = Date.now() - t0;
      console.log(`expired leader replaced after ${took} ms (session timeout 1000 ms)`);
      assert.ok(took >= 500, `too early: ${took} ms`);
    } finally {
      await d.close();
      await leader.client.close();
      await standby.client.close();
      await proxy.down();
    }
  },
});

Deno.test({
  name: "detector (zk): waits for the Mesos path to appear",
  ignore,
  fn: async () => {
    const path = mesosPath();
    const rec = recorder();
    const d = detector(`zk://${server}${path}`, rec);
    let m: Master | undefined;
    try {
      d.start();
      await waitFor(
        "missing path logged",
        () => rec.logs.some((l) => l.includes("does not exist")),
      );
      assert.equal(d.current(), undefined);
      m = await startMaster(path, "late", 5050);
      assert.equal(await d.waitForLeader(5000), "http://late:5050");
    } finally {
      await d.close();
      await m?.client.close();
    }
  },
});

Deno.test({
  name: "detector (zk): unreadable MasterInfo is logged; a fixed one is picked up",
  ignore,
  fn: async () => {
    const path = mesosPath();
    const c = await ZkClient.connect(server);
    await c.mkdirp(path);
    const bad = await c.create(`${path}/json.info_`, "{oops", CreateFlags.EPHEMERAL_SEQUENTIAL);
    const rec = recorder();
    const d = detector(`zk://${server}${path}`, rec);
    try {
      d.start();
      await waitFor("bad data logged", () => rec.logs.some((l) => l.includes("not valid JSON")));
      assert.equal(d.current(), undefined);
      assert.ok(rec.logs.some((l) => l.startsWith(`error mesos: leader znode ${bad}:`)));
      await c.delete(bad);
      await c.create(
        `${path}/json.info_`,
        masterInfo("fixed", 5050),
        CreateFlags.EPHEMERAL_SEQUENTIAL,
      );
      assert.equal(await d.waitForLeader(5000), "http://fixed:5050");
    } finally {
      await d.close();
      await c.close();
    }
  },
});

Deno.test({
  name: "detector (zk): unreachable ZooKeeper is retried with backoff, then followed",
  ignore,
  fn: async () => {
    const path = mesosPath();
    const m = await startMaster(path, "master-1", 5050);
    const proxy = new TcpProxy(zk!.port); // down: connections are refused
    const rec = recorder();
    const d = detector(`zk://${proxy.connectString}${path}`, rec);
    try {
      d.start();
      await waitFor(
        "three failed attempts",
        () => rec.logs.filter((l) => l.includes("unreachable")).length >= 3,
      );
      const first = rec.logs.find((l) => l.includes("unreachable"))!;
      assert.match(
        first,
        new RegExp(
          `^warn mesos: ZooKeeper unreachable: cannot reach ZooKeeper at ` +
            `127\\.0\\.0\\.1:${proxy.port}: connection refused; ` +
            `retrying in \\d+ ms \\(attempt 1\\)$`,
        ),
      );
      const delays = rec.logs.filter((l) => l.includes("retrying in"))
        .map((l) => Number(/retrying in (\d+) ms/.exec(l)![1]));
      assert.ok(delays.every((ms) => ms >= 50 && ms <= 400), `capped: ${delays}`);
      assert.equal(d.current(), undefined);
      await assert.rejects(d.waitForLeader(50), /no leading Mesos master found within 50 ms/);

      proxy.up();
      assert.equal(await d.waitForLeader(5000), "http://master-1:5050");
      assert.ok(rec.logs.some((l) => l.includes("ZooKeeper reachable again after")));

      // Connection lost mid-run: keep the last leader, reconnect, catch up on what changed.
      const m2 = await startMaster(path, "master-2", 5050);
      await proxy.down();
      await waitFor("session end logged", () => rec.logs.some((l) => l.includes("session ended")));
      assert.equal(d.current(), "http://master-1:5050", "keeps the last leader while cut off");
      assert.ok(rec.logs.some((l) => l.includes("keeping leader http://master-1:5050")));
      await m.client.close(); // the leader changes while the detector cannot see it
      await new Promise((r) => setTimeout(r, 300));
      proxy.up();
      await waitFor("catches up", () => d.current() === "http://master-2:5050", 5000);
      await m2.client.close();
    } finally {
      await d.close();
      await m.client.close();
      await proxy.down();
    }
  },
});

Deno.test({
  name: "detector (zk): close() during backoff and during a session ends promptly",
  ignore,
  fn: async () => {
    const rec = recorder();
    const refused = detector(`zk://127.0.0.1:${freePort()}/mesos`, rec);
    refused.start();
    await waitFor("one attempt", () => rec.logs.length > 0);
    const waiting = refused.waitForLeader(10_000);
    let t0 = Date.now();
    await refused.close();
    await assert.rejects(waiting, /leader detection closed/);
    assert.ok(Date.now() - t0 < 1000);

    const live = detector(`zk://${server}${mesosPath()}`, recorder());
    live.start();
    await new Promise((r) => setTimeout(r, 200));
    t0 = Date.now();
    await live.close();
    assert.ok(Date.now() - t0 < 2000);
  },
});

Deno.test({
  name: "relay.mesos --mesos-master zk://: follows a leader change mid-run, same framework",
  ignore,
  fn: async () => {
    const { startTestMaster } = await import("./support/mesos_master.ts");
    const { relayCommand, jsonLines } = await import("./support/relay_process.ts");
    const agents = [{ id: "a1", hostname: "a1", resources: { cpus: 4, mem: 1024, disk: 100 } }];
    const first = await startTestMaster({ agents, heartbeatSeconds: 1 });
    const second = await startTestMaster({ agents, heartbeatSeconds: 1 });
    const path = mesosPath();
    const stateDir = await Deno.makeTempDir();
    const leaderA = await startMaster(path, "127.0.0.1", first.port);
    const child = relayCommand([
      "--mesos-master",
      `zk://${server}${path}`,
      "--metric",
      "tasks:running",
      "--target",
      "1",
      "--warmer",
      "exec sleep 60",
      "--cooler-mode",
      "kill",
      "--delay",
      "0.25",
      "--duration",
      "8",
      "--on-exit",
      "kill",
      "--state-dir",
      stateDir,
      "--log-format",
      "json",
    ]).spawn();
    try {
      await waitFor("a task on the first leader", () => first.launchedTasks.length === 1, 6000);
      // The second master takes over. It is a separate test master: it accepts our FrameworkID
      // on re-subscription, but (unlike a real new leader) does not know the first one's
      // tasks, so reconciliation reports that task gone and the loop replaces it.
      const leaderB = await startMaster(path, "127.0.0.1", second.port);
      second.setLeader(undefined);
      first.setLeader(second.url);
      await leaderA.client.close();
      await waitFor("re-subscribed to the new leader", () => second.subscriptions >= 1, 6000);
      const out = await child.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(first.frameworks()[0].id, second.frameworks()[0].id, "same FrameworkID");
      const ticks = jsonLines(stdout).filter((e) => e.event === "tick");
      assert.equal(ticks.at(-1)!.metric, 1);
      await leaderB.client.close();
    } finally {
      try {
        child.kill();
      } catch {
        // Already ended.
      }
      await first.close();
      await second.close();
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "zookeeper: stop the shared test server",
  ignore,
  fn: async () => {
    await zk!.stop();
  },
});

Deno.test("test support: a four-letter word to a server that takes the connection and never answers gives up", async () => {
  // A server still starting can accept and stay silent: the start-up probe must not wait on it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const started = performance.now();
    assert.equal(await fourLetterWord((listener.addr as Deno.NetAddr).port, "ruok"), "");
    assert.ok(performance.now() - started < 10_000);
  } finally {
    listener.close();
    for (const c of held) c.close();
    await accepting.catch(() => {});
  }
});
