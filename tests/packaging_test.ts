import assert from "node:assert/strict";
import YAML from "yaml";
import { ConfigError, parseConfig } from "../lib/config/parse.ts";
import { parseMasterSpec } from "../lib/mesos/leader.ts";
import { withOptions } from "../scripts/options_md.ts";

const root = new URL("../", import.meta.url);
const read = (p: string) => Deno.readTextFileSync(new URL(p, root));

/** Table rows without the padding `deno fmt` adds to align columns. */
function unpadded(text: string): string {
  return text
    .split("\n")
    .map((line) =>
      line.startsWith("|") ? line.replace(/ *\| */g, "|").replace(/-{3,}/g, "---") : line
    )
    .join("\n");
}

Deno.test("README's option table matches the option table (run scripts/options_md.ts --write)", () => {
  const readme = read("README.md");
  assert.equal(unpadded(withOptions(readme)), unpadded(readme));
});

Deno.test("README names the two commands", () => {
  const readme = read("README.md");
  assert.match(readme, /deno task demo/);
  assert.match(readme, /deno task test/);
});

Deno.test("deno.json has the tasks the README promises, npm-only imports", () => {
  const config = JSON.parse(read("deno.json"));
  for (const task of ["demo", "test", "check", "bench", "compile"]) {
    assert.ok(config.tasks[task], `task ${task}`);
  }
  assert.match(config.tasks.compile, /--output dist\/relay\.mesos main\.ts$/);
  for (const spec of Object.values(config.imports) as string[]) {
    assert.match(spec, /^npm:/, `${spec} is not from npm`);
  }
});

/** The Dockerfile's instructions: continuation lines joined, comments and blank lines dropped. */
function dockerfile(): string[] {
  return read("Dockerfile")
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** The `--allow-*` flags of a command line, sorted. */
const perms = (s: string) => (s.match(/--allow-[a-z]+(=\S+)?/g) ?? []).sort();

const TARGETS: Record<string, string> = {
  "linux-x86_64": "x86_64-unknown-linux-gnu",
  "linux-arm64": "aarch64-unknown-linux-gnu",
  "macos-x86_64": "x86_64-apple-darwin",
  "macos-arm64": "aarch64-apple-darwin",
};

Deno.test("every compile task builds main.ts with the same permissions, one per target", () => {
  const tasks: Record<string, string> = JSON.parse(read("deno.json")).tasks;
  const base = perms(tasks.compile);
  assert.deepEqual(base, [
    "--allow-env",
    "--allow-net",
    "--allow-read",
    "--allow-run",
    "--allow-write",
  ]);
  assert.doesNotMatch(tasks.compile, /--target/, "plain compile is for the host");
  for (const [name, target] of Object.entries(TARGETS)) {
    const task = tasks[`compile:${name}`];
    assert.ok(task, `task compile:${name}`);
    assert.match(task, /^deno compile /);
    assert.deepEqual(perms(task), base, `compile:${name} has the permissions of compile`);
    const words = task.split(/\s+/);
    assert.equal(words[words.indexOf("--target") + 1], target, `compile:${name} target`);
    assert.equal(words[words.indexOf("--output") + 1], `dist/relay.mesos-${name}`);
    assert.equal(words.at(-1), "main.ts", `compile:${name} entry point`);
  }
  const others = Object.keys(tasks).filter((t) =>
    t.startsWith("compile:") && t !== "compile:all" && !(t.slice(8) in TARGETS)
  );
  assert.deepEqual(others, [], "no compile task without a known target");
  const all = tasks["compile:all"].split(/\s*&&\s*/).sort();
  assert.deepEqual(all, Object.keys(TARGETS).map((n) => `deno task compile:${n}`).sort());
});

/** Relative specifiers a module imports statically or dynamically with a literal string. */
function localImports(source: string): string[] {
  const found = source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g);
  return [...found].map((m) => m[1]);
}

Deno.test("Dockerfile compiles main.ts in a Deno stage and runs it as a non-root user", () => {
  const lines = dockerfile();
  const froms = lines.filter((l) => l.startsWith("FROM "));
  assert.equal(froms.length, 2, "two stages");
  assert.match(froms[0], /^FROM denoland\/deno:\d+\.\d+\.\d+ AS build$/);
  assert.doesNotMatch(froms[1], /deno/, "the runtime stage is a small base, not the Deno image");
  const compile = lines.find((l) => l.startsWith("RUN deno compile"));
  assert.ok(compile, "a deno compile step");
  assert.match(compile, /main\.ts$/);
  const config = JSON.parse(read("deno.json"));
  assert.deepEqual(perms(compile), perms(config.tasks.compile), "same permissions as the task");
  const user = lines.findLast((l) => l.startsWith("USER "));
  assert.ok(user && !/^USER (root|0)$/.test(user), "runs as non-root");
  assert.ok(lines.includes('ENTRYPOINT ["relay.mesos"]'));
  assert.ok(lines.some((l) => l.startsWith("COPY --from=build")));
});

Deno.test("Dockerfile's build stage copies every module main.ts needs", () => {
  const copied = dockerfile()
    .filter((l) => l.startsWith("COPY ") && !l.startsWith("COPY --from"))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));
  const isCopied = (path: string) =>
    copied.some((c) => path === c || path.startsWith(c.replace(/\/?$/, "/")));
  assert.ok(isCopied("deno.json") && isCopied("deno.lock"), "deno.json and its lock file");
  const seen = new Set<string>();
  const walk = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    assert.ok(isCopied(path), `${path} (imported by main.ts) is not copied into the build stage`);
    if (!/\.(ts|js)$/.test(path)) return;
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
    for (const spec of localImports(read(path))) {
      walk(new URL(spec, `file:///${dir}`).pathname.slice(1));
    }
  };
  walk("main.ts");
  assert.ok(seen.size > 20, `the walk found main.ts's modules (${seen.size})`);
});

Deno.test("the image's state directory belongs to its user and is the default state dir", () => {
  const lines = dockerfile();
  const user = lines.findLast((l) => l.startsWith("USER "))!.split(/\s+/)[1];
  const env = lines.find((l) => l.startsWith("ENV RELAY_STATE_DIR="));
  assert.ok(env, "ENV RELAY_STATE_DIR=...");
  const dir = env.slice("ENV RELAY_STATE_DIR=".length);
  const run = lines.find((l) => l.includes(`mkdir -p ${dir}`));
  assert.ok(run, `${dir} is created`);
  assert.ok(run.includes(`chown ${user}:${user} ${dir}`), `${dir} is owned by ${user}`);
});

// ---- docker-compose.yml ----

interface Service {
  image?: string;
  build?: string | { context?: string };
  hostname?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string> | string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
}

function compose(): Record<string, Service> {
  const doc = YAML.parse(read("docker-compose.yml"), { merge: true });
  assert.ok(doc && typeof doc.services === "object", "a services map");
  return doc.services;
}

function environment(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(s.environment.map((e) => {
      const eq = e.indexOf("=");
      return [e.slice(0, eq), e.slice(eq + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

function list(v: string[] | string | undefined): string[] {
  assert.ok(v === undefined || Array.isArray(v), "commands are lists (no shell splitting)");
  return v ?? [];
}

const dependsOn = (s: Service) =>
  Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});

/** Container port published by a `[ip:]host:container` mapping, with the host side. */
function published(s: Service, containerPort: number): { ip?: string; host: number } | undefined {
  for (const p of s.ports ?? []) {
    const parts = String(p).split(":");
    if (Number(parts.at(-1)) !== containerPort) continue;
    return { ip: parts.length === 3 ? parts[0] : undefined, host: Number(parts.at(-2)) };
  }
  return undefined;
}

/** `--name=value` and `--name value` of an argument list. */
function argValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

function byImage(services: Record<string, Service>, pattern: RegExp): [string, Service][] {
  return Object.entries(services).filter(([, s]) => pattern.test(s.image ?? ""));
}

Deno.test("compose: ZooKeeper, a master pointing to it, two agents, the queue and Relay.Mesos", () => {
  const services = compose();
  const zks = byImage(services, /zookeeper/);
  assert.equal(zks.length, 1, "one ZooKeeper");
  const [zkName] = zks[0];

  const masters = byImage(services, /mesos-master/);
  assert.equal(masters.length, 1, "one Mesos master");
  const [masterName, master] = masters[0];
  const zk = parseMasterSpec(environment(master).MESOS_ZK ?? "");
  assert.equal(zk.kind, "zk");
  if (zk.kind !== "zk") return;
  assert.equal(zk.connectString, `${zkName}:2181`, "the master elects itself in the ZooKeeper");
  assert.equal(environment(master).MESOS_QUORUM, "1");
  assert.ok(dependsOn(master).includes(zkName));
  assert.deepEqual(published(master, 5050), { ip: "127.0.0.1", host: 5050 }, "Mesos UI on 5050");

  const agents = byImage(services, /mesos-(slave|agent)/);
  assert.equal(agents.length, 2, "two agents");
  const hostnames = new Set<string>();
  for (const [name, agent] of agents) {
    const env = environment(agent);
    assert.equal(env.MESOS_MASTER, environment(master).MESOS_ZK, `${name} finds the master`);
    assert.match(env.MESOS_RESOURCES ?? "", /cpus:\d/, `${name} offers cpus`);
    assert.ok(agent.hostname, `${name} has a hostname the master can reach`);
    hostnames.add(agent.hostname);
  }
  assert.equal(hostnames.size, 2, "the agents have different hostnames");
  assert.equal(master.hostname, environment(master).MESOS_HOSTNAME, "the master's name resolves");

  const relays = Object.entries(services).filter(([, s]) => s.build !== undefined);
  assert.equal(relays.length, 1, "one service built from this repository");
  const [, relay] = relays[0];
  const context = typeof relay.build === "string" ? relay.build : relay.build!.context ?? ".";
  assert.equal(context, ".", "built from the Dockerfile at the top");
  assert.ok(dependsOn(relay).includes(masterName), "relay depends on the master");
  assert.deepEqual(published(relay, 8080), { ip: "127.0.0.1", host: 8080 }, "web UI on 8080");
});

Deno.test("compose: Relay.Mesos's arguments are valid options that drive the queue on Mesos", () => {
  const services = compose();
  const [, relay] = Object.entries(services).find(([, s]) => s.build !== undefined)!;
  const args = list(relay.command);
  // Compose replaces $VAR in these strings; there is none, so they reach relay.mesos unchanged.
  for (const a of args) assert.doesNotMatch(a, /\$/, `no compose interpolation in ${a}`);
  // The container's environment: the image's ENV lines, then the service's environment.
  const imageEnv = Object.fromEntries(
    dockerfile().filter((l) => l.startsWith("ENV ")).map((l) => l.slice(4).split(/=(.*)/s)),
  );
  const parsed = parseConfig({
    argv: args,
    env: { ...imageEnv, ...environment(relay) },
    readTextFile: (p) => {
      throw new Deno.errors.NotFound(p);
    },
  });
  assert.equal(parsed.kind, "run");
  if (parsed.kind !== "run") return;
  const config = parsed.config;
  assert.equal(config.web, true, "--web");
  assert.equal(config.webListen, "0.0.0.0:8080", "listens on the published container port");

  // The master: the same ZooKeeper the Mesos master registers in.
  const [, master] = byImage(services, /mesos-master/)[0];
  assert.equal(config.mesosMaster, environment(master).MESOS_ZK);

  // The metric: the queue service's length, on the port it listens on.
  const metric = new URL(config.metric!);
  const queue = services[metric.hostname];
  assert.ok(queue, `the metric's host ${metric.hostname} is a service`);
  const queueArgs = list(queue.command);
  assert.ok(queueArgs.includes("scripts/queue_sim.ts"), "the queue is the simulated queue");
  assert.equal(argValue(queueArgs, "--port"), metric.port);
  assert.equal(argValue(queueArgs, "--hostname"), "0.0.0.0", "reachable from other containers");
  assert.ok(
    queueArgs.includes(`--allow-net=0.0.0.0:${metric.port}`),
    "the queue may listen there",
  );
  assert.equal(metric.pathname, "/length");
  assert.equal(config.target, "0");
  assert.ok(dependsOn(relay).includes(metric.hostname), "relay starts after the queue");

  // The cooler: a script the agents have mounted, told where the queue is.
  const taskEnv = Object.fromEntries(config.env.map((e) => e.split(/=(.*)/s).slice(0, 2)));
  assert.equal(taskEnv.QUEUE_URL, metric.origin, "consumers take from the queue Relay reads");
  const script = config.cooler!.match(/^bash (\S+)$/)?.[1];
  assert.ok(script, `cooler runs a script with bash: ${config.cooler}`);
  for (const [name, agent] of byImage(services, /mesos-(slave|agent)/)) {
    const mount = (agent.volumes ?? []).map((v) => v.split(":")).find(([, target]) =>
      script.startsWith(target.replace(/\/?$/, "/"))
    );
    assert.ok(mount, `${name} mounts the directory of ${script}`);
    const [source, target] = mount;
    const inRepo = source.replace(/^\.\//, "") + script.slice(target.replace(/\/$/, "").length);
    assert.ok(Deno.statSync(new URL(inRepo, root)).isFile, `${inRepo} exists`);
  }

  // The state volume is the image's state directory, so a restart adopts running tasks.
  const stateDir = imageEnv.RELAY_STATE_DIR;
  assert.ok(stateDir, "the image sets RELAY_STATE_DIR");
  assert.equal(config.stateDir, stateDir, "no --state-dir overrides the image's");
  assert.ok(
    (relay.volumes ?? []).some((v) => v.split(":")[1] === stateDir),
    `a volume on ${stateDir}`,
  );
});

Deno.test("compose: a bad option in Relay.Mesos's arguments would be refused", () => {
  // The check above is only worth something if the parser refuses what relay.mesos refuses.
  const [, relay] = Object.entries(compose()).find(([, s]) => s.build !== undefined)!;
  const args = [...list(relay.command), "--web-listen=0.0.0.0"];
  assert.throws(
    () => parseConfig({ argv: args, env: {}, readTextFile: () => "" }),
    (err: unknown) => err instanceof ConfigError && /--web-listen/.test(err.message),
  );
});

// ---- the compose demo's queue and consumer, run here ----

async function startQueueFrom(dir: string, initial: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `${dir}/scripts/queue_sim.ts`,
      "--hostname=127.0.0.1",
      "--port=0",
      `--initial=${initial}`,
    ],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`queue_sim exited before printing its URL: ${out}`);
    out += value;
  }
  return { child, reader, url: out.split("\n")[0].trim() };
}

async function consumer(env: Record<string, string>) {
  return await new Deno.Command("bash", {
    args: [new URL("../scripts/queue_consumer.sh", import.meta.url).pathname],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("compose: the queue runs from scripts/ and sim/ alone and the bash consumer drains it", async () => {
  // The queue service mounts only scripts/ and sim/, so queue_sim.ts must not need anything else.
  const dir = await Deno.makeTempDir();
  for (const part of ["scripts", "sim"]) {
    await new Deno.Command("cp", { args: ["-r", new URL(part, root).pathname, dir] }).output();
  }
  const queue = await startQueueFrom(dir, 50);
  try {
    assert.match(queue.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const stats = async () => await (await fetch(`${queue.url}/stats`)).json();
    assert.ok((await stats()).length >= 50, "starts with --initial items");

    const ok = await consumer({ QUEUE_URL: queue.url, CONSUMER_RATE: "3", CONSUMER_LIFE: "2" });
    const out = new TextDecoder().decode(ok.stdout);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    assert.match(out, /^consumed 6 items in \d+ s$/m);
    const after = await stats();
    assert.equal(after.taken, 6, "took rate × life items");
    assert.equal(after.consumers, 0, "said hello and bye");

    const down = await consumer({ QUEUE_URL: "http://127.0.0.1:1" });
    assert.equal(down.code, 1, "an unreachable queue is a failed task");
    assert.match(new TextDecoder().decode(down.stderr), /queue unreachable/);
    const bad = await consumer({ QUEUE_URL: queue.url, CONSUMER_RATE: "fast" });
    assert.equal(bad.code, 1);
    assert.match(new TextDecoder().decode(bad.stderr), /CONSUMER_RATE/);
  } finally {
    queue.child.kill("SIGTERM");
    await queue.reader.cancel();
    await queue.child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

/** The README's section under `## title`, up to the next `## ` heading. */
function readmeSection(title: string): string {
  const readme = read("README.md");
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a "## ${title}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

Deno.test("README's permission table lists every deno.json task with its exact grants", () => {
  const section = readmeSection("Security and permissions");
  const rows = section.split("\n").filter((l) => l.startsWith("|"));
  const tasks: Record<string, string> = JSON.parse(read("deno.json")).tasks;
  for (const [name, command] of Object.entries(tasks)) {
    const row = rows.find((r) => r.split("|")[1].includes(`\`${name}\``));
    assert.ok(row, `README's permission table has a row for the task ${name}`);
    const granted = row.split("|")[2].replaceAll("`", " ");
    assert.deepEqual(
      perms(granted),
      perms(command),
      `README states the permissions of ${name} as deno.json grants them`,
    );
  }
  for (const flag of perms(tasks.compile)) {
    assert.ok(section.includes(`**\`${flag}\`**`), `README explains why a run needs ${flag}`);
  }
});

Deno.test("README: compile targets need internet once; the compose quickstart and its ports", () => {
  const install = readmeSection("Install and packaging");
  for (const name of Object.keys(TARGETS)) assert.ok(install.includes(`compile:${name}`));
  assert.match(install, /internet once/);
  assert.match(install, /denort/);
  assert.match(install, /docker compose up/);
  assert.match(install, /127\.0\.0\.1:8080/);
  assert.match(install, /127\.0\.0\.1:5050/);
});

Deno.test("deno task start runs main.ts with the compiled executable's permissions, options after --", async () => {
  const tasks: Record<string, string> = JSON.parse(read("deno.json")).tasks;
  assert.match(tasks.start, /^deno run .* main\.ts$/);
  assert.deepEqual(perms(tasks.start), perms(tasks.compile));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "start", "--", "--version"],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(out.code, 0);
  assert.match(new TextDecoder().decode(out.stdout), /^relay\.mesos \d+\.\d+\.\d+\n$/);
});

Deno.test("README is for users: its examples run from a checkout, internals are linked from docs/", () => {
  const readme = read("README.md");
  const order = ["Install and packaging", "Two commands", "Examples", "Usage", "Web UI and metrics"]
    .concat(["On Mesos", "Security and permissions"]);
  const at = order.map((t) => readme.indexOf(`\n## ${t}\n`));
  assert.ok(at.every((i) => i > 0), JSON.stringify(at));
  assert.deepEqual([...at].sort((a, b) => a - b), at, "sections in the order a user reads them");
  // Every command of the examples runs from a checkout.
  const examples = readmeSection("Examples");
  const commands = examples.match(/```sh\n[^`]+```/g) ?? [];
  assert.ok(commands.length >= 3);
  for (const block of commands) assert.match(block, /^```sh\ndeno task start -- /, block);
  // Internals live in docs/, linked, and every link to docs/ resolves.
  for (const doc of ["control.md", "control-law.md", "mesos.md", "benchmarks.md", "design.md"]) {
    assert.ok(readme.includes(`(docs/${doc})`), `README links docs/${doc}`);
  }
  for (const [, path] of readme.matchAll(/\]\((docs\/[^)#]+)/g)) {
    assert.ok(Deno.statSync(new URL(path, root)).isFile, path);
  }
  for (
    const internal of [/SUPPRESS.*REVIVE.*one such call at a time/s, /conformance test/, /No JSR/]
  ) {
    assert.doesNotMatch(readme, internal);
  }
  assert.match(readme, /\*\*Deno\*\* 2\.8 or later/);
  assert.match(readme, /npm install -g deno/);
});

Deno.test("README maps every snake_case alias of the option table in 'Coming from relay / relay.mesos'", async () => {
  const { OPTIONS, LEGACY_OPTIONS } = await import("../lib/config/options.ts");
  const section = readmeSection("Coming from relay / relay.mesos");
  for (const opt of OPTIONS as readonly { name: string; aliases?: readonly string[] }[]) {
    for (const alias of opt.aliases ?? []) {
      assert.ok(section.includes(`\`--${alias}`), `--${alias} is mapped`);
      assert.ok(section.includes(`--${opt.name}`), `--${opt.name} is named`);
    }
  }
  for (const legacy of Object.keys(LEGACY_OPTIONS).filter((k) => k !== "task_resources")) {
    assert.ok(section.includes(`--${legacy}`), `--${legacy} is said to have no equivalent`);
  }
  assert.match(section, /Warmer = \.\/start-worker\.sh/);
});
