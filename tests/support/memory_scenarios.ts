/**
 * The hostile-input scenarios whose memory the tests bound, as functions `own_process.ts` runs in
 * a Deno process of their own (under `deno test --parallel` a test's own RSS moves with every
 * other test file). Each returns what the test asserts besides the memory.
 * @module
 */

import { EventBus } from "../../lib/events.ts";
import { FRAMEWORK_ID_FILE, readFrameworkId } from "../../lib/mesos/state_dir.ts";
import { startWebServer } from "../../lib/web/server.ts";
import { main } from "../../main.ts";
import { runWarmer } from "./warmer_run.ts";

/** main.ts with `flag /dev/zero`: its exit code and error lines. */
export async function mainWithDevZero(flag: string): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const code = await main(
    ["--metric", "1", "--target", "1", "--warmer", "true", flag, "/dev/zero", "--max-ticks", "1"],
    new AbortController().signal,
    { out: () => {}, err: (l) => err.push(l) },
    {},
  );
  return { code, err };
}

/** A FrameworkID file that is a symlink to /dev/zero: what reading it says. */
export async function frameworkIdFromDevZero(): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    Deno.symlinkSync("/dev/zero", `${dir}/${FRAMEWORK_ID_FILE}`);
    try {
      readFrameworkId(dir);
      return "read";
    } catch (err) {
      return (err as Error).message;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A warmer printing one endless line for `ms`: the longest output line logged, the drop notes. */
export async function endlessLineWarmer(ms: number): Promise<{ longest: number; notes: number }> {
  const { lines } = await runWarmer("tr '\\0' x < /dev/zero", ms);
  const output = lines.filter((l) => l.fields?.stream === "stdout");
  return {
    longest: Math.max(0, ...output.map((l) => l.msg.length)),
    notes: lines.filter((l) => l.msg.startsWith("task output dropped ")).length,
  };
}

/** A web server on a loopback port with a bus to broadcast on and its log lines kept. */
export async function eventServer() {
  const bus = new EventBus();
  const logged: string[] = [];
  const web = await startWebServer({
    listen: { hostname: "127.0.0.1", port: 0 },
    bus,
    control: { paused: false },
    historyPoints: 100,
    log: (_level, msg) => logged.push(msg),
    state: () => ({ startedAt: 0, executor: "local", dryRun: false, options: {} }),
  });
  return { bus, logged, web, port: Number(new URL(web.url).port) };
}

/**
 * `clients` event-stream clients that never read, twice over, each round under 4 MB of events:
 * the drops seen, the external memory at its peak, and the RSS after each round (from before
 * the first), in MB.
 */
export async function deafEventClients(clients: number): Promise<{
  drops: number[];
  externalMb: number[];
  roundsMb: number[];
}> {
  const { bus, logged, web, port } = await eventServer();
  const rss0 = Deno.memoryUsage().rss;
  const out = { drops: [] as number[], externalMb: [] as number[], roundsMb: [] as number[] };
  try {
    for (let round = 0; round < 2; round++) {
      const conns: Deno.TcpConn[] = [];
      for (let i = 0; i < clients; i++) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        await c.write(
          new TextEncoder().encode(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
        );
        conns.push(c);
      }
      await new Promise((r) => setTimeout(r, 200));
      const big = "x".repeat(2000);
      for (let k = 0; k < 2000; k++) {
        bus.emit({ type: "warning", at: Date.now(), message: big });
        if (k % 100 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, 300));
      out.drops.push(logged.filter((m) => m === "web: dropped a slow event-stream client").length);
      out.externalMb.push(Deno.memoryUsage().external / 1e6);
      for (const c of conns) c.close();
      await new Promise((r) => setTimeout(r, 300));
      out.roundsMb.push((Deno.memoryUsage().rss - rss0) / 1e6);
    }
  } finally {
    await web.close();
  }
  return out;
}
