/**
 * Scheduler overhead, in real time: how fast the Mesos event stream is decoded (RecordIO +
 * protobuf, beside JSON and a plain byte copy of the same bytes), how long a 1000-offer OFFERS
 * event takes from arrival to ACCEPT/DECLINE sent, the memory of 10 000 tracked tasks, and the
 * start-up time of `main.ts --help`. Returns Markdown for bench/RESULTS.md.
 * @module
 */

import { VirtualClock } from "../lib/clock.ts";
import { type ContentType, decodeEvent, encodeEvent } from "../lib/mesos/codec.ts";
import type { ClientHandlers, SchedulerConnection } from "../lib/mesos/connection.ts";
import { MesosExecutor } from "../lib/mesos/framework.ts";
import type { Call, Event, Offer } from "../lib/mesos/messages.ts";
import { encodeRecord, RecordIODecoder } from "../lib/mesos/recordio.ts";

function offer(i: number): Offer {
  const resource = (name: string, value: number) => ({
    name,
    type: "SCALAR" as const,
    scalar: { value },
    role: "*",
    allocation_info: { role: "*" },
  });
  return {
    id: { value: `offer-${i}-${crypto.randomUUID()}` },
    framework_id: { value: "fw-bench" },
    agent_id: { value: `agent-${i}` },
    hostname: `agent-${i}.example.org`,
    resources: [resource("cpus", 8), resource("mem", 32768), resource("disk", 100000)],
    allocation_info: { role: "*" },
  };
}

/** A realistic stream: heartbeats, 10-offer OFFERS events and task updates. */
function events(count: number): Event[] {
  const out: Event[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 10 === 0) out.push({ type: "HEARTBEAT" });
    else if (i % 3 === 0) {
      out.push({
        type: "OFFERS",
        offers: { offers: Array.from({ length: 10 }, (_, k) => offer(k)) },
      });
    } else {
      out.push({
        type: "UPDATE",
        update: {
          status: {
            task_id: { value: `relay-cooler-${String(i).padStart(6, "0")}-abcdef` },
            state: "TASK_RUNNING",
            source: "SOURCE_EXECUTOR",
            agent_id: { value: "agent-1" },
            timestamp: 1764000000 + i,
            uuid: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))),
          },
        },
      });
    }
  }
  return out;
}

function stream(list: Event[], ct: ContentType): Uint8Array {
  const parts = list.map((e) => encodeRecord(encodeEvent(e, ct)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `bytes` in 16 KiB chunks through `work`; returns seconds. */
function timeChunks(bytes: Uint8Array, work: (chunk: Uint8Array) => void): number {
  const start = performance.now();
  for (let at = 0; at < bytes.length; at += 16384) work(bytes.subarray(at, at + 16384));
  return (performance.now() - start) / 1000;
}

function decodeRate(list: Event[], ct: ContentType) {
  const bytes = stream(list, ct);
  let decoded = 0;
  const seconds = Math.min(
    ...[1, 2, 3].map(() => {
      const decoder = new RecordIODecoder(1 << 24);
      decoded = 0;
      return timeChunks(bytes, (chunk) => {
        for (const record of decoder.push(chunk)) {
          decodeEvent(record, ct);
          decoded++;
        }
      });
    }),
  );
  return { events: decoded / seconds, mb: bytes.length / 1e6 / seconds, bytes: bytes.length };
}

function copyRate(bytes: number) {
  const source = crypto.getRandomValues(new Uint8Array(Math.min(bytes, 65536)));
  const big = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += source.length) big.set(source.subarray(0, bytes - at), at);
  const sink = new Uint8Array(16384);
  const seconds = Math.min(...[1, 2, 3].map(() => timeChunks(big, (chunk) => sink.set(chunk))));
  return bytes / 1e6 / seconds;
}

class Recorder implements SchedulerConnection {
  connected = true;
  reconnects = 0;
  calls: Omit<Call, "framework_id">[] = [];
  constructor(readonly handlers: ClientHandlers) {}
  start() {}
  call(call: Omit<Call, "framework_id">) {
    this.calls.push(call);
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
}

async function executor(
  clock = new VirtualClock(0),
): Promise<{ ex: MesosExecutor; conn: Recorder; dir: string }> {
  // The state dir lives under bench/, the only place `deno task bench` may write.
  const dir = await Deno.makeTempDir({
    dir: new URL("../bench/", import.meta.url).pathname,
    prefix: ".state-",
  });
  let conn!: Recorder;
  const ex = new MesosExecutor({
    connect: (h) => (conn = new Recorder(h)),
    frameworkName: "bench",
    user: "relay",
    roles: ["*"],
    checkpoint: true,
    failoverTimeoutSeconds: 3600,
    labels: [],
    refuseSeconds: 5,
    taskResources: { cpus: 0.5, mem: 128, disk: 0, gpus: 0 },
    cooler: "./consume",
    env: { PATH: "/usr/bin:/bin" },
    uris: [],
    stateDir: dir,
    clock,
    log: () => {},
    onFatal: () => {},
  });
  await ex.start();
  conn.handlers.onConnected({
    leader: "http://m:5050",
    frameworkId: "fw-bench",
    heartbeatSeconds: 15,
  });
  return { ex, conn, dir };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function offerLatency(rounds: number, offersPerEvent: number, waiting: number) {
  const clock = new VirtualClock(0);
  const { ex, conn, dir } = await executor(clock);
  const times: number[] = [];
  let launched = 0;
  let totalSeconds = 0;
  // The first rounds compile the code path (JIT) and are not counted; between rounds the event
  // loop runs, as it does between two events of a real stream.
  const warmup = 5;
  for (let r = -warmup; r < rounds; r++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    ex.launch("cooler", waiting);
    const offers = Array.from({ length: offersPerEvent }, (_, i) => offer(i));
    conn.calls = [];
    const start = performance.now();
    conn.handlers.onEvent({ type: "OFFERS", offers: { offers: offers.slice(0, offersPerEvent) } });
    const ms = performance.now() - start;
    if (r >= 0) {
      times.push(ms);
      totalSeconds += ms / 1000;
    }
    if (r >= 0) {
      launched += conn.calls
        .filter((c) => c.type === "ACCEPT")
        .reduce((a, c) => a + c.accept!.operations[0].launch!.task_infos.length, 0);
    }
    ex.kill(ex.tasks().filter((t) => t.state === "pending").map((t) => t.id));
    // A minute later, as between real offer rounds: ended tasks leave the books.
    clock.advance(61_000);
    ex.tasks();
  }
  await Deno.remove(dir, { recursive: true });
  times.sort((a, b) => a - b);
  return {
    rounds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    perSecond: launched / totalSeconds,
  };
}

/** Measured in a fresh process, so nothing else of the benchmark is counted. */
async function memoryFor(tasks: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname, "--memory", String(tasks)],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)) as {
    before: number;
    after: number;
    tracked: number;
  };
}

async function memoryChild(tasks: number) {
  const { ex, conn, dir } = await executor();
  const before = Deno.memoryUsage().rss;
  ex.launch("cooler", tasks);
  // Place them all (running on 1250 agents' offers) so the books hold launched tasks.
  const offers = Array.from({ length: Math.ceil(tasks / 16) }, (_, i) => offer(i));
  conn.handlers.onEvent({ type: "OFFERS", offers: { offers } });
  conn.calls = [];
  const after = Deno.memoryUsage().rss;
  await Deno.remove(dir, { recursive: true });
  console.log(
    JSON.stringify({ before: before / 1e6, after: after / 1e6, tracked: ex.tasks().length }),
  );
}

async function startup(runs: number) {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", main, "--help"],
      stdout: "null",
    })
      .output();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return percentile(times, 50);
}

/** Runs the scheduler benchmarks; `quick` makes them smaller. */
export async function schedulerBench(quick: boolean): Promise<string> {
  const list = events(quick ? 3000 : 20000);
  const protobuf = decodeRate(list, "protobuf");
  const json = decodeRate(list, "json");
  const copy = copyRate(protobuf.bytes);
  const few = await offerLatency(quick ? 100 : 1000, 1000, 10);
  const latency = await offerLatency(quick ? 20 : 100, 1000, 8000);
  const memory = await memoryFor(10000);
  const start = await startup(quick ? 3 : 7);
  const cpu = Deno.build.arch + " " + Deno.build.os;
  return [
    "## Scheduler overhead",
    "",
    `Real time on this machine (${cpu}, ${navigator.hardwareConcurrency} cores, Deno ` +
    `${Deno.version.deno}); best of three for rates, ${
      quick ? "quick" : "full"
    } run. Offer handling: ` +
    "after 5 warm-up events not counted, with the event loop running between events.",
    "",
    "| measure | value | goal |",
    "| --- | ---: | --- |",
    `| RecordIO + protobuf decoding | ${fmt(protobuf.events)} events/s, ${
      protobuf.mb.toFixed(1)
    } MB/s | ≥ 1/3 of byte copy |`,
    `| RecordIO + JSON decoding (same events) | ${fmt(json.events)} events/s, ${
      json.mb.toFixed(1)
    } MB/s | |`,
    `| plain byte copy (same bytes, 16 KiB chunks) | ${copy.toFixed(0)} MB/s | |`,
    `| 1000-offer OFFERS event, 10 tasks waiting: to ACCEPT/DECLINE sent, p50 of ${few.rounds} | ${
      few.p50.toFixed(2)
    } ms | |`,
    `| same, p99 | ${few.p99.toFixed(2)} ms | < 5 ms |`,
    `| 1000-offer OFFERS event, 8000 tasks waiting (all placed): p50 of ${latency.rounds} | ${
      latency.p50.toFixed(2)
    } ms | |`,
    `| same, p99 | ${latency.p99.toFixed(2)} ms | < 5 ms |`,
    `| tasks launched per second of offer handling | ${fmt(latency.perSecond)} | |`,
    `| RSS with ${memory.tracked} tasks tracked | ${memory.after.toFixed(0)} MB (${
      memory.before.toFixed(0)
    } MB before) | < 100 MB |`,
    `| start-up of \`main.ts --help\` (median) | ${start.toFixed(0)} ms | |`,
    "",
  ].join("\n");
}

function fmt(x: number): string {
  return x >= 1e6
    ? `${(x / 1e6).toFixed(2)} M`
    : x >= 1e3
    ? `${(x / 1e3).toFixed(1)} k`
    : x.toFixed(0);
}

if (import.meta.main) {
  const memory = Deno.args.indexOf("--memory");
  if (memory !== -1) await memoryChild(Number(Deno.args[memory + 1]));
  else console.log(await schedulerBench(Deno.args.includes("--quick")));
}
