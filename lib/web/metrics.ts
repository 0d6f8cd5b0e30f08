/**
 * Prometheus metrics of a run, in the text exposition format version 0.0.4. Everything comes
 * from the event bus, plus two hooks for timings the bus does not carry (signal read latency and
 * tick duration) and a snapshot callback for the Mesos connection. Also holds a strict parser of
 * the format, used by the tests to read the output back.
 * @module
 */

import type { EventBus, RelayEvent } from "../events.ts";
import type { BackendStatus, TaskKind, TaskState } from "../executor/types.ts";
import { type DecisionAction, decisionAction } from "./history.ts";

/** The Content-Type of the exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Which signal a read was for. */
export type SignalName = "metric" | "target";

/** Options of {@linkcode RelayMetrics}. */
export interface MetricsOptions {
  readonly bus: EventBus;
  /** The loop's pause switch, read at each scrape. */
  readonly control?: { readonly paused: boolean };
  /** The Mesos backend's counters, read at each scrape; `undefined` for the local backend. */
  readonly backend?: () => BackendStatus | undefined;
  /** Each kind's launch backoff after failures in a row, read at each scrape. */
  readonly launchBackoff?: () => LaunchBackoffSnapshot | undefined;
  /** Histogram bucket bounds in seconds (ascending). */
  readonly buckets?: readonly number[];
}

/** One entry per kind: failures in a row, and seconds left before its launches go on. */
export type LaunchBackoffSnapshot = Readonly<
  Partial<Record<TaskKind, { readonly failures: number; readonly heldSeconds: number }>>
>;

/** Default bucket bounds (seconds) of the latency histograms. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.001,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

const ACTIONS: readonly DecisionAction[] = ["warm", "cool", "kill", "cancel", "wait"];
const KINDS: readonly TaskKind[] = ["warmer", "cooler"];
const STATES: readonly TaskState[] = [
  "pending",
  "starting",
  "running",
  "finished",
  "failed",
  "killed",
  "lost",
];
const SIGNALS: readonly SignalName[] = ["metric", "target"];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]) this.counts[i]++;
  }
}

/**
 * Counts what happens on the bus and renders it for Prometheus.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventBus } from "../events.ts";
 * const metrics = new RelayMetrics({ bus: new EventBus(), control: { paused: false } });
 * const text = metrics.render(); // serve with PROMETHEUS_CONTENT_TYPE
 * assert.match(text, /^# HELP /m);
 * metrics.close();
 * ```
 */
export class RelayMetrics {
  readonly #control?: { readonly paused: boolean };
  readonly #backend?: () => BackendStatus | undefined;
  readonly #launchBackoff?: () => LaunchBackoffSnapshot | undefined;
  readonly #off: () => void;
  #last?: { target: number; metric: number; running: number; pending: number };
  #ticks = 0;
  readonly #decisions = new Map<DecisionAction, number>(ACTIONS.map((a) => [a, 0]));
  readonly #started = new Map<TaskKind, number>(KINDS.map((k) => [k, 0]));
  readonly #changes = new Map<string, number>();
  readonly #missing = new Map<SignalName, number>(SIGNALS.map((s) => [s, 0]));
  readonly #reads: Map<SignalName, Histogram>;
  readonly #tickDuration: Histogram;
  #warnings = 0;

  constructor(opts: MetricsOptions) {
    this.#control = opts.control;
    this.#backend = opts.backend;
    this.#launchBackoff = opts.launchBackoff;
    const buckets = opts.buckets ?? DEFAULT_BUCKETS;
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i] > buckets[i - 1])) throw new RangeError("buckets must be ascending");
    }
    this.#reads = new Map(SIGNALS.map((s) => [s, new Histogram(buckets)]));
    this.#tickDuration = new Histogram(buckets);
    for (const k of KINDS) for (const s of STATES) this.#changes.set(`${k}\u0000${s}`, 0);
    this.#off = opts.bus.on((e) => this.#record(e));
  }

  /** Records how long one read of a signal took (called by the loop). */
  observeSignalRead(signal: SignalName, seconds: number): void {
    this.#reads.get(signal)?.observe(seconds);
  }

  /** Records how long one tick took, from its start to its event (called by the loop). */
  observeTickDuration(seconds: number): void {
    this.#tickDuration.observe(seconds);
  }

  /** Stops listening to the bus. */
  close(): void {
    this.#off();
  }

  #record(e: RelayEvent): void {
    switch (e.type) {
      case "tick": {
        this.#ticks++;
        this.#last = {
          target: e.target,
          metric: e.metric,
          running: e.running,
          pending: e.pending,
        };
        const { action } = decisionAction(e.decision);
        this.#decisions.set(action, (this.#decisions.get(action) ?? 0) + 1);
        if (e.launched.length > 0) {
          // At most one of warmers/coolers is non-zero in a decision.
          const kind: TaskKind = e.decision.warmers > 0 ? "warmer" : "cooler";
          this.#started.set(kind, (this.#started.get(kind) ?? 0) + e.launched.length);
        }
        break;
      }
      case "missing":
        this.#ticks++;
        this.#missing.set(e.signal, (this.#missing.get(e.signal) ?? 0) + 1);
        break;
      case "task": {
        if (e.previous === e.task.state) break;
        const key = `${e.task.kind}\u0000${e.task.state}`;
        this.#changes.set(key, (this.#changes.get(key) ?? 0) + 1);
        break;
      }
      case "warning":
        this.#warnings++;
        break;
    }
  }

  /** The metrics in text exposition format 0.0.4 (ends with a newline). */
  render(): string {
    const out: string[] = [];
    const last = this.#last;
    family(out, "relay_target", "gauge", "Target value of the last valid tick.", [
      ...(last ? [sample("relay_target", {}, last.target)] : []),
    ]);
    family(out, "relay_metric", "gauge", "Metric value of the last valid tick.", [
      ...(last ? [sample("relay_metric", {}, last.metric)] : []),
    ]);
    family(out, "relay_error", "gauge", "Target minus metric at the last valid tick.", [
      ...(last ? [sample("relay_error", {}, last.target - last.metric)] : []),
    ]);
    family(
      out,
      "relay_ticks_total",
      "counter",
      "Loop ticks, including ticks with a missing sample.",
      [sample("relay_ticks_total", {}, this.#ticks)],
    );
    family(
      out,
      "relay_decisions_total",
      "counter",
      "Decisions of the control law by action (warm, cool, kill, cancel, wait).",
      ACTIONS.map((a) => sample("relay_decisions_total", { action: a }, this.#decisions.get(a)!)),
    );
    family(
      out,
      "relay_tasks_started_total",
      "counter",
      "Tasks the loop asked the executor to start, by kind.",
      KINDS.map((k) => sample("relay_tasks_started_total", { kind: k }, this.#started.get(k)!)),
    );
    family(
      out,
      "relay_task_state_changes_total",
      "counter",
      "Task state changes reported by the executor, by kind and new state.",
      KINDS.flatMap((k) =>
        STATES.map((s) =>
          sample(
            "relay_task_state_changes_total",
            { kind: k, state: s },
            this.#changes.get(`${k}\u0000${s}`)!,
          )
        )
      ),
    );
    family(out, "relay_tasks", "gauge", "Tasks running or pending after the last valid tick.", [
      ...(last
        ? [
          sample("relay_tasks", { state: "running" }, last.running),
          sample("relay_tasks", { state: "pending" }, last.pending),
        ]
        : []),
    ]);
    family(
      out,
      "relay_signal_missing_total",
      "counter",
      "Ticks without a valid sample, by the signal that failed.",
      SIGNALS.map((s) =>
        sample("relay_signal_missing_total", { signal: s }, this.#missing.get(s)!)
      ),
    );
    histogram(
      out,
      "relay_signal_read_seconds",
      "Time taken by one read of a signal.",
      SIGNALS.map((s) => [{ signal: s }, this.#reads.get(s)!]),
    );
    histogram(
      out,
      "relay_tick_duration_seconds",
      "Time from the start of a tick to its decision being carried out.",
      [[{}, this.#tickDuration]],
    );
    family(out, "relay_warnings_total", "counter", "Warnings reported during the run.", [
      sample("relay_warnings_total", {}, this.#warnings),
    ]);
    family(out, "relay_paused", "gauge", "1 while the loop is paused from the web UI.", [
      sample("relay_paused", {}, this.#control?.paused ? 1 : 0),
    ]);
    const held = this.#launchBackoff?.() ?? {};
    family(
      out,
      "relay_task_failures_in_a_row",
      "gauge",
      "Tasks of a kind that failed in a row (a batch failing at once counts once), by kind.",
      KINDS.map((kind) =>
        sample("relay_task_failures_in_a_row", { kind }, held[kind]?.failures ?? 0)
      ),
    );
    family(
      out,
      "relay_launch_backoff_seconds",
      "gauge",
      "Seconds left before a kind's launches go on after its tasks failed in a row (0: not held).",
      KINDS.map((kind) =>
        sample("relay_launch_backoff_seconds", { kind }, held[kind]?.heldSeconds ?? 0)
      ),
    );
    const backend = this.#backend?.();
    if (backend) {
      family(out, "relay_mesos_connected", "gauge", "1 while subscribed to a Mesos master.", [
        sample("relay_mesos_connected", {}, backend.connected ? 1 : 0),
      ]);
      family(out, "relay_mesos_offers_total", "counter", "Mesos offers by outcome.", [
        sample("relay_mesos_offers_total", { outcome: "used" }, backend.offersUsed),
        sample("relay_mesos_offers_total", { outcome: "declined" }, backend.offersDeclined),
        sample("relay_mesos_offers_total", { outcome: "rescinded" }, backend.offersRescinded),
      ]);
      family(
        out,
        "relay_mesos_updates_total",
        "counter",
        "Mesos task status updates by state.",
        Object.keys(backend.updates).sort().map((state) =>
          sample("relay_mesos_updates_total", { state }, backend.updates[state])
        ),
      );
      family(
        out,
        "relay_mesos_reconnects_total",
        "counter",
        "Reconnections to a Mesos master after the first subscription.",
        [sample("relay_mesos_reconnects_total", {}, backend.reconnects)],
      );
      const refused = backend.launchesRefused ?? {};
      family(
        out,
        "relay_mesos_launches_refused_total",
        "counter",
        "Task launches the Mesos master refused (TASK_ERROR or TASK_DROPPED at launch), by kind.",
        KINDS.map((kind) =>
          sample("relay_mesos_launches_refused_total", { kind }, refused[kind] ?? 0)
        ),
      );
      family(
        out,
        "relay_mesos_duplicate_updates_total",
        "counter",
        "Status updates delivered again with a uuid already seen (acknowledged again).",
        [sample("relay_mesos_duplicate_updates_total", {}, backend.duplicateUpdates ?? 0)],
      );
      const rejected = backend.callsRejected ?? {};
      family(
        out,
        "relay_mesos_calls_rejected_total",
        "counter",
        "Calls to the Mesos master answered with an HTTP error, by status.",
        Object.keys(rejected).sort().map((status) =>
          sample("relay_mesos_calls_rejected_total", { status }, rejected[status])
        ),
      );
    }
    return out.join("");
  }
}

type Labels = Readonly<Record<string, string>>;

function family(out: string[], name: string, type: string, help: string, samples: string[]): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}\n`, `# TYPE ${name} ${type}\n`, ...samples);
}

function histogram(
  out: string[],
  name: string,
  help: string,
  series: readonly (readonly [Labels, Histogram])[],
): void {
  const samples: string[] = [];
  for (const [labels, h] of series) {
    h.bounds.forEach((bound, i) => {
      samples.push(sample(`${name}_bucket`, { ...labels, le: formatValue(bound) }, h.counts[i]));
    });
    samples.push(sample(`${name}_bucket`, { ...labels, le: "+Inf" }, h.count));
    samples.push(sample(`${name}_sum`, labels, h.sum));
    samples.push(sample(`${name}_count`, labels, h.count));
  }
  family(out, name, "histogram", help, samples);
}

function sample(name: string, labels: Labels, value: number): string {
  const entries = Object.entries(labels);
  const rendered = entries.length === 0
    ? ""
    : `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
  return `${name}${rendered} ${formatValue(value)}\n`;
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Escapes a HELP text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** Formats a sample value as Prometheus reads it (`NaN`, `+Inf`, `-Inf` included). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Parser (strict), for tests and tools.

/** One sample line. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp?: number;
}

/** A metric family: its HELP, TYPE and samples, in order of appearance. */
export interface PromFamily {
  readonly name: string;
  help?: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  readonly samples: PromSample[];
}

/** Thrown by {@linkcode parsePrometheus} for any deviation from the format. */
export class PrometheusFormatError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "PrometheusFormatError";
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/**
 * Parses text exposition format 0.0.4 strictly: the text must end with a line feed; names,
 * label names, escapes and values must be valid; HELP and TYPE appear at most once per family
 * and before its samples; a family's lines are not interleaved with another's; no series appears
 * twice; counters are not negative; histogram buckets are ascending, cumulative, and end with a
 * `+Inf` bucket equal to `_count`. Throws {@linkcode PrometheusFormatError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const families = parsePrometheus(
 *   "# HELP relay_ticks_total Ticks run.\n# TYPE relay_ticks_total counter\nrelay_ticks_total 7\n",
 * );
 * assert.equal(families.get("relay_ticks_total")?.samples[0].value, 7);
 * assert.throws(() => parsePrometheus("relay_ticks_total 7"), PrometheusFormatError); // no LF
 * ```
 */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  if (text === "") return families;
  if (!text.endsWith("\n")) throw new PrometheusFormatError(0, "text must end with a line feed");
  const lines = text.slice(0, -1).split("\n");
  const done = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: PromFamily | undefined;

  const enter = (name: string, lineNo: number): PromFamily => {
    if (current?.name === name) return current;
    if (done.has(name) || families.has(name)) {
      throw new PrometheusFormatError(lineNo, `lines of ${name} are not together`);
    }
    if (current) done.add(current.name);
    current = { name, type: "untyped", samples: [] };
    families.set(name, current);
    return current;
  };

  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.includes("\r")) throw new PrometheusFormatError(lineNo, "carriage return");
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // A plain comment.
      const [, keyword, name, rest = ""] = m;
      if (!METRIC_NAME.test(name)) {
        throw new PrometheusFormatError(lineNo, `bad metric name ${JSON.stringify(name)}`);
      }
      const fam = enter(name, lineNo);
      if (keyword === "HELP") {
        if (fam.help !== undefined) throw new PrometheusFormatError(lineNo, `second HELP`);
        fam.help = unescapeHelp(rest, lineNo);
      } else {
        const type = rest.trim();
        if (!TYPES.has(type)) throw new PrometheusFormatError(lineNo, `unknown type ${type}`);
        if (typed.has(name)) throw new PrometheusFormatError(lineNo, `second TYPE for ${name}`);
        if (fam.samples.length > 0) {
          throw new PrometheusFormatError(lineNo, `TYPE of ${name} after its samples`);
        }
        fam.type = type as PromFamily["type"];
        typed.add(name);
      }
      return;
    }
    const s = parseSampleLine(line, lineNo);
    const owner = current && belongs(current, s.name) ? current : enter(s.name, lineNo);
    const key = `${s.name}${
      JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)))
    }`;
    if (series.has(key)) throw new PrometheusFormatError(lineNo, `duplicate series ${s.name}`);
    series.add(key);
    if (owner.type === "counter" && !(s.value >= 0)) {
      throw new PrometheusFormatError(lineNo, `counter ${s.name} is ${s.value}`);
    }
    if (owner.type === "histogram" && s.name === `${owner.name}_bucket` && !("le" in s.labels)) {
      throw new PrometheusFormatError(lineNo, `bucket without le`);
    }
    owner.samples.push(s);
  });
  for (const fam of families.values()) {
    if (fam.type === "histogram") checkHistogram(fam);
  }
  return families;
}

function belongs(fam: PromFamily, sampleName: string): boolean {
  if (sampleName === fam.name) return fam.type !== "histogram";
  if (fam.type === "histogram") {
    return [`${fam.name}_bucket`, `${fam.name}_sum`, `${fam.name}_count`].includes(sampleName);
  }
  if (fam.type === "summary") {
    return [`${fam.name}_sum`, `${fam.name}_count`].includes(sampleName);
  }
  return false;
}

function parseSampleLine(line: string, lineNo: number): PromSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new PrometheusFormatError(lineNo, `bad sample line`);
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === "{") {
    pos++;
    while (line[pos] !== "}") {
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos));
      if (!ln || !LABEL_NAME.test(ln[0])) {
        throw new PrometheusFormatError(lineNo, `bad label name at column ${pos + 1}`);
      }
      pos += ln[0].length;
      if (line[pos] !== "=" || line[pos + 1] !== '"') {
        throw new PrometheusFormatError(lineNo, `expected ="..." after ${ln[0]}`);
      }
      pos += 2;
      let value = "";
      for (;;) {
        const c = line[pos];
        if (c === undefined) throw new PrometheusFormatError(lineNo, `unterminated label value`);
        if (c === '"') break;
        if (c === "\\") {
          const next = line[pos + 1];
          if (next === "\\") value += "\\";
          else if (next === '"') value += '"';
          else if (next === "n") value += "\n";
          else throw new PrometheusFormatError(lineNo, `bad escape \\${next ?? ""}`);
          pos += 2;
        } else {
          value += c;
          pos++;
        }
      }
      pos++;
      if (ln[0] in labels) throw new PrometheusFormatError(lineNo, `label ${ln[0]} twice`);
      labels[ln[0]] = value;
      if (line[pos] === ",") pos++;
      else if (line[pos] !== "}") throw new PrometheusFormatError(lineNo, `expected , or }`);
    }
    pos++;
  }
  const rest = line.slice(pos);
  const m = /^[ \t]+(\S+)(?:[ \t]+(-?[0-9]+))?[ \t]*$/.exec(rest);
  if (!m) throw new PrometheusFormatError(lineNo, `bad value part ${JSON.stringify(rest)}`);
  const value = parseValue(m[1], lineNo);
  return m[2] === undefined ? { name, labels, value } : {
    name,
    labels,
    value,
    timestamp: Number(m[2]),
  };
}

function parseValue(text: string, lineNo: number): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(text)) {
    throw new PrometheusFormatError(lineNo, `bad value ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function unescapeHelp(text: string, lineNo: number): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    throw new PrometheusFormatError(lineNo, `bad escape in HELP: \\${c}`);
  });
}

function checkHistogram(fam: PromFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of fam.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith("_bucket")) g.buckets.push([parseValue(le, 0), s.value]);
    else if (s.name.endsWith("_count")) g.count = s.value;
    else g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const where = `${fam.name}${key}`;
    if (g.count === undefined || g.sum === undefined) {
      throw new PrometheusFormatError(0, `${where}: missing _count or _sum`);
    }
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i][0] > g.buckets[i - 1][0])) {
        throw new PrometheusFormatError(0, `${where}: buckets not ascending`);
      }
      if (g.buckets[i][1] < g.buckets[i - 1][1]) {
        throw new PrometheusFormatError(0, `${where}: buckets not cumulative`);
      }
    }
    const top = g.buckets.at(-1);
    if (!top || top[0] !== Infinity) throw new PrometheusFormatError(0, `${where}: no +Inf`);
    if (top[1] !== g.count) throw new PrometheusFormatError(0, `${where}: +Inf != _count`);
  }
}

/**
 * The value of one series in parsed output, or `undefined`. Labels must match exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = 'relay_decisions_total{action="warm"} 3\nrelay_decisions_total{action="cool"} 1\n';
 * assert.equal(sampleValue(parsePrometheus(text), "relay_decisions_total", { action: "warm" }), 3);
 * assert.equal(sampleValue(parsePrometheus(text), "relay_decisions_total"), undefined);
 * ```
 */
export function sampleValue(
  families: ReadonlyMap<string, PromFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const want = Object.entries(labels);
  for (const fam of families.values()) {
    for (const s of fam.samples) {
      if (s.name !== name) continue;
      const have = Object.entries(s.labels);
      if (have.length === want.length && want.every(([k, v]) => s.labels[k] === v)) {
        return s.value;
      }
    }
  }
  return undefined;
}
