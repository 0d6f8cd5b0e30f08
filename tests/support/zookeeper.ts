/**
 * A real ZooKeeper server for tests, from Debian's `zookeeper` package.
 *
 * {@linkcode startZooKeeper} installs the package when it is missing (as root, with apt-get, non-
 * interactively; `apt-get update` only when the first try fails), then starts a standalone server
 * on a free 127.0.0.1 port with its own temporary data directory and config (admin server off,
 * four-letter words allowed, tickTime 500 ms so sessions may be as short as 1 s), and waits until
 * it answers `ruok` with `imok` and `srvr` with its mode (only then does it take sessions).
 * Start-up is bounded (60 s, plus 300 s for an install). When any of that fails it prints
 * `SKIPPED: ZooKeeper unavailable: <reason>` and returns undefined, so tests can mark themselves
 * ignored. Set `RELAY_ZK_NO_INSTALL=1` to never install.
 *
 * The JVM runs under `timeout` so that it cannot outlive a killed test run by more than 30 min.
 *
 * {@linkcode TcpProxy} sits between a client and the server so tests can make ZooKeeper
 * unreachable (refuse connections) or cut live connections without touching the JVM.
 * @module
 */

/** A running server. */
export interface ZooKeeperServer {
  /** `127.0.0.1:<port>`. */
  readonly connectString: string;
  readonly port: number;
  /** Kills the JVM and removes its temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

const ZK_JAR = "/usr/share/java/zookeeper.jar";
const ZK_HOME = "/usr/share/zookeeper";
const START_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 300_000;

/** Starts a server, or prints a SKIPPED line and returns undefined. */
export async function startZooKeeper(): Promise<ZooKeeperServer | undefined> {
  try {
    return await launch();
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    console.error(`\n*** SKIPPED: ZooKeeper unavailable: ${reason} ***\n`);
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<{ ok: boolean; output: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { ok: out.success, output: text };
  } catch (err) {
    return { ok: false, output: (err as Error).message };
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter((l) => l.trim() !== "").at(-1) ?? "(no output)";
}

/** Installs Debian's zookeeper package if its server jar is missing. */
async function ensureInstalled(): Promise<void> {
  const script = `${ZK_HOME}/bin/zkServer.sh`;
  if ((await exists(ZK_JAR)) && (await exists(script))) return;
  if (Deno.env.get("RELAY_ZK_NO_INSTALL")) {
    throw new Error(`${script} or ${ZK_JAR} missing and RELAY_ZK_NO_INSTALL is set`);
  }
  // (`id -u` rather than Deno.uid(), which would need --allow-sys.)
  const uid = await run("id", ["-u"], 5000);
  if (uid.output.trim() !== "0") {
    throw new Error(`zookeeper package missing; run as root (or: apt-get install -y zookeeper)`);
  }
  console.error("tests: installing Debian package zookeeper (apt-get install -y zookeeper) ...");
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = [
    "-o",
    "DPkg::Lock::Timeout=120",
    "install",
    "-y",
    "-q",
    "--no-install-recommends",
    "zookeeper",
  ];
  let res = await run("apt-get", install, INSTALL_TIMEOUT_MS, env);
  if (!res.ok) {
    const update = await run(
      "apt-get",
      ["-o", "DPkg::Lock::Timeout=120", "update", "-q"],
      INSTALL_TIMEOUT_MS,
      env,
    );
    if (!update.ok) throw new Error(`apt-get update failed: ${lastLine(update.output)}`);
    res = await run("apt-get", install, INSTALL_TIMEOUT_MS, env);
  }
  if (!res.ok) throw new Error(`apt-get install zookeeper failed: ${lastLine(res.output)}`);
  if (!(await exists(ZK_JAR))) throw new Error(`installed zookeeper but ${ZK_JAR} is missing`);
}

async function findJava(): Promise<string> {
  const home = Deno.env.get("JAVA_HOME");
  if (home && (await exists(`${home}/bin/java`))) return `${home}/bin/java`;
  if (await exists("/usr/bin/java")) return "/usr/bin/java";
  throw new Error("no java found (JAVA_HOME or /usr/bin/java)");
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Longest wait for a four-letter word's answer: a server still starting may take the
 * connection and never answer it. */
const FOUR_LETTER_TIMEOUT_MS = 2000;

/**
 * Sends a four-letter word and returns the answer ("" when the server is not up, or has not
 * answered within {@linkcode FOUR_LETTER_TIMEOUT_MS}).
 */
export async function fourLetterWord(port: number, word: string): Promise<string> {
  let conn: Deno.Conn | undefined;
  let timedOut = false;
  const close = () => {
    try {
      conn?.close();
    } catch { /* closed by the peer */ }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    close();
  }, FOUR_LETTER_TIMEOUT_MS);
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    if (timedOut) return "";
    await conn.write(new TextEncoder().encode(word));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    return timedOut ? "" : chunks.map((c) => new TextDecoder().decode(c)).join("");
  } catch {
    return "";
  } finally {
    clearTimeout(timer);
    close();
  }
}

async function launch(): Promise<ZooKeeperServer> {
  if (Deno.build.os !== "linux") throw new Error(`needs Linux, this is ${Deno.build.os}`);
  await ensureInstalled();
  const java = await findJava();
  const dir = await Deno.makeTempDir({ prefix: "relay-zk-" });
  const port = freePort();
  const config = [
    "tickTime=500",
    `dataDir=${dir}/data`,
    `clientPort=${port}`,
    "clientPortAddress=127.0.0.1",
    "admin.enableServer=false",
    "4lw.commands.whitelist=*",
    "maxClientCnxns=200",
    "",
  ].join("\n");
  await Deno.mkdir(`${dir}/data`);
  await Deno.writeTextFile(`${dir}/zoo.cfg`, config);
  const javaArgs = [
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Dzookeeper.admin.enableServer=false",
    `-Dzookeeper.log.dir=${dir}`,
    "-cp",
    ZK_JAR,
    "org.apache.zookeeper.server.ZooKeeperServerMain",
    `${dir}/zoo.cfg`,
  ];
  const quoted = [java, ...javaArgs].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  // `timeout` caps the JVM's life should this process die without stopping it; SIGTERM to
  // `timeout` is passed on to java.
  const child = new Deno.Command("sh", {
    args: ["-c", `exec timeout -k 10 1800 ${quoted} >'${dir}/server.log' 2>&1`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  let stopped = false;
  const onUnload = () => {
    // Last resort when a test file forgets stop(): synchronous only.
    if (stopped) return;
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone or busy */ }
  };
  globalThis.addEventListener("unload", onUnload);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    globalThis.removeEventListener("unload", onUnload);
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gone = await Promise.race([
        status.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
      ]);
      clearTimeout(timer);
      if (!gone) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await status;
      }
    } else {
      await status;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (true) {
    if (exited) {
      const log = await Deno.readTextFile(`${dir}/server.log`).catch(() => "");
      const code = (await status).code;
      await stop();
      throw new Error(`ZooKeeper exited with code ${code} at start-up: ${lastLine(log)}`);
    }
    // `ruok` answers before the server takes sessions; `srvr` shows its mode only once it does.
    if (
      (await fourLetterWord(port, "ruok")) === "imok" &&
      (await fourLetterWord(port, "srvr")).includes("Mode: ")
    ) break;
    if (Date.now() > deadline) {
      const log = await Deno.readTextFile(`${dir}/server.log`).catch(() => "");
      await stop();
      throw new Error(
        `ZooKeeper did not answer ruok within ${START_TIMEOUT_MS / 1000} s: ${lastLine(log)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { connectString: `127.0.0.1:${port}`, port, stop };
}

/**
 * A TCP forwarder on 127.0.0.1 to `127.0.0.1:targetPort`. While down, connections are refused;
 * `cut()` drops live connections.
 */
export class TcpProxy {
  readonly port: number;
  #listener: Deno.Listener | undefined;
  #accepting: Promise<void> = Promise.resolve();
  readonly #links = new Set<{ conns: Deno.Conn[]; done: Promise<unknown> }>();

  constructor(readonly targetPort: number, port = freePort()) {
    this.port = port;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts (or resumes) accepting connections. */
  up(): void {
    if (this.#listener) return;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = listener;
    this.#accepting = this.#accept(listener);
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    while (true) {
      let inbound: Deno.Conn;
      try {
        inbound = await listener.accept();
      } catch {
        return; // listener closed
      }
      let outbound: Deno.Conn;
      try {
        outbound = await Deno.connect({ hostname: "127.0.0.1", port: this.targetPort });
      } catch {
        inbound.close();
        continue;
      }
      const conns = [inbound, outbound];
      const closeBoth = () => {
        for (const c of conns) {
          try {
            c.close();
          } catch { /* closed */ }
        }
      };
      const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
        const buf = new Uint8Array(16 * 1024);
        try {
          while (true) {
            const n = await from.read(buf);
            if (n === null) break;
            let at = 0;
            while (at < n) at += await to.write(buf.subarray(at, n));
          }
        } catch { /* closed */ }
        closeBoth();
      };
      const link = {
        conns,
        done: Promise.all([pipe(inbound, outbound), pipe(outbound, inbound)]),
      };
      this.#links.add(link);
      link.done.then(() => this.#links.delete(link));
    }
  }

  /** Drops every live connection (both ends see the connection close). */
  async cut(): Promise<void> {
    const links = [...this.#links];
    for (const l of links) {
      for (const c of l.conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    }
    await Promise.all(links.map((l) => l.done));
  }

  /** Stops accepting: new connections are refused. Live ones stay unless `cut` is true. */
  async down(cut = true): Promise<void> {
    const l = this.#listener;
    this.#listener = undefined;
    if (l) {
      l.close();
      await this.#accepting;
    }
    if (cut) await this.cut();
  }
}
