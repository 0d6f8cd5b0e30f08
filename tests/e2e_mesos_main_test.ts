/**
 * main.ts as a subprocess with --mesos-master against the in-repo test master: the same entry
 * point `deno task compile` builds, driving real tasks through offers.
 */
import assert from "node:assert/strict";
import { jsonLines, runRelay, sleepWarmersOnMesos } from "./support/relay_process.ts";
import {
  startTestMaster,
  type TestMaster,
  type TestMasterOptions,
} from "./support/mesos_master.ts";

function relay(args: string[], env: Record<string, string> = {}) {
  return runRelay(args, { env });
}

/** Runs `body` with a test master started with `opts` and a fresh state dir; both go after. */
async function withMaster(
  opts: TestMasterOptions,
  body: (master: TestMaster, stateDir: string) => Promise<void>,
): Promise<void> {
  const master = await startTestMaster(opts);
  const stateDir = await Deno.makeTempDir();
  try {
    await body(master, stateDir);
  } finally {
    await master.close();
    await Deno.remove(stateDir, { recursive: true });
  }
}

Deno.test("relay.mesos --mesos-master runs the loop on Mesos; the secret never shows", async () => {
  await withMaster({
    agents: [{ id: "a1", hostname: "a1", resources: { cpus: 2, mem: 1024, disk: 100 } }],
    heartbeatSeconds: 1,
  }, async (master, stateDir) => {
    const r = await relay(
      sleepWarmersOnMesos(master.url, stateDir, 2, [
        "--mesos-principal",
        "relay",
        "--mesos-content-type",
        "json",
        "--delay",
        "0.25",
        "--duration",
        "5",
        "--on-exit",
        "kill",
        "--log-format",
        "json",
      ]),
      { RELAY_MESOS_SECRET: "s3cr3t-value" },
    );
    assert.equal(r.code, 0, r.stderr);
    const ticks = jsonLines(r.stdout).filter((e) => e.event === "tick");
    assert.equal(ticks.at(-1)!.metric, 2);
    assert.equal(master.launchedTasks.length, 2);
    assert.equal(master.frameworks()[0].info.name, "Relay.Mesos: relay");
    assert.equal(master.frameworks()[0].info.principal, "relay");
    const id = Deno.readTextFileSync(`${stateDir}/framework_id`).trim();
    assert.equal(id, master.frameworks()[0].id);
    assert.ok(!r.stdout.includes("s3cr3t-value") && !r.stderr.includes("s3cr3t-value"));
    // On exit with --on-exit kill, the tasks were killed through Mesos.
    assert.ok(master.callsOfType("KILL").length >= 2);
  });
});

Deno.test("a task command that fails trips --max-failures: exit code 4", async () => {
  await withMaster({
    agents: [{ id: "a1", hostname: "a1", resources: { cpus: 4, mem: 1024, disk: 100 } }],
    heartbeatSeconds: 1,
  }, async (master, stateDir) => {
    const r = await relay([
      "--mesos-master",
      master.url,
      "--metric",
      "0",
      "--target",
      "3",
      "--warmer",
      "no-such-command-here",
      "--cooler-mode",
      "kill",
      "--delay",
      "0.2",
      "--duration",
      "20",
      "--max-failures",
      "3",
      "--failure-window",
      "60",
      "--state-dir",
      stateDir,
      "--log-format",
      "json",
    ]);
    assert.equal(r.code, 4, r.stderr);
    const warning = jsonLines(r.stdout).find((e) =>
      e.event === "warning" && /max-failures/.test(String(e.message))
    );
    assert.ok(warning, "the reason is logged");
  });
});

Deno.test("on Mesos, consumer tasks drain a simulated queue to its target", async () => {
  const { queueOptions, startQueueSim } = await import("../scripts/queue_sim.ts");
  const sim = await startQueueSim({ rate: () => 4, initial: 60 });
  const master = await startTestMaster({
    agents: [
      { id: "a1", hostname: "a1", resources: { cpus: 2, mem: 2048, disk: 100 } },
      { id: "a2", hostname: "a2", resources: { cpus: 2, mem: 2048, disk: 100 } },
    ],
    heartbeatSeconds: 1,
  });
  const stateDir = await Deno.makeTempDir();
  try {
    const r = await relay([
      "--mesos-master",
      master.url,
      ...queueOptions(sim.url, { rate: 10, life: 4 }),
      "--mesos-task-resources",
      "cpus=0.25,mem=64",
      "--delay",
      "0.5",
      "--duration",
      "20",
      "--on-exit",
      "kill",
      "--state-dir",
      stateDir,
      "--log-format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ticks = jsonLines(r.stdout).filter((e) => e.event === "tick");
    const lastHalf = ticks.slice(ticks.length / 2);
    const mean = lastHalf.reduce((a, t) => a + (t.metric as number), 0) / lastHalf.length;
    // What a failure needs to be understood from CI's output alone.
    const seen = `${master.launchedTasks.length} launched, ${sim.stats().taken} taken, calls ${
      (["SUPPRESS", "REVIVE", "ACCEPT", "DECLINE"] as const).map((t) =>
        `${t} ${master.callsOfType(t).length}`
      )
        .join(", ")
    }, warnings: ${
      jsonLines(r.stdout).filter((e) => e.level === "warn").map((e) => e.msg).slice(0, 5).join(
        " | ",
      )
    }`;
    assert.ok(mean <= 8, `mean queue length over the last 10 s: ${mean}; ${seen}`);
    assert.ok(sim.stats().taken >= 100, `taken ${sim.stats().taken}; ${seen}`);
    // Same bound as the local run: a handful of consumers, not one per item (140).
    assert.ok(
      master.launchedTasks.length <= 35,
      `${master.launchedTasks.length} consumers; ${seen}`,
    );
    for (const [uuid, count] of master.acks) assert.equal(count, 1, `uuid ${uuid}`);
    console.log(
      `mesos queue e2e: mean length ${mean.toFixed(1)}, ${master.launchedTasks.length} consumers`,
    );
  } finally {
    await master.close();
    await sim.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

/** A CA and a server certificate for 127.0.0.1, made with openssl; undefined without it. */
async function makeCerts(
  dir: string,
): Promise<{ ca: string; cert: string; key: string } | undefined> {
  const sh = (script: string) =>
    new Deno.Command("sh", { args: ["-c", script], cwd: dir, stdout: "null", stderr: "piped" })
      .output();
  const out = await sh([
    "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=relay-test-ca",
    "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1",
    "printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf",
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile ext.cnf",
  ].join(" && ")).catch(() => undefined);
  if (!out?.success) {
    console.log(
      `*** SKIPPED: openssl unavailable: ${
        out ? new TextDecoder().decode(out.stderr) : "not found"
      } ***`,
    );
    return undefined;
  }
  return {
    ca: `${dir}/ca.pem`,
    cert: Deno.readTextFileSync(`${dir}/server.pem`),
    key: Deno.readTextFileSync(`${dir}/server.key`),
  };
}

Deno.test("https master: trusted through --mesos-ca-cert, refused without it", async () => {
  const dir = await Deno.makeTempDir();
  const certs = await makeCerts(dir);
  if (!certs) return;
  const master = await startTestMaster({
    agents: [{ id: "a1", hostname: "a1", resources: { cpus: 2, mem: 1024, disk: 100 } }],
    heartbeatSeconds: 1,
    tls: { cert: certs.cert, key: certs.key },
  });
  try {
    assert.match(master.url, /^https:\/\//);
    const args = (extra: string[]) => [
      "--mesos-master",
      master.url,
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
      "3",
      "--on-exit",
      "kill",
      "--state-dir",
      `${dir}/state`,
      "--log-format",
      "json",
      ...extra,
    ];
    const untrusted = await relay(args([]));
    assert.equal(untrusted.code, 0);
    assert.equal(master.launchedTasks.length, 0, "no subscription without trusting the CA");
    assert.match(untrusted.stdout, /subscribe to https:\/\/127\.0\.0\.1:\d+ failed/);
    const trusted = await relay(args(["--mesos-ca-cert", certs.ca]));
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.equal(master.launchedTasks.length, 1);
    const ticks = jsonLines(trusted.stdout).filter((e) => e.event === "tick");
    assert.equal(ticks.at(-1)!.metric, 1);
  } finally {
    await master.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--task-kill-grace: tasks and KILLs carry the kill_policy; a task ignoring SIGTERM dies after it", async () => {
  await withMaster({
    agents: [{ id: "a1", hostname: "a1", resources: { cpus: 2, mem: 1024, disk: 100 } }],
    heartbeatSeconds: 1,
    killGraceSeconds: 5, // the agent's default, were no kill_policy sent
  }, async (master, stateDir) => {
    const args = sleepWarmersOnMesos(master.url, stateDir, 1, [
      "--task-kill-grace",
      "0.4",
      "--delay",
      "0.2",
      "--duration",
      "2",
      "--on-exit",
      "kill",
    ]);
    args[args.indexOf("exec sleep 60")] = "trap '' TERM; exec sleep 60";
    const r = await relay(args);
    assert.equal(r.code, 0, r.stderr);
    const policy = { grace_period: { nanoseconds: 400_000_000 } };
    assert.deepEqual(master.launchedTasks[0].kill_policy, policy);
    const [kill] = master.callsOfType("KILL");
    assert.deepEqual(kill.kill!.kill_policy, policy);
    const killedAt = master.answered.find((a) => a.call === "KILL")!.at;
    const id = kill.kill!.task_id.value;
    const ended = master.updatesSent.find((u) =>
      u.status.task_id.value === id && u.status.state === "TASK_KILLED"
    )!;
    const took = ended.at - killedAt;
    assert.ok(took >= 350 && took < 3000, `TASK_KILLED ${took} ms after the KILL`);
  });
});

Deno.test("--mesos-task-label and gpus=1: labelled GPU tasks launch on a GPU agent", async () => {
  await withMaster({
    agents: [{ id: "g1", hostname: "g1", resources: { cpus: 2, mem: 1024, disk: 0, gpus: 2 } }],
    heartbeatSeconds: 1,
  }, async (master, stateDir) => {
    const args = sleepWarmersOnMesos(master.url, stateDir, 2, [
      "--mesos-task-label",
      "team=queue",
      "--mesos-task-label",
      "tier=batch",
      "--delay",
      "0.2",
      "--duration",
      "2.5",
      "--on-exit",
      "kill",
    ]);
    args[args.indexOf("cpus=0.5,mem=64")] = "cpus=0.5,mem=64,gpus=1";
    const r = await relay(args);
    assert.equal(r.code, 0, r.stderr);
    const caps = master.frameworks()[0].info.capabilities!.map((c) => c.type);
    assert.deepEqual(caps, ["MULTI_ROLE", "PARTITION_AWARE", "GPU_RESOURCES"]);
    assert.equal(master.launchedTasks.length, 2);
    for (const t of master.launchedTasks) {
      assert.deepEqual(t.labels!.labels, [
        { key: "relay.mesos.kind", value: "warmer" },
        { key: "team", value: "queue" },
        { key: "tier", value: "batch" },
      ]);
      assert.deepEqual(t.resources.find((x) => x.name === "gpus")?.scalar, { value: 1 });
    }
  });
});

Deno.test("--mesos-constraint: a bad one is exit 2 before anything starts; hostname:UNIQUE holds", async () => {
  const bad = await relay([
    "--mesos-master",
    "http://127.0.0.1:1",
    "--metric",
    "0",
    "--target",
    "1",
    "--warmer",
    "true",
    "--mesos-constraint",
    "rack:SPREAD:2",
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--mesos-constraint: "rack:SPREAD:2": unknown operator "SPREAD"/);

  await withMaster({
    agents: [
      { id: "a1", hostname: "h1", resources: { cpus: 4, mem: 1024, disk: 0 } },
      { id: "a2", hostname: "h2", resources: { cpus: 4, mem: 1024, disk: 0 } },
    ],
    heartbeatSeconds: 1,
  }, async (master, stateDir) => {
    const r = await relay(sleepWarmersOnMesos(master.url, stateDir, 3, [
      "--mesos-constraint",
      "hostname:UNIQUE",
      "--delay",
      "0.2",
      "--duration",
      "2.5",
      "--on-exit",
      "kill",
    ]));
    assert.equal(r.code, 0, r.stderr);
    // Room for six by resources, but one per host: two.
    assert.deepEqual(master.launchedTasks.map((t) => t.agent_id.value).sort(), ["a1", "a2"]);
  });
});
