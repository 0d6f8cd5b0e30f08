import assert from "node:assert/strict";
import { helpText } from "../lib/config/help.ts";
import { envName, OPTIONS, yamlKey } from "../lib/config/options.ts";
import { ConfigError, parseConfig, type ParseInput } from "../lib/config/parse.ts";
import { buildTaskEnv } from "../lib/config/task_env.ts";

const BASE = ["--metric", "5", "--target", "0", "--cooler", "echo hi"];
const MESOS = [...BASE, "--mesos-master", "http://m:5050"];

function parse(
  argv: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
) {
  const input: ParseInput = {
    argv,
    env,
    readTextFile: (p) => {
      if (!(p in files)) throw new Deno.errors.NotFound(p);
      return files[p];
    },
  };
  const r = parseConfig(input);
  if (r.kind !== "run") throw new Error(`expected run, got ${r.kind}`);
  return r.settings;
}

function rejects(argv: string[], pattern: RegExp, env: Record<string, string> = {}, files = {}) {
  assert.throws(() => parse(argv, env, files), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), "error is one line");
    return true;
  });
}

Deno.test("defaults come from the option table", () => {
  const c = parse(BASE);
  assert.equal(c.delay, 1);
  assert.equal(c.signalTimeout, 5);
  assert.equal(c.maxMissing, 0);
  assert.equal(c.coolerMode, "launch");
  assert.equal(c.onExit, "wait");
  assert.equal(c.dryRun, false);
  assert.deepEqual(c.taskEnv, {});
  assert.equal(c.mesos, undefined);
  assert.equal(c.law, "adaptive");
  // A finite cap unless asked otherwise: a law that misreads a saturated system stops at 200.
  assert.equal(c.maxRunning, 200);
  assert.equal(parse([...BASE, "--max-running", "0"]).maxRunning, 0);
});

Deno.test("precedence is flag over env over file over default", () => {
  const files = { "r.yaml": "delay: 3\nmax_running: 7\ncooldown_up: 4\n" };
  const env = { RELAY_DELAY: "2", RELAY_MAX_RUNNING: "6", RELAY_CONFIG: "r.yaml" };
  const c = parse([...BASE, "--delay", "0.5"], env, files);
  assert.equal(c.delay, 0.5); // flag
  assert.equal(c.maxRunning, 6); // env
  assert.equal(c.cooldownUp, 4); // file
  assert.equal(c.cooldownDown, 0); // default
});

Deno.test("every option has a RELAY_ env name and a snake_case YAML key", () => {
  for (const opt of OPTIONS) {
    assert.match(envName(opt.name), /^RELAY_[A-Z0-9_]+$/);
    assert.match(yamlKey(opt.name), /^[a-z0-9_]+$/);
  }
  assert.equal(envName("delay"), "RELAY_DELAY");
  assert.equal(envName("mesos-master"), "RELAY_MESOS_MASTER");
});

Deno.test("help lists every option with its env name and default", () => {
  const text = helpText();
  for (const opt of OPTIONS) {
    assert.ok(text.includes(`--${opt.name}`), opt.name);
    assert.ok(text.includes(envName(opt.name)), envName(opt.name));
  }
  assert.match(text, /--delay SECONDS[\s\S]*default 1, at most 2147483\]/);
});

Deno.test("-h and --version are recognised", () => {
  assert.equal(parseConfig({ argv: ["-h"], env: {}, readTextFile: () => "" }).kind, "help");
  assert.equal(
    parseConfig({ argv: ["--version"], env: {}, readTextFile: () => "" }).kind,
    "version",
  );
});

Deno.test("booleans accept true/false/1/0/yes/no only", () => {
  for (
    const [text, value] of [
      ["true", true],
      ["1", true],
      ["yes", true],
      ["false", false],
      ["0", false],
      ["no", false],
      ["FALSE", false],
    ] as const
  ) {
    assert.equal(parse(BASE, { RELAY_DRY_RUN: text }).dryRun, value, text);
  }
  assert.equal(parse([...BASE, "--dry-run"]).dryRun, true);
  rejects(BASE, /^RELAY_DRY_RUN: expected true\/false\/1\/0\/yes\/no, got "maybe"$/, {
    RELAY_DRY_RUN: "maybe",
  });
  rejects(BASE, /dry_run: expected true\/false/, { RELAY_CONFIG: "c.yaml" }, {
    "c.yaml": "dry_run: sometimes",
  });
  assert.equal(
    parse(BASE, { RELAY_CONFIG: "c.yaml" }, { "c.yaml": "dry_run: false" }).dryRun,
    false,
  );
});

Deno.test("bad input names the option, env variable or key", () => {
  rejects([...BASE, "--nope"], /^--nope: unknown option/);
  rejects([...BASE, "--delay", "abc"], /^--delay: expected a number, got "abc"$/);
  rejects([...BASE, "--delay", "0"], /^--delay: must be > 0, got "0"$/);
  rejects([...BASE, "--delay", "-1"], /^--delay: must be > 0/);
  rejects([...BASE, "--delay"], /^--delay: missing value/);
  rejects([...BASE, "--max-running", "2.5"], /^--max-running: expected a whole number/);
  rejects([...BASE, "--max-ticks", "1e400"], /^--max-ticks: expected a number/);
  rejects(
    [...BASE, "--cooler-mode", "drop"],
    /^--cooler-mode: expected one of launch\|kill, got "drop"$/,
  );
  rejects([...BASE, "--dry-run=perhaps"], /^--dry-run: expected true\/false\/1\/0\/yes\/no/);
  rejects([...BASE, "--no-dry-run=false"], /^--no-dry-run: takes no value$/);
  rejects([...BASE, "--no-delay"], /^--no-delay: unknown option/);
  rejects([...BASE, "stray"], /unexpected argument "stray"/);
  rejects(BASE, /^RELAY_SIGNAL_TIMEOUT: expected a number/, { RELAY_SIGNAL_TIMEOUT: "5s" });
  rejects([...BASE, "--env", "1BAD=x"], /^--env: expected KEY=VALUE/);
});

Deno.test("bad signal specs are refused before anything starts", () => {
  rejects(["--metric", "bogus:1", "--target", "0", "--cooler", "x"], /^--metric: /);
  rejects(["--metric", "1", "--target", "sine:min=0", "--cooler", "x"], /^--target: /);
  rejects(["--metric", "1", "--target", "", "--cooler", "x"], /^--target: expected a signal spec/);
});

Deno.test("required options and combinations are checked", () => {
  rejects(["--target", "0", "--cooler", "x"], /^--metric: required/);
  rejects(["--metric", "0", "--cooler", "x"], /^--target: required/);
  rejects(["--metric", "0", "--target", "0"], /^--warmer\/--cooler: give at least one/);
  rejects(
    ["--metric", "0", "--target", "0", "--cooler", "x", "--cooler-mode", "kill"],
    /^--cooler-mode: kill stops running warmers, so it needs --warmer/,
  );
});

Deno.test("config file problems name the file and key", () => {
  rejects(
    [...BASE, "--config", "missing.yaml"],
    /^--config missing.yaml: cannot read: file not found$/,
  );
  rejects([...BASE, "--config", "bad.yaml"], /^--config bad.yaml: not valid YAML/, {}, {
    "bad.yaml": "delay: [1,\n",
  });
  rejects([...BASE, "--config", "list.yaml"], /expected a mapping/, {}, {
    "list.yaml": "- 1\n- 2\n",
  });
  rejects(
    [...BASE, "--config", "k.yaml"],
    /^k.yaml: unknown key "dealy" \(did you mean "delay"\?\)$/,
    {},
    {
      "k.yaml": "dealy: 2\n",
    },
  );
  rejects([...BASE, "--config", "t.yaml"], /^t.yaml: delay: expected a number/, {}, {
    "t.yaml": "delay: soon\n",
  });
});

Deno.test("a YAML file can hold the whole configuration", () => {
  const yaml = [
    "metric: cmd:echo 3",
    "target: 0",
    "cooler: ./consume.sh",
    "delay: 2.5",
    "env:",
    "  - A=1",
    "  - B=2",
    "cooler_mode: launch",
  ].join("\n");
  const c = parse(["--config", "all.yaml"], {}, { "all.yaml": yaml });
  assert.deepEqual(c.metric, { text: "cmd:echo 3", spec: { kind: "cmd", command: "echo 3" } });
  assert.equal(c.target.text, "0");
  assert.equal(c.delay, 2.5);
  assert.deepEqual(c.taskEnv, { A: "1", B: "2" });
  const mapped = parse(["--config", "m.yaml"], {}, {
    "m.yaml": "metric: 1\ntarget: 0\nwarmer: w\nenv:\n  A: 1\n",
  });
  assert.deepEqual(mapped.taskEnv, { A: "1" });
});

Deno.test("negative numbers are values, not options", () => {
  const c = parse(["--metric", "-3.5", "--target", "-5", "--cooler", "x"]);
  assert.deepEqual(c.metric, { text: "-3.5", spec: { kind: "constant", value: -3.5 } });
  assert.equal(c.target.text, "-5");
});

Deno.test("--env is repeatable and RELAY_ENV is a comma list", () => {
  assert.deepEqual(parse([...BASE, "--env", "A=1", "--env", "B=x y"]).taskEnv, {
    A: "1",
    B: "x y",
  });
  assert.deepEqual(parse(BASE, { RELAY_ENV: "A=1,B=2" }).taskEnv, { A: "1", B: "2" });
});

Deno.test("task environment is PATH plus what was asked for", () => {
  const parent = { PATH: "/bin", HOME: "/root", SECRET: "s" };
  const file = '# comment\nexport FROM_FILE=1\nQUOTED="a b"\nA=file\n';
  const env = buildTaskEnv(["A=flag", "HOME"], "e.env", parent, () => file);
  assert.deepEqual(env, { PATH: "/bin", FROM_FILE: "1", QUOTED: "a b", A: "flag", HOME: "/root" });
  assert.throws(
    () => buildTaskEnv([], "e.env", parent, () => "not a pair"),
    /--env-file e.env:1: expected KEY=VALUE/,
  );
  assert.throws(() =>
    buildTaskEnv([], "x.env", parent, () => {
      throw new Error("nope");
    }), /--env-file x.env: cannot read/);
});

Deno.test("Mesos options are checked before anything starts", () => {
  rejects([...BASE, "--mesos-master", "mesos1:5050"], /^--mesos-master: /);
  rejects([...BASE, "--mesos-master", "zk://zk1/mesos"], /^--mesos-master: bad ZooKeeper address/);
  rejects(
    [...BASE, "--mesos-task-resources", "cpus=1,ram=2"],
    /^--mesos-task-resources: unknown resource "ram"/,
  );
  rejects([...BASE, "--docker-image", "busybox"], /^--docker-image: only used with --mesos-master/);
  rejects(
    [...BASE, "--mesos-master", "http://m:5050", "--docker-volume", "data:/data"],
    /^--docker-volume: expected \/HOST:\/CONTAINER/,
  );
  rejects(
    [...BASE, "--mesos-master", "http://m:5050"],
    /^--mesos-principal: required with a Mesos secret/,
    { RELAY_MESOS_SECRET: "s" },
  );
  const c = parse([
    ...BASE,
    "--mesos-master",
    "http://m:5050",
    "--mesos-role",
    "a",
    "--mesos-role",
    "b",
  ]);
  assert.deepEqual(c.mesos?.roles, ["a", "b"]);
  assert.equal(c.mesos?.contentType, "protobuf");
  assert.equal(c.mesos?.stateDir, "./.relay-mesos");
});

Deno.test("secrets come only from the environment or a file, never from a flag", () => {
  rejects([...BASE, "--mesos-secret", "s3cr3t"], /^--mesos-secret: unknown option/);
  const c = parse(MESOS, { RELAY_MESOS_SECRET: "s3cr3t", RELAY_MESOS_PRINCIPAL: "relay" });
  assert.equal(c.mesos?.secret, "s3cr3t");
  assert.equal(c.mesos?.principal, "relay");
  rejects(BASE, /^c.yaml: unknown key "mesos_secret"/, { RELAY_CONFIG: "c.yaml" }, {
    "c.yaml": "mesos_secret: s3cr3t\n",
  });
  assert.ok(!helpText().includes("s3cr3t"));
  assert.match(helpText(), /RELAY_MESOS_SECRET=SECRET \(environment only\)/);
});

Deno.test("web options: loopback by default, address checked, token from env or file only", () => {
  const c = parse(BASE);
  assert.equal(c.web, false);
  assert.equal(c.webListen, "127.0.0.1:8080");
  assert.equal(c.historyPoints, 10000);
  assert.equal(parse(BASE, { RELAY_WEB_LISTEN: "[::1]:9090" }).webListen, "[::1]:9090");
  rejects([...BASE, "--web-listen", "8080"], /^--web-listen: expected HOST:PORT, got "8080"$/);
  rejects([...BASE, "--web-listen", "host:99999"], /^--web-listen: expected HOST:PORT/);
  rejects([...BASE, "--web-token", "t"], /^--web-token: unknown option/);
  assert.equal(parse(BASE, { RELAY_WEB_TOKEN: "t" }).webToken, "t");
  rejects([...BASE, "--web-token-file", "tok"], /^--web-token-file: give the token by file or/, {
    RELAY_WEB_TOKEN: "t",
  });
  rejects(BASE, /^RELAY_WEB_TOKEN: must not be empty$/, { RELAY_WEB_TOKEN: "" });
  rejects([...BASE, "--history-points", "5"], /^--history-points: /);
  rejects([...BASE, "--health-timeout", "0"], /^--health-timeout: /);
});

Deno.test("task environment for a Docker image: no PATH of ours unless asked for", () => {
  const parent = { PATH: "/host/bin", HOME: "/root" };
  assert.deepEqual(buildTaskEnv(["A=1"], undefined, parent, () => "", false), { A: "1" });
  assert.deepEqual(buildTaskEnv(["PATH", "A=1"], undefined, parent, () => "", false), {
    PATH: "/host/bin",
    A: "1",
  });
  assert.deepEqual(buildTaskEnv(["PATH=/opt/bin"], undefined, parent, () => "", false), {
    PATH: "/opt/bin",
  });
  assert.deepEqual(buildTaskEnv([], "e.env", parent, () => "PATH=/f\n", false), { PATH: "/f" });
});

Deno.test("--mesos-constraint is checked at start: one line naming the constraint", () => {
  assert.deepEqual(
    parse([
      ...MESOS,
      "--mesos-constraint",
      "hostname:UNIQUE",
      "--mesos-constraint",
      "rack:GROUP_BY:2",
    ])
      .mesos?.constraints,
    [
      { field: "hostname", op: "UNIQUE", text: "hostname:UNIQUE" },
      { field: "rack", op: "GROUP_BY", n: 2, text: "rack:GROUP_BY:2" },
    ],
  );
  rejects(
    [...BASE, "--mesos-constraint", "rack:MAX_PER"],
    /^--mesos-constraint: "rack:MAX_PER": MAX_PER needs N/,
  );
  rejects(
    [...BASE, "--mesos-constraint", "rack:LIKE:("],
    /^--mesos-constraint: "rack:LIKE:\(": bad regex/,
  );
});

Deno.test("--mesos-task-label is KEY=VALUE, repeatable, and cannot replace relay.mesos.kind", () => {
  assert.deepEqual(
    parse([...MESOS, "--mesos-task-label", "team=q", "--mesos-task-label", "tier="]).mesos
      ?.taskLabels,
    [{ key: "team", value: "q" }, { key: "tier", value: "" }],
  );
  rejects([...BASE, "--mesos-task-label", "team"], /^--mesos-task-label: expected KEY=VALUE/);
  rejects(
    [...BASE, "--mesos-task-label", "relay.mesos.kind=x"],
    /^--mesos-task-label: expected KEY=VALUE \(not relay\.mesos\.kind\)/,
  );
});

Deno.test("--ha-zk needs --mesos-master and a zk://host:port/path", () => {
  const mesos = [...BASE, "--mesos-master", "http://m:5050"];
  assert.deepEqual(
    parse([...mesos, "--ha-zk", "zk://z1:2181,z2:2181/relay"]).mesos?.ha,
    { servers: "z1:2181,z2:2181", path: "/relay" },
  );
  rejects([...BASE, "--ha-zk", "zk://z1:2181/relay"], /^--ha-zk: only used with --mesos-master/);
  rejects([...mesos, "--ha-zk", "zk://z1:2181"], /^--ha-zk: expected zk:\/\//);
  rejects([...mesos, "--ha-zk", "zk://z1/relay"], /^--ha-zk: bad ZooKeeper address "z1"/);
});

function parseWarnings(argv: string[], env: Record<string, string> = {}): readonly string[] {
  const r = parseConfig({ argv, env, readTextFile: () => "" });
  if (r.kind !== "run") throw new Error(`expected run, got ${r.kind}`);
  return r.warnings;
}

Deno.test("every boolean takes --flag, --flag=VALUE, --flag VALUE and --no-flag; the last one wins", () => {
  const booleans = OPTIONS.filter((o) => o.type === "boolean").map((o) => o.name);
  assert.ok(booleans.length >= 4);
  // Every option is in effect (and shown) with a Mesos master and a Docker image.
  const all = [...MESOS, "--docker-image", "busybox"];
  const value = (argv: string[], name: string, env: Record<string, string> = {}) =>
    parse([...all, ...argv], env).shownOptions[name];
  for (const name of booleans) {
    assert.equal(value([`--${name}`], name), true, name);
    assert.equal(value([`--no-${name}`], name), false, name);
    for (const [text, expected] of [["true", true], ["0", false], ["Yes", true], ["no", false]]) {
      assert.equal(value([`--${name}=${text}`], name), expected, `${name}=${text}`);
      assert.equal(value([`--${name}`, String(text)], name), expected, `${name} ${text}`);
    }
    assert.equal(value([`--${name}`, `--no-${name}`], name), false);
    assert.equal(value([`--no-${name}`, `--${name}`], name), true);
    assert.equal(value([`--no-${name}`], name, { [envName(name)]: "true" }), false);
  }
  assert.equal(parse([...all, "--no-mesos-checkpoint"]).mesos?.checkpoint, false);
  assert.equal(parse([...all, "--docker-force-pull"]).mesos?.docker?.forcePull, true);
  // A word that is not a boolean is not taken by the switch.
  rejects([...BASE, "--dry-run", "later"], /unexpected argument "later"/);
});

Deno.test("environment: empty is unset, unknown RELAY_* names warned with the closest name", () => {
  assert.equal(parse(BASE, { RELAY_DELAY: "" }).delay, 1);
  assert.deepEqual(parse(BASE, { RELAY_ENV: "" }).taskEnv, {});
  assert.deepEqual(parseWarnings(BASE, { RELAY_DELAI: "5", RELAY_TASK_ID: "x", OTHER: "y" }), [
    "RELAY_DELAI: unknown environment variable, ignored (did you mean RELAY_DELAY?)",
  ]);
  assert.deepEqual(parseWarnings(BASE, { RELAY_SOMETHING_ELSE_ENTIRELY: "1" }), [
    "RELAY_SOMETHING_ELSE_ENTIRELY: unknown environment variable, ignored " +
    "(see --help for the RELAY_* names)",
  ]);
  // A list variable is split on commas.
  assert.deepEqual(parse(BASE, { RELAY_ENV: "A=1, B=2" }).taskEnv, { A: "1", B: "2" });
});

Deno.test("the original's snake_case spellings: same option, one deprecation note, lists split on commas", () => {
  const argv = [
    ...BASE,
    "--mesos_master",
    "http://127.0.0.1:5050",
    "--uris",
    "http://a/x.tgz,http://b/y.tgz",
    "--mesos_checkpoint",
    "--force_pull_image",
    "--docker_image",
    "busybox",
    "--volumes",
    "/data:/data:ro",
    "--mesos_task_resources=cpus=0.5,mem=128",
  ];
  const c = parse(argv);
  assert.deepEqual(c.mesos?.master, { kind: "http", urls: ["http://127.0.0.1:5050"] });
  assert.deepEqual(c.mesos?.uris, ["http://a/x.tgz", "http://b/y.tgz"]);
  assert.equal(c.mesos?.checkpoint, true);
  assert.equal(c.mesos?.docker?.forcePull, true);
  assert.equal(c.mesos?.docker?.image, "busybox");
  assert.deepEqual(c.mesos?.docker?.volumes, [{ host: "/data", container: "/data", mode: "RO" }]);
  assert.deepEqual(c.mesos?.taskResources, { cpus: 0.5, mem: 128, disk: 0, gpus: 0 });
  const warnings = parseWarnings([...argv, "--uris", "http://c/z.tgz"]);
  assert.equal(warnings.filter((w) => w.startsWith("--uris:")).length, 1);
  assert.ok(
    warnings.includes("--uris: the original relay.mesos's spelling, deprecated: use --mesos-uris"),
  );
  // The original's environment names: read, with a note; the current name wins.
  assert.equal(parse(MESOS, { RELAY_MESOS_FRAMEWORK_PRINCIPAL: "p" }).mesos?.principal, "p");
  assert.equal(
    parse(MESOS, { RELAY_MESOS_FRAMEWORK_PRINCIPAL: "p", RELAY_MESOS_PRINCIPAL: "q" })
      .mesos?.principal,
    "q",
  );
  rejects(
    [...BASE, "--docker_parameters", "{}"],
    /^--docker_parameters: an option of the original/,
  );
  rejects([...BASE, "--stop_condition", "x"], /^--stop_condition: .*--max-missing/);
});

Deno.test("--help has one section per group and documents booleans and list variables", () => {
  const help = helpText();
  for (const group of ["Signals", "Tasks", "Control", "Run", "Mesos", "Docker", "Output", "Web"]) {
    assert.equal(help.split("\n").filter((l) => l === `${group}:`).length, 1, group);
  }
  assert.match(help, /--no-flag/);
  assert.match(help, /split on commas/);
  assert.match(help, /--env-file/);
});

Deno.test("the original's one-letter flags: -m -t -w -c -d are --metric --target --warmer --cooler --delay", () => {
  const long = parse([
    "--metric",
    "5",
    "--target",
    "-2",
    "--warmer",
    "echo up",
    "--cooler",
    "echo down",
    "--delay",
    "2",
  ]);
  const short = parse(["-m", "5", "-t", "-2", "-w", "echo up", "-c", "echo down", "-d=2"]);
  for (const key of ["metric", "target", "warmer", "cooler", "delay"] as const) {
    assert.deepEqual(short[key], long[key], key);
  }
  assert.equal(short.delay, 2);
  rejects(["-m"], /^--metric: missing value/);
  rejects([...BASE, "-x", "1"], /-x/);
  for (const name of ["metric", "target", "warmer", "cooler", "delay"]) {
    assert.match(helpText(), new RegExp(`^  -${name[0]}, --${name}\\b`, "m"));
  }
});
