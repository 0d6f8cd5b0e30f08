/**
 * End-to-end runs of main.ts as a subprocess: the same entry point `deno task compile` builds.
 */
import assert from "node:assert/strict";
import { jsonLines, relayCommand, runRelay, signalWhen } from "./support/relay_process.ts";

const relay = relayCommand;
const run = runRelay;

Deno.test("--help lists options with env names; --version prints the version", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--max-running N/);
  assert.match(help.stdout, /RELAY_DELAY, default 1/);
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^relay\.mesos \d+\.\d+\.\d+\n$/);
});

Deno.test("bad input: one line naming the option, exit code 2, nothing started", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string[], RegExp][] = [
      [["--delay", "soon"], /^relay\.mesos: --delay: expected a number, got "soon"$/],
      [["--frobnicate"], /^relay\.mesos: --frobnicate: unknown option/],
      [
        ["--target", "sine:period=0,min=0,max=1"],
        /^relay\.mesos: --target: sine: period must be > 0/,
      ],
      [["--config", "nope.yaml"], /^relay\.mesos: --config nope.yaml: cannot read/],
    ];
    for (const [extra, pattern] of cases) {
      const r = await run(
        [
          "--metric",
          "1",
          "--target",
          "0",
          "--warmer",
          "touch started",
          "--max-ticks",
          "2",
          ...extra,
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 2, `${extra.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), pattern);
      assert.equal(r.stdout, "");
    }
    const env = await run(["--metric", "1", "--target", "0", "--warmer", "touch started"], {
      cwd: dir,
      env: { RELAY_DRY_RUN: "perhaps" },
    });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /^relay\.mesos: RELAY_DRY_RUN: expected true\/false\/1\/0\/yes\/no/);
    const none = await run(["--metric", "1", "--target", "0"], { cwd: dir });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--warmer\/--cooler: give at least one task command/);
    assert.throws(() => Deno.statSync(`${dir}/started`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a consumer count settles on its target with real processes and kill-mode cooling", async () => {
  const r = await run([
    "--metric",
    "tasks:running",
    "--target",
    "square:period=8,low=1,high=4",
    "--warmer",
    "exec sleep 60",
    "--cooler-mode",
    "kill",
    "--delay",
    "0.25",
    "--duration",
    "12",
    "--on-exit",
    "kill",
    "--log-format",
    "json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const ticks = jsonLines(r.stdout).filter((e) => e.event === "tick");
  assert.ok(ticks.length >= 40, `${ticks.length} ticks`);
  // Where the target has been steady for 1.5 s, the metric equals it.
  let checked = 0;
  for (let i = 6; i < ticks.length; i++) {
    const window = ticks.slice(i - 6, i + 1);
    if (window.every((t) => t.target === ticks[i].target)) {
      assert.equal(ticks[i].metric, ticks[i].target, `tick ${ticks[i].tick}`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `checked ${checked} steady ticks`);
  const started = ticks.reduce((a, t) => a + (t.launched as string[]).length, 0);
  // Three level changes up (1 → 4) at most, plus the first start: about 1 + 3 × 2 starts.
  assert.ok(started <= 12, `started ${started} warmers`);
  const stop = jsonLines(r.stdout).find((e) => e.event === "stop");
  assert.equal(stop?.reason, "duration");
});

Deno.test("SIGTERM: stops launching, waits for running tasks within the grace, exits 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const child = relay([
      "--metric",
      "0",
      "--target",
      "1",
      "--warmer",
      "sleep 1; echo done >> finished",
      "--cooler-mode",
      "kill",
      "--delay",
      "0.2",
      "--grace",
      "5",
      "--log-format",
      "json",
    ], { cwd: dir }).spawn();
    // Wait until the first warmer has started.
    const { stdout: seen, status } = await signalWhen(
      child,
      (s) => s.includes('"launched":["'),
      "SIGTERM",
    );
    assert.equal(status.code, 0);
    const stop = jsonLines(seen).find((e) => e.event === "stop");
    assert.equal(stop?.reason, "signal");
    // The running warmer was allowed to finish its work.
    assert.match(Deno.readTextFileSync(`${dir}/finished`), /done/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a queue is drained and held near 0 by consumer processes (HTTP metric)", async () => {
  const { queueOptions, startQueueSim } = await import("../scripts/queue_sim.ts");
  const sim = await startQueueSim({ rate: () => 4, initial: 60 });
  try {
    const r = await run([
      ...queueOptions(sim.url, { rate: 10, life: 4 }),
      "--delay",
      "0.5",
      "--duration",
      "20",
      "--on-exit",
      "kill",
      "--log-format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ticks = jsonLines(r.stdout).filter((e) => e.event === "tick");
    const lastHalf = ticks.slice(ticks.length / 2);
    const mean = lastHalf.reduce((a, t) => a + (t.metric as number), 0) / lastHalf.length;
    assert.ok(mean <= 8, `mean queue length over the last 10 s: ${mean}`);
    // 60 queued + 80 arriving = 140 items at 40 items per consumer life. Keeping one consumer
    // alive all the time takes at least 5 over 20 s; one per queued item (the classic law's
    // first reaction) would be 140. Seen with the v1 law: 15 to 19. With v2: 27 alone and once 36
    // in a full suite (over the bound) while a consumer's start-up (under a second) was taken for
    // acting at once, which made consumers look weak; since warm-ups of half a second are tried,
    // 15 alone and 14-16 in full suites (issue #10). The bound leaves room for a loaded machine,
    // where consumers start slower.
    const started = ticks.reduce((a, t) => a + (t.launched as string[]).length, 0);
    assert.ok(started >= 4 && started <= 35, `started ${started} consumers`);
    assert.ok(sim.stats().taken >= 100, `taken ${sim.stats().taken}`);
    console.log(
      `queue e2e: mean length ${mean.toFixed(1)} over the last 10 s, ${started} consumers`,
    );
  } finally {
    await sim.close();
  }
});
