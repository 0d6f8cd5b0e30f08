/**
 * Soak: relay.mesos (main.ts as a subprocess, as shipped) steers a simulated queue for a long time
 * against the in-repo test master with many agents and churn: agents lost (their tasks with them)
 * and back later, offers rescinded, and now and then a broken event stream or a refused call. It
 * exists to show that nothing accumulates or drifts over a long run: it counts tasks launched,
 * reconnects, duplicate launches, updates never acknowledged or acknowledged more often than they
 * were delivered (each delivery is acknowledged, a re-sent one too), and the relay's memory at
 * the start and the end, prints them and writes them to `bench/SOAK.md`.
 *
 * `deno task soak` (30 minutes), `-- --minutes N`, `-- --quick` (1 minute), `-- --agents N`,
 * `-- --seed S`, `-- --churn-seconds S` (default 10, 3 when quick), `-- --fault-seconds S` (default
 * 120, 12 when quick), `-- --max-running N` (default 40; 0 for none), `-- --no-write`;
 * `-- --local` runs the local-executor churn soak instead (scripts/soak_local.ts). Not part
 * of `deno task test`.
 * @module
 */

import { parseArgs } from "node:util";
import { relayCommand } from "../tests/support/relay_process.ts";
import {
  startTestMaster,
  type StreamFault,
  type TestAgent,
  type TestMaster,
} from "../tests/support/mesos_master.ts";
import { startQueueSim, steppingRate } from "./queue_sim.ts";
import { seededRandom } from "../sim/plants.ts";
import { localMarkdown, localVerdicts, soakLocal } from "./soak_local.ts";

/** Settings of one soak run. */
export interface SoakSettings {
  readonly minutes: number;
  readonly agents: number;
  readonly seed: number;
  /** Seconds between churn steps (an agent lost or back, offers rescinded). */
  readonly churnSeconds: number;
  /** Seconds between connection faults (stream broken, a call refused). */
  readonly faultSeconds: number;
  /** Relay's `--max-running` (0: no cap; default 40). */
  readonly maxRunning?: number;
}

/** What a soak run measured. */
export interface SoakResult {
  readonly settings: SoakSettings;
  readonly exitCode: number;
  readonly seconds: number;
  readonly ticks: number;
  readonly missing: number;
  readonly warnings: number;
  readonly errors: number;
  readonly tasksLaunched: number;
  /** Tasks at the master by their last state when the relay exited. */
  readonly endStates: Readonly<Record<string, number>>;
  readonly duplicateLaunches: number;
  readonly reconnects: number;
  readonly faultsInjected: number;
  /** The faults that broke the event stream (a 400 on a call does not end the subscription). */
  readonly streamFaults: number;
  readonly agentsLost: number;
  readonly tasksLostWithAgents: number;
  readonly offersSent: number;
  readonly offersRescinded: number;
  readonly updatesWithUuid: number;
  /** Updates delivered at least 2 s before the relay exited and never acknowledged. */
  readonly unacknowledged: number;
  /** Updates never acknowledged because their agent was lost right after sending them. */
  readonly goneWithAgent: number;
  /** Updates acknowledged more often than they were delivered. */
  readonly overAcknowledged: number;
  readonly rssKb: readonly { minute: number; kb: number }[];
  readonly queue: { arrived: number; taken: number; meanLength: number; maxLength: number };
  /** Most consumers running or waiting for an offer at once, from relay's ticks. */
  readonly mostConsumers: number;
}

/** The default cap on consumers (`--max-running`). */
const MAX_RUNNING = 40;

const FAULTS: readonly (StreamFault | "400 on ACKNOWLEDGE")[] = [
  "mid-frame",
  "bad-length",
  "garbage",
  "400 on ACKNOWLEDGE",
];

/** Resident memory of `pid` in kB (from ps), or undefined once it is gone. */
async function rssKb(pid: number): Promise<number | undefined> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  const kb = Number(new TextDecoder().decode(out.stdout).trim());
  return out.success && kb > 0 ? kb : undefined;
}

function makeAgents(n: number): TestAgent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `soak-agent-${String(i + 1).padStart(3, "0")}`,
    hostname: `agent${i + 1}`,
    resources: { cpus: 2, mem: 4096, disk: 1000 },
  }));
}

/** Follows the master's records as they grow, keeping counts and dropping what it has read. */
class Ledger {
  readonly launchesPerTask = new Map<string, number>();
  /** uuid → when the master last sent it. */
  readonly lastSent = new Map<string, number>();
  /** uuid → how many times the master sent it (re-sends included). */
  readonly deliveries = new Map<string, number>();
  duplicateLaunches = 0;
  offersSent = 0;
  /** uuid → task id. */
  readonly taskOf = new Map<string, string>();

  constructor(readonly master: TestMaster) {}

  /** Reads new calls, updates and offers, then empties the master's lists. */
  drain(): void {
    const m = this.master;
    for (const call of m.calls.splice(0)) {
      if (call.type !== "ACCEPT") continue;
      for (const op of call.accept!.operations) {
        for (const t of op.launch?.task_infos ?? []) {
          const n = (this.launchesPerTask.get(t.task_id.value) ?? 0) + 1;
          this.launchesPerTask.set(t.task_id.value, n);
          if (n > 1) this.duplicateLaunches++;
        }
      }
    }
    for (const u of m.updatesSent.splice(0)) {
      if (u.status.uuid) {
        this.lastSent.set(u.status.uuid, u.at);
        this.deliveries.set(u.status.uuid, (this.deliveries.get(u.status.uuid) ?? 0) + 1);
        this.taskOf.set(u.status.uuid, u.status.task_id.value);
      }
    }
    this.offersSent += m.offersSent.splice(0).length;
    m.eventsSent.splice(0);
    m.answered.splice(0);
  }
}

/**
 * Runs one soak and returns its numbers. `progress` gets a line about once a minute.
 *
 * @example
 * ```ts
 * const result = await soak({ minutes: 1, agents: 200, seed: 1, churnSeconds: 2, faultSeconds: 15 });
 * console.log(soakMarkdown(result));
 * ```
 */
export async function soak(
  settings: SoakSettings,
  progress: (line: string) => void = console.log,
): Promise<SoakResult> {
  const random = seededRandom(settings.seed);
  const agents = makeAgents(settings.agents);
  const master = await startTestMaster({ agents, heartbeatSeconds: 5, resendSeconds: 2 });
  // The demo's stepping arrivals, ten times over: 20, 80, then 5 items/s, a minute each.
  const sim = await startQueueSim({ rate: (t) => 10 * steppingRate(t), seed: settings.seed });
  const stateDir = await Deno.makeTempDir({ prefix: "relay-soak-" });
  const consumer = new URL("./queue_consumer.sh", import.meta.url).pathname;
  const seconds = Math.round(settings.minutes * 60);
  const ledger = new Ledger(master);
  const child = relayCommand([
    "--mesos-master",
    master.url,
    "--metric",
    `${sim.url}/length`,
    "--target",
    "0",
    "--cooler",
    `bash '${consumer}'`,
    "--env",
    `QUEUE_URL=${sim.url}`,
    "--env",
    "CONSUMER_RATE=5",
    "--env",
    "CONSUMER_LIFE=10",
    "--mesos-task-resources",
    "cpus=0.5,mem=64",
    "--mesos-framework-name",
    "soak",
    // A production-like cap by default; `--max-running 0` soaks the law's own saturation hold
    // (the 80 items/s minute is more than bash consumers on this machine can take).
    "--max-running",
    String(settings.maxRunning ?? MAX_RUNNING),
    "--delay",
    "1",
    "--duration",
    String(seconds),
    "--on-exit",
    "leave",
    "--state-dir",
    stateDir,
    "--log-format",
    "json",
  ]).spawn();
  const counts = { ticks: 0, missing: 0, warnings: 0, errors: 0, subscribed: 0 };
  const lengths: number[] = [];
  let mostConsumers = 0;
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const e = JSON.parse(line);
        if (e.event === "tick") {
          counts.ticks++;
          lengths.push(e.metric);
          mostConsumers = Math.max(mostConsumers, e.running + e.pending);
        } else if (e.event === "missing") counts.missing++;
        else if (e.event === "warning") counts.warnings++;
        if (e.level === "error") counts.errors++;
        if (typeof e.msg === "string" && e.msg.startsWith("mesos: subscribed to")) {
          counts.subscribed++;
        }
      }
    }
  })();
  const stderr = new Response(child.stderr).text();

  const started = Date.now();
  const rss: { minute: number; kb: number }[] = [];
  const removed: { agent: TestAgent; back: number }[] = [];
  let agentsLost = 0;
  /** Task id → when its agent was lost (tasks with updates still unacknowledged then). */
  const lostWithAgent = new Map<string, number>();
  let goneWithAgent = 0;
  let tasksLostWithAgents = 0;
  let faults = 0;
  let streamFaults = 0;
  let nextChurn = started + settings.churnSeconds * 1000;
  let nextFault = started + settings.faultSeconds * 1000;
  let nextRss = started + 10_000; // the first sample after start-up
  let exited = false;
  child.status.then(() => exited = true);
  const endAt = started + seconds * 1000;
  while (!exited) {
    await new Promise((r) => setTimeout(r, 250));
    const now = Date.now();
    ledger.drain();
    if (now >= nextRss && now < endAt - 2000) {
      const kb = await rssKb(child.pid);
      if (kb !== undefined) {
        const minute = Math.round((now - started) / 600) / 100;
        rss.push({ minute, kb });
        progress(
          `soak ${minute.toFixed(1)} min: rss ${
            (kb / 1024).toFixed(1)
          } MB, ${counts.ticks} ticks, ` +
            `${ledger.launchesPerTask.size} launched, ${master.subscriptions - 1} reconnects, ` +
            `queue ${sim.length()}`,
        );
      }
      // Every minute, and once more 3 s before the end.
      nextRss = now + 60_000 <= endAt - 3000 || now >= endAt - 3000 ? now + 60_000 : endAt - 3000;
    }
    // Offers rescinded at random moments, also while the relay is about to accept them.
    const outstanding = master.outstandingOffers();
    if (outstanding.length > 0 && random() < 0.2) {
      master.rescind(outstanding[Math.floor(random() * outstanding.length)].id.value);
    }
    if (now >= nextChurn && now < endAt - 5000) {
      nextChurn = now + settings.churnSeconds * 1000;
      for (const r of removed.filter((r) => r.back <= now)) {
        master.addAgent(r.agent);
        removed.splice(removed.indexOf(r), 1);
      }
      // Lose an agent, preferably one running our tasks.
      const busy = [
        ...new Set(master.tasks().filter((t) => t.state === "TASK_RUNNING").map((t) => t.agentId)),
      ];
      const pool = busy.length > 0 ? busy : master.agentIds();
      const victim = pool[Math.floor(random() * pool.length)];
      const agent = agents.find((a) => a.id === victim);
      if (agent && master.agentIds().includes(victim)) {
        for (const t of master.tasks()) {
          if (t.agentId !== victim || t.completed) continue;
          lostWithAgent.set(t.taskId, now);
          if (t.exitCode === undefined) tasksLostWithAgents++;
        }
        master.removeAgent(victim);
        agentsLost++;
        removed.push({ agent, back: now + 4 * settings.churnSeconds * 1000 });
      }
      const offers = master.outstandingOffers();
      for (let i = 0; i < 2 && offers.length > 0; i++) {
        const [offer] = offers.splice(Math.floor(random() * offers.length), 1);
        master.rescind(offer.id.value);
      }
    }
    if (now >= nextFault && now < endAt - 10_000) {
      nextFault = now + settings.faultSeconds * 1000;
      const fault = FAULTS[faults % FAULTS.length];
      if (fault === "400 on ACKNOWLEDGE") master.failCalls("ACKNOWLEDGE", 400, 1);
      else {
        master.breakStreams(fault);
        streamFaults++;
      }
      faults++;
      progress(`soak: fault injected: ${fault}`);
    }
  }
  const status = await child.status;
  await reading;
  const errText = await stderr;
  const exitAt = Date.now();
  ledger.drain();
  // Updates the relay had time to acknowledge (sent at least 2 s before it exited).
  let unacknowledged = 0;
  let over = 0;
  for (const [uuid, at] of ledger.lastSent) {
    const acks = master.ackCount(uuid);
    if (acks === 0 && at < exitAt - 2000) {
      // An agent lost soon after sending takes its unacknowledged updates with it (as the
      // agent's status update manager goes with the agent): not the relay's doing.
      const lostAt = lostWithAgent.get(ledger.taskOf.get(uuid)!);
      if (lostAt !== undefined && lostAt - at < 10_000) goneWithAgent++;
      else unacknowledged++;
    }
    if (acks > (ledger.deliveries.get(uuid) ?? 0)) over++;
  }
  const stats = sim.stats();
  const endStates: Record<string, number> = {};
  for (const t of master.tasks()) endStates[t.state] = (endStates[t.state] ?? 0) + 1;
  const result: SoakResult = {
    endStates,
    settings,
    exitCode: status.code,
    seconds: Math.round((exitAt - started) / 1000),
    ...counts,
    tasksLaunched: ledger.launchesPerTask.size,
    duplicateLaunches: ledger.duplicateLaunches,
    reconnects: master.subscriptions - 1,
    faultsInjected: faults,
    streamFaults,
    agentsLost,
    tasksLostWithAgents,
    offersSent: ledger.offersSent,
    offersRescinded: master.offersRescinded.length,
    updatesWithUuid: ledger.lastSent.size,
    unacknowledged,
    goneWithAgent,
    overAcknowledged: over,
    rssKb: rss,
    queue: {
      arrived: stats.arrived,
      taken: stats.taken,
      meanLength: lengths.length ? lengths.reduce((a, b) => a + b, 0) / lengths.length : 0,
      maxLength: lengths.length ? Math.max(...lengths) : 0,
    },
    mostConsumers,
  };
  if (status.code !== 0) progress(`soak: relay.mesos exited ${status.code}: ${errText.trim()}`);
  await master.close();
  await sim.close();
  await Deno.remove(stateDir, { recursive: true });
  return result;
}

/** The verdicts a soak must meet: what "survived" means. */
export function soakVerdicts(r: SoakResult): { what: string; ok: boolean }[] {
  // The first minute is start-up (heap and JIT warming): drift is measured from the sample
  // nearest to minute 1, in runs long enough to have one well before the end.
  const base = r.rssKb.find((x) => x.minute >= 1);
  const last = r.rssKb.at(-1)?.kb ?? 0;
  const drift = base && r.settings.minutes >= 3
    ? [{ what: "memory at the end within 1.25 × minute 1", ok: last <= 1.25 * base.kb }]
    : [];
  return [
    { what: "relay.mesos exited 0 at the end of --duration", ok: r.exitCode === 0 },
    { what: "no task launched twice", ok: r.duplicateLaunches === 0 },
    { what: "every update delivered was acknowledged", ok: r.unacknowledged === 0 },
    { what: "no update acknowledged more often than delivered", ok: r.overAcknowledged === 0 },
    {
      what: "it re-subscribed after every stream fault",
      ok: r.reconnects >= r.streamFaults,
    },
    { what: "the loop ticked every second (≥ 95 %)", ok: r.ticks >= 0.95 * r.seconds - 5 },
    ...drift,
  ];
}

/** Markdown of a soak run, for bench/SOAK.md. */
export function soakMarkdown(r: SoakResult, when = new Date()): string {
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  const s = r.settings;
  const cap = s.maxRunning ?? MAX_RUNNING;
  const rows: [string, string | number][] = [
    ["duration", `${r.seconds} s`],
    ["relay.mesos exit code", r.exitCode],
    ["ticks (1 s delay)", r.ticks],
    ["missing samples", r.missing],
    ["warnings / error lines", `${r.warnings} / ${r.errors}`],
    ["tasks launched", r.tasksLaunched],
    ["duplicate launches", r.duplicateLaunches],
    [
      "tasks by last state",
      Object.entries(r.endStates).sort().map(([k, v]) => `${k.replace("TASK_", "")} ${v}`).join(
        ", ",
      ),
    ],
    ["reconnects (re-subscriptions)", r.reconnects],
    ["faults injected (stream broken, 400 on a call)", r.faultsInjected],
    ["agents lost (and back later)", r.agentsLost],
    ["tasks lost with their agent", r.tasksLostWithAgents],
    ["offers sent / rescinded", `${r.offersSent} / ${r.offersRescinded}`],
    ["status updates with a uuid", r.updatesWithUuid],
    ["updates never acknowledged", r.unacknowledged],
    ["updates gone with their lost agent before an ack", r.goneWithAgent],
    ["updates acknowledged more often than delivered", r.overAcknowledged],
    ["RSS at start → end", `${mb(r.rssKb[0]?.kb ?? 0)} MB → ${mb(r.rssKb.at(-1)?.kb ?? 0)} MB`],
    ["most consumers running or waiting at once", r.mostConsumers],
    [
      "queue: arrived / taken / mean length / max",
      `${r.queue.arrived} / ${r.queue.taken} / ${
        r.queue.meanLength.toFixed(1)
      } / ${r.queue.maxLength}`,
    ],
  ];
  return [
    `# Soak: ${s.minutes} min, ${s.agents} agents, churn`,
    "",
    `Generated by \`deno task soak${s.minutes === 30 ? "" : ` -- --minutes ${s.minutes}`}${
      cap === MAX_RUNNING ? "" : ` --max-running ${cap}`
    }\` on ` +
    `${when.toISOString().slice(0, 16).replace("T", " ")} UTC (seed ${s.seed}).`,
    "",
    `relay.mesos (main.ts as a subprocess) steers a simulated queue (arrivals 20, 80 then 5 items/s, ` +
    `a minute each, jittered) with bash consumer tasks (5 items/s for 10 s) on the in-repo test ` +
    `master with ${s.agents} agents of 2 cpus, ${
      cap > 0
        ? `at most ${cap} consumers at once (\`--max-running\`)`
        : "no cap on consumers (`--max-running 0`: the law's saturation hold alone)"
    }. Every ${s.churnSeconds} s an agent running our tasks ` +
    `is lost (its tasks TASK_GONE) and comes back ${4 * s.churnSeconds} s later, and two ` +
    `outstanding offers are rescinded; every ${s.faultSeconds} s the event stream is broken ` +
    `(cut mid-frame, a bad length line, an undecodable record) or an ACKNOWLEDGE is refused with 400, ` +
    `in turn.`,
    "",
    "| measure | value |",
    "| --- | --- |",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "| verdict | |",
    "| --- | --- |",
    ...soakVerdicts(r).map((v) => `| ${v.what} | ${v.ok ? "yes" : "**NO**"} |`),
    "",
    `RSS of relay.mesos by minute: ${
      r.rssKb.map((x) => `${x.minute}: ${mb(x.kb)} MB`).join(", ")
    }.`,
    "",
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    // `deno task soak -- --quick` passes the `--` on.
    args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
    options: {
      minutes: { type: "string" },
      quick: { type: "boolean", default: false },
      agents: { type: "string", default: "200" },
      seed: { type: "string", default: "1" },
      "churn-seconds": { type: "string" },
      "fault-seconds": { type: "string" },
      "max-running": { type: "string", default: String(MAX_RUNNING) },
      "no-write": { type: "boolean", default: false },
      local: { type: "boolean", default: false },
      out: { type: "string", default: new URL("../bench/SOAK.md", import.meta.url).pathname },
    },
  });
  if (values.local) {
    // The local executor under process churn (memory of ended tasks): see scripts/soak_local.ts.
    const result = await soakLocal(Number(values.minutes ?? (values.quick ? 2 : 10)));
    const md = localMarkdown(result);
    console.log(md);
    if (!values["no-write"]) {
      const out = new URL("../bench/SOAK-local.md", import.meta.url).pathname;
      Deno.writeTextFileSync(out, md);
      console.log(`written to ${out}`);
    }
    Deno.exit(localVerdicts(result).every((v) => v.ok) ? 0 : 1);
  }
  const minutes = Number(values.minutes ?? (values.quick ? 1 : 30));
  const agents = Number(values.agents);
  const seed = Number(values.seed);
  for (
    const [name, v] of [["--minutes", minutes], ["--agents", agents], ["--seed", seed]] as const
  ) {
    if (!Number.isFinite(v) || v <= 0) {
      console.error(`soak: ${name}: expected a positive number, got ${v}`);
      Deno.exit(2);
    }
  }
  const quickish = minutes <= 2;
  const churnSeconds = Number(values["churn-seconds"] ?? (quickish ? 3 : 10));
  const faultSeconds = Number(values["fault-seconds"] ?? (quickish ? 12 : 120));
  for (const [name, v] of [["--churn-seconds", churnSeconds], ["--fault-seconds", faultSeconds]]) {
    if (!(Number(v) > 0)) {
      console.error(`soak: ${name}: expected a positive number, got ${v}`);
      Deno.exit(2);
    }
  }
  const maxRunning = Number(values["max-running"]);
  if (!Number.isInteger(maxRunning) || maxRunning < 0) {
    console.error(
      `soak: --max-running: expected a whole number >= 0, got ${values["max-running"]}`,
    );
    Deno.exit(2);
  }
  const result = await soak({ minutes, agents, seed, churnSeconds, faultSeconds, maxRunning });
  const md = soakMarkdown(result);
  console.log(md);
  if (!values["no-write"]) {
    Deno.writeTextFileSync(values.out, md);
    console.log(`written to ${values.out}`);
  }
  Deno.exit(soakVerdicts(result).every((v) => v.ok) ? 0 : 1);
}
