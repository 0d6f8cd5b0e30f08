/**
 * Mistakes caught at start, and the command line's booleans, through main.ts as a subprocess:
 * signals read once before the first tick (a command not found or a module that does not load
 * is exit 2, before anything starts), unknown `RELAY_*` names warned about, empty variables
 * unset, `--flag`/`--flag=false`/`--no-flag`, the original's snake_case spellings, `cmd:`
 * signals' cleared environment, and a warmer that does not exist backed off instead of
 * relaunched every tick.
 */
import assert from "node:assert/strict";
import { jsonLines, relayCommand, runRelay, signalWhen } from "./support/relay_process.ts";

/** A run that would start a task (a marker file) on its first tick. */
const STARTS = (dir: string) => ["--cooler", `touch '${dir}/started'`, "--max-ticks", "2"];

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function started(dir: string): boolean {
  try {
    Deno.statSync(`${dir}/started`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("a signal whose command or module cannot work: exit 2 at start, one line, nothing run", async () => {
  await inTempDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/gen.ts`, "export function* depth() { yield 3; }\n");
    Deno.writeTextFileSync(`${dir}/plain.sh`, "echo 4\n"); // not executable
    const cases: [string[], RegExp][] = [
      [
        ["--metric", "cmd:no-such-metric-command-relay", "--target", "0"],
        /^relay\.mesos: --metric cmd:no-such-metric-command-relay: command not found \(exit code 127/,
      ],
      [
        ["--metric", "5", "--target", `cmd:${dir}/plain.sh`],
        /^relay\.mesos: --target cmd:.*plain\.sh: command not executable \(exit code 126/,
      ],
      [
        ["--metric", `module:${dir}/missing.ts#depth`, "--target", "0"],
        /^relay\.mesos: --metric module:.*missing\.ts#depth: does not load \(module .*cannot load/,
      ],
      [
        ["--metric", `module:${dir}/gen.ts#width`, "--target", "0"],
        /^relay\.mesos: --metric module:.*gen\.ts#width: does not load .*no function export "width"/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const r = await runRelay([...args, ...STARTS(dir), "--web", "--web-listen", "127.0.0.1:0"]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), pattern);
      assert.doesNotMatch(r.stdout, /web UI on|started: executor/, "nothing was started");
      assert.equal(started(dir), false);
    }
  });
});

Deno.test("the first read of each signal is reported before the first tick: a value, or why it is missing", async () => {
  await inTempDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/gen.ts`, "export function* depth() { yield 3; yield 2; }\n");
    const r = await runRelay([
      "--metric",
      `module:${dir}/gen.ts#depth`,
      "--target",
      `file:${dir}/target`,
      ...STARTS(dir),
      "--max-ticks",
      "1",
      "--log-format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    const first = lines.findIndex((l) => l.event === "start");
    const before = lines.slice(0, first).map((l) => String(l.msg));
    assert.ok(
      before.some((m) => /^first read of --metric module:.*gen\.ts#depth: 3$/.test(m)),
      before.join("\n"),
    );
    assert.ok(
      before.some((m) =>
        /^first read of --target file:.*target: missing \(file not found: .*target\)/.test(m)
      ),
      before.join("\n"),
    );
    // The loop goes on: the file is missing on the tick too, and that is a missing sample.
    assert.equal(lines.filter((l) => l.event === "missing").length, 1);
  });
});

Deno.test("booleans: --flag, --flag=true|false|1|0|yes|no, --flag no and --no-flag override env and YAML", async () => {
  await inTempDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/relay.yaml`, "dry_run: true\n");
    const run = (extra: string[], env: Record<string, string> = {}) =>
      runRelay(
        ["--metric", "5", "--target", "0", "--cooler", "true", "--max-ticks", "1", ...extra],
        {
          env,
        },
      );
    const dryRun = (stdout: string) =>
      /started: executor local, law adaptive, dry run/.test(stdout);
    const cases: [string[], Record<string, string>, boolean][] = [
      [["--dry-run"], {}, true],
      [["--dry-run=false"], {}, false],
      [["--dry-run=YES"], {}, true],
      [["--dry-run=0"], {}, false],
      [["--dry-run", "no"], {}, false],
      [["--no-dry-run"], { RELAY_DRY_RUN: "1" }, false],
      [["--no-dry-run"], { RELAY_CONFIG: `${dir}/relay.yaml` }, false],
      [[], { RELAY_CONFIG: `${dir}/relay.yaml` }, true],
      [["--dry-run=true"], { RELAY_DRY_RUN: "false" }, true],
    ];
    for (const [extra, env, expected] of cases) {
      const r = await run(extra, env);
      assert.equal(r.code, 0, `${extra.join(" ")}: ${r.stderr}`);
      assert.equal(dryRun(r.stdout), expected, `${extra.join(" ")} ${JSON.stringify(env)}`);
    }
    const bad = await run(["--dry-run=perhaps"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^relay\.mesos: --dry-run: expected true\/false\/1\/0\/yes\/no, got "perhaps"\n$/,
    );
    const noValue = await run(["--no-web=1"]);
    assert.equal(noValue.code, 2);
    assert.match(noValue.stderr, /^relay\.mesos: --no-web: takes no value\n$/);
    // Every boolean of the table has its --no- form, and --help says so.
    const help = await runRelay(["--help"]);
    for (const name of ["dry-run", "web", "mesos-checkpoint", "docker-force-pull"]) {
      assert.match(help.stdout, new RegExp(`--${name}, --no-${name}\\n`));
    }
  });
});

Deno.test("environment: unknown RELAY_* names warned with a hint, empty values unset, old names read with a note", async () => {
  const r = await runRelay(
    [
      "--metric",
      "5",
      "--target",
      "0",
      "--cooler",
      "true",
      "--max-ticks",
      "1",
      "--log-format",
      "json",
    ],
    {
      env: {
        RELAY_DELAI: "5",
        RELAY_DELAY: "",
        RELAY_MAX_TICKS: "",
        RELAY_TASK_ID: "relay-warmer-000001-abcd", // set by an outer Relay: not a typo
        RELAY_MESOS_FRAMEWORK_NAME: "jobs",
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  const warns = jsonLines(r.stdout).filter((l) => l.level === "warn").map((l) => String(l.msg));
  assert.deepEqual(warns, [
    "RELAY_DELAI: unknown environment variable, ignored (did you mean RELAY_DELAY?)",
  ]);
  const old = await runRelay(
    ["--metric", "5", "--target", "0", "--cooler", "true", "--max-ticks", "1"],
    { env: { RELAY_MESOS_FRAMEWORK_ROLE: "batch" } },
  );
  assert.equal(old.code, 0, old.stderr);
  assert.match(
    old.stdout,
    /RELAY_MESOS_FRAMEWORK_ROLE: the original relay\.mesos's name, deprecated: use RELAY_MESOS_ROLE/,
  );
  // An empty secret is still refused: it is more likely a broken injection than a wish for none.
  const secret = await runRelay(
    ["--metric", "5", "--target", "0", "--cooler", "true", "--web"],
    { env: { RELAY_WEB_TOKEN: "" } },
  );
  assert.equal(secret.code, 2);
  assert.match(secret.stderr, /^relay\.mesos: RELAY_WEB_TOKEN: must not be empty/);
});

Deno.test("the original relay.mesos's snake_case flags: accepted with a deprecation note, or refused with what to use", async () => {
  await inTempDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/vars`, "QUEUE=jobs\n");
    const r = await runRelay([
      "--metric",
      "5",
      "--target",
      "0",
      "--cooler",
      `echo "$QUEUE" > '${dir}/seen'`,
      "--mesos_environment",
      `${dir}/vars`,
      "--max_failures",
      "3",
      "--max-ticks",
      "1",
      "--grace",
      "5",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /warn +--mesos_environment: the original relay\.mesos's spelling, deprecated: use --env-file/,
    );
    assert.match(
      r.stdout,
      /--max_failures: the original relay\.mesos's spelling, deprecated: use --max-failures/,
    );
    assert.equal(Deno.readTextFileSync(`${dir}/seen`).trim(), "jobs");
  });
  const legacy = await runRelay(["--metric", "5", "--target", "0", "--cooler", "x", "--ramp", "3"]);
  assert.equal(legacy.code, 2);
  assert.match(
    legacy.stderr,
    /^relay\.mesos: --ramp: an option of the original Relay with no equivalent here: the adaptive law ramps up/,
  );
  const typo = await runRelay([
    "--metric",
    "5",
    "--target",
    "0",
    "--cooler",
    "x",
    "--max-runing",
    "3",
  ]);
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /^relay\.mesos: --max-runing: unknown option \(did you mean --max-running\?/,
  );
});

Deno.test("cmd: signals get PATH and --signal-env only: Relay's secrets do not reach them", async () => {
  await inTempDir(async (dir) => {
    const probe = `cmd:env > '${dir}/env'; echo 1`;
    const ok = await runRelay(
      [
        "--metric",
        probe,
        "--target",
        "1",
        "--cooler",
        "true",
        "--max-ticks",
        "1",
        "--signal-env",
        "REDIS_URL=redis://127.0.0.1:6379",
        "--signal-env",
        "HOME",
        "--web",
        "--web-listen",
        "127.0.0.1:0",
      ],
      {
        env: {
          RELAY_WEB_TOKEN: "do-not-leak-either",
          HOME: "/home/relay-test",
          SOMETHING_ELSE: "not-asked-for",
        },
      },
    );
    assert.equal(ok.code, 0, ok.stderr);
    const seen = new Map(
      Deno.readTextFileSync(`${dir}/env`).trim().split("\n").map((l) => {
        const eq = l.indexOf("=");
        return [l.slice(0, eq), l.slice(eq + 1)] as const;
      }),
    );
    seen.delete("PWD"); // sh sets these itself
    seen.delete("OLDPWD");
    seen.delete("SHLVL");
    seen.delete("_");
    assert.deepEqual([...seen.keys()].sort(), ["HOME", "PATH", "REDIS_URL"]);
    assert.equal(seen.get("REDIS_URL"), "redis://127.0.0.1:6379");
    assert.equal(seen.get("HOME"), "/home/relay-test");
  });
});

Deno.test("a warmer that does not exist: 'command not found' once, launches backed off, not one per tick", async () => {
  const r = await runRelay([
    "--metric",
    "0",
    "--target",
    "3",
    "--warmer",
    "no-such-command-relay-startup",
    "--delay",
    "0.2",
    "--duration",
    "6",
    "--log-format",
    "json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  const errors = lines.filter((l) => l.level === "error").map((l) => String(l.msg));
  assert.deepEqual(errors, [
    '--warmer "no-such-command-relay-startup": command not found (the first warmer ended with exit code 127)',
  ]);
  const said = lines.filter((l) => /warmer launches back off/.test(String(l.msg ?? l.message)));
  assert.equal(said.length, 1, "the backoff is said once");
  assert.match(String(said[0].msg), /1 s, doubling with each further failure up to 60 s/);
  // Failures come in batches (what was asked for while held starts at once): a gap of more than
  // 0.3 s starts a new batch. Held 1, 2, 4 s after the batches: at most 3 batches in 6 s, where
  // one launch a tick (0.2 s) would fail about 30 times.
  const failedAt = lines.filter((l) =>
    l.event === "task" && (l.task as { state: string }).state === "failed"
  ).map((l) => Date.parse(String(l.time)));
  const batches: number[] = [];
  for (const [i, at] of failedAt.entries()) {
    if (i === 0 || at - failedAt[i - 1] > 300) batches.push(at);
  }
  assert.ok(batches.length >= 2 && batches.length <= 3, `${batches.length} batches: ${batches}`);
  assert.ok(batches[1] - batches[0] >= 900, `first hold ${batches[1] - batches[0]} ms`);
  if (batches.length === 3) assert.ok(batches[2] - batches[1] >= 1900, "second hold doubles");
  assert.ok(failedAt.length <= 15, `${failedAt.length} failed tasks`);
  // Each failure is one log line (the task event), not two.
  assert.equal(lines.filter((l) => l.msg === "task failed").length, 0);
  const ticks = lines.filter((l) => l.event === "tick").length;
  assert.ok(ticks >= 25, `${ticks} ticks`);
});

Deno.test("log wording: 1 tick, not 1 ticks; on SIGINT the end of the grace period is said before the kill", async () => {
  const one = await runRelay([
    "--metric",
    "5",
    "--target",
    "5",
    "--cooler",
    "true",
    "--max-ticks",
    "1",
  ]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /stopped after 1 tick: max-ticks/);

  const marker = `sleep 61.${Math.floor(Math.random() * 1e6)}`;
  const child = relayCommand([
    "--metric",
    "0",
    "--target",
    "1",
    "--warmer",
    `${marker}; echo never`,
    "--delay",
    "0.2",
    "--grace",
    "1",
  ]).spawn();
  const { stdout: seen, status } = await signalWhen(child, (s) => /running=1/.test(s), "SIGINT");
  assert.equal(status.code, 0);
  const lines = seen.split("\n");
  const said = lines.findIndex((l) =>
    /info +on exit: the grace period \(--grace 1 s\) ended: killing 1 task still running$/.test(l)
  );
  assert.ok(said > 0, seen.slice(-2000));
  assert.ok(lines.findIndex((l) => /on exit: wait \(1 task running\)/.test(l)) < said);
  // The kill is the grace ending as said, not something to warn about.
  assert.deepEqual(lines.slice(said).filter((l) => / warn /.test(l)), []);
  assert.doesNotMatch(seen, /warn +Terminated/);
});
