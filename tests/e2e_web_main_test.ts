/**
 * main() with --web: the web server wired to a real loop, local tasks and the Mesos backend.
 * Proves the token, pause/resume, the timing histograms, redaction, the Mesos section of the
 * state, and that /healthz and /metrics report a Mesos outage.
 */
import assert from "node:assert/strict";
import { main } from "../main.ts";
import { parsePrometheus, sampleValue } from "../lib/web/metrics.ts";
import { startTestMaster } from "./support/mesos_master.ts";
import { sleepWarmersOnMesos } from "./support/relay_process.ts";
import { untilWithin } from "./support/until.ts";

/** Runs main() in this process; resolves the web URL from its log line. */
function startMain(args: string[], env: Record<string, string> = {}) {
  const lines: string[] = [];
  const errors: string[] = [];
  const stop = new AbortController();
  let found: (url: string) => void;
  const url = new Promise<string>((r) => (found = r));
  const done = main(
    args,
    stop.signal,
    {
      out: (line) => {
        lines.push(line);
        const m = /web UI on (http:\/\/\S+)/.exec(line);
        if (m) found(m[1]);
      },
      err: (line) => errors.push(line),
    },
    { PATH: Deno.env.get("PATH"), ...env },
  );
  return { lines, errors, stop, url, done };
}

const until = untilWithin(8_000);

async function get(url: string, token?: string): Promise<Response> {
  return await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

async function metrics(base: string, token?: string) {
  const res = await get(`${base}metrics`, token);
  assert.equal(res.status, 200);
  return parsePrometheus(await res.text());
}

Deno.test("--web: token required, pause stops launches, resume starts them, secrets redacted", async () => {
  const token = "t0ken-" + crypto.randomUUID();
  const run = startMain([
    "--metric",
    "tasks:running",
    "--target",
    "3",
    "--warmer",
    "exec sleep 0.6",
    "--cooler-mode",
    "kill",
    "--delay",
    "0.1",
    "--web",
    "--web-listen",
    "127.0.0.1:0",
    "--on-exit",
    "kill",
    "--grace",
    "2",
  ], { RELAY_WEB_TOKEN: token });
  try {
    const base = await run.url;
    assert.equal((await get(`${base}healthz`)).status, 401, "no token, no answer");
    await (await get(`${base}healthz`)).body?.cancel();
    await until("a healthy loop", async () => {
      const res = await get(`${base}healthz`, token);
      await res.body?.cancel();
      return res.status === 200;
    });

    const state = await (await get(`${base}api/state`, token)).json();
    assert.equal(state.executor, "local");
    assert.equal(state.options["web-token"], "(redacted)");
    assert.equal(state.options["mesos-master"], undefined, "no Mesos options for a local run");
    assert.ok(!JSON.stringify(state).includes(token), "the token is never shown");

    // Warmers live 0.6 s, so keeping 3 running needs new launches all the time.
    const started = async () =>
      sampleValue(await metrics(base, token), "relay_tasks_started_total", { kind: "warmer" }) ??
        0;
    await until("warmers started", async () => (await started()) >= 3);

    const pause = await fetch(`${base}api/pause`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(pause.status, 200);
    assert.equal((await pause.json()).paused, true);
    await until("a paused tick", async () => {
      const s = await (await get(`${base}api/state`, token)).json();
      return s.status === "paused" && s.lastTick?.decision.reason === "paused";
    });
    const whilePaused = await started();
    await new Promise((r) => setTimeout(r, 1200)); // two warmer lives
    assert.equal(await started(), whilePaused, "nothing launched while paused");
    const paused = await (await get(`${base}api/state`, token)).json();
    assert.equal(paused.lastTick.launched, 0);

    const resume = await fetch(`${base}api/resume`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal((await resume.json()).paused, false);
    await until("launches after resume", async () => (await started()) > whilePaused);

    const m = await metrics(base, token);
    assert.ok(
      (sampleValue(m, "relay_signal_read_seconds_count", { signal: "metric" }) ?? 0) > 0,
      "signal read latency observed",
    );
    assert.ok((sampleValue(m, "relay_tick_duration_seconds_count", {}) ?? 0) > 0);
    const history = await (await get(`${base}api/history`, token)).json();
    assert.ok(history.points.length > 5);
    assert.ok(history.decisions.some((d: { reason: string }) => d.reason === "paused"));
  } finally {
    run.stop.abort();
  }
  assert.equal(await run.done, 0);
  assert.deepEqual(run.errors, []);
  assert.ok(run.lines.some((l) => /resumed from the web UI/.test(l)));
  assert.ok(!run.lines.join("\n").includes("t0ken-"), "the token is never logged");
  // The server is gone with the run.
  const base = await run.url;
  await assert.rejects(fetch(`${base}healthz`));
});

Deno.test("--web-listen on a busy port: one line naming the option, exit 2, nothing started", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const run = startMain([
      "--metric",
      "1",
      "--target",
      "0",
      "--warmer",
      `touch ${dir}/started`,
      "--web",
      "--web-listen",
      `127.0.0.1:${(busy.addr as Deno.NetAddr).port}`,
      "--max-ticks",
      "3",
    ]);
    assert.equal(await run.done, 2);
    assert.equal(run.errors.length, 1);
    assert.match(run.errors[0], /^relay\.mesos: --web-listen 127\.0\.0\.1:\d+: .*in use/i);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no task ran");
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--web-token-file that is empty or missing is refused before anything starts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${dir}/empty`, "\n");
    for (
      const [file, pattern] of [["empty", /: empty$/], ["missing", /cannot read: file not found/]]
    ) {
      const run = startMain([
        "--metric",
        "1",
        "--target",
        "0",
        "--warmer",
        "true",
        "--web",
        "--web-token-file",
        `${dir}/${file}`,
      ]);
      assert.equal(await run.done, 2);
      assert.equal(run.errors.length, 1);
      assert.match(run.errors[0], /^relay\.mesos: --web-token-file /);
      assert.match(run.errors[0], pattern as RegExp);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--web on Mesos: the backend shows in /api/state; an outage shows on /healthz and /metrics", async () => {
  const master = await startTestMaster({
    agents: [{ id: "a1", hostname: "a1", resources: { cpus: 2, mem: 1024, disk: 100 } }],
    heartbeatSeconds: 1,
  });
  const stateDir = await Deno.makeTempDir();
  const run = startMain(sleepWarmersOnMesos(master.url, stateDir, 1, [
    "--delay",
    "0.2",
    "--health-timeout",
    "1",
    "--web",
    "--web-listen",
    "127.0.0.1:0",
    "--on-exit",
    "kill",
    "--grace",
    "2",
  ]));
  try {
    const base = await run.url;
    await until("a running task", async () => {
      const s = await (await get(`${base}api/state`)).json();
      return s.lastTick?.running === 1;
    });
    const state = await (await get(`${base}api/state`)).json();
    assert.equal(state.executor, "mesos");
    assert.equal(state.backend.connected, true);
    assert.equal(state.backend.frameworkId, master.frameworks()[0].id);
    assert.equal(state.backend.leader, master.url.replace(/\/$/, ""));
    assert.ok(state.backend.offersUsed >= 1);
    assert.ok(state.backend.updates.TASK_RUNNING >= 1);
    let m = await metrics(base);
    assert.equal(sampleValue(m, "relay_mesos_connected", {}), 1);
    assert.ok((sampleValue(m, "relay_mesos_offers_total", { outcome: "used" }) ?? 0) >= 1);

    await master.crash();
    await until("/healthz reporting the outage", async () => {
      const res = await get(`${base}healthz`);
      const body = await res.text();
      return res.status === 503 && /Mesos disconnected/.test(body);
    });
    m = await metrics(base);
    assert.equal(sampleValue(m, "relay_mesos_connected", {}), 0);
    const ticksDuring = sampleValue(m, "relay_ticks_total", {}) ?? 0;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(
      (sampleValue(await metrics(base), "relay_ticks_total", {}) ?? 0) > ticksDuring,
      "the loop keeps ticking through the outage",
    );

    await master.restart();
    await until("healthy again after re-subscribing", async () => {
      const res = await get(`${base}healthz`);
      await res.body?.cancel();
      return res.status === 200;
    });
    m = await metrics(base);
    assert.equal(sampleValue(m, "relay_mesos_connected", {}), 1);
    assert.ok((sampleValue(m, "relay_mesos_reconnects_total", {}) ?? 0) >= 1);
    assert.equal(master.frameworks().length, 1, "the same framework re-subscribed");
  } finally {
    run.stop.abort();
    await run.done;
    await master.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("--web on Mesos: refused launches, re-sent updates and rejected calls show on /metrics", async () => {
  const master = await startTestMaster({
    agents: [{ id: "a1", hostname: "a1", resources: { cpus: 2, mem: 1024, disk: 100 } }],
    heartbeatSeconds: 1,
    resendSeconds: 0.3,
  });
  master.refuseLaunches(1);
  master.loseAcks(1);
  master.failCalls("RECONCILE", 400, 1);
  const stateDir = await Deno.makeTempDir();
  const run = startMain(sleepWarmersOnMesos(master.url, stateDir, 1, [
    "--delay",
    "0.2",
    "--web",
    "--web-listen",
    "127.0.0.1:0",
    "--on-exit",
    "kill",
    "--grace",
    "2",
  ]));
  try {
    const base = await run.url;
    await until("a running task after the refused one", async () => {
      const m = await metrics(base);
      return (sampleValue(m, "relay_mesos_launches_refused_total", { kind: "warmer" }) ?? 0) ===
          1 &&
        (sampleValue(m, "relay_mesos_duplicate_updates_total", {}) ?? 0) >= 1 &&
        master.tasks().some((t) => t.state === "TASK_RUNNING");
    });
    const m = await metrics(base);
    assert.equal(sampleValue(m, "relay_mesos_launches_refused_total", { kind: "cooler" }), 0);
    assert.equal(sampleValue(m, "relay_mesos_calls_rejected_total", { status: "400" }), 1);
    assert.equal(sampleValue(m, "relay_mesos_reconnects_total", {}), 0, "a 400 is no reason");
    assert.equal(master.unacknowledged(), 0);
  } finally {
    run.stop.abort();
    await run.done;
    await master.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
