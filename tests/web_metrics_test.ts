import assert from "node:assert/strict";
import { systemClock } from "../lib/clock.ts";
import { decide, noAction } from "../lib/control/types.ts";
import { watchTaskFailures } from "../lib/executor/backoff.ts";
import { LocalExecutor } from "../lib/executor/local.ts";
import { EventBus, type RelayEvent } from "../lib/events.ts";
import type { BackendStatus } from "../lib/executor/types.ts";
import {
  escapeLabelValue,
  formatValue,
  parsePrometheus,
  PrometheusFormatError,
  RelayMetrics,
  sampleValue,
} from "../lib/web/metrics.ts";

function tickEvent(n: number, over: Partial<Extract<RelayEvent, { type: "tick" }>> = {}) {
  return {
    type: "tick",
    at: n * 1000,
    tick: n,
    target: 10,
    metric: 4,
    decision: noAction("within deadband"),
    launched: [],
    killed: [],
    running: 0,
    pending: 0,
    dryRun: false,
    ...over,
  } as RelayEvent;
}

/** A scripted run: what a loop and an executor would put on the bus. */
function script(bus: EventBus): void {
  bus.emit({ type: "start", at: 0, executor: "local", law: "adaptive", dryRun: false });
  bus.emit(tickEvent(1, {
    decision: decide({ type: "start", kind: "warmer", n: 2 }, "plan", "too cold"),
    launched: ["w1", "w2"],
    pending: 2,
  }));
  const w1 = { id: "w1", kind: "warmer" as const, requestedAt: 1000 };
  bus.emit({ type: "task", at: 1100, task: { ...w1, state: "running" }, previous: "pending" });
  bus.emit({ type: "task", at: 1200, task: { ...w1, state: "failed" }, previous: "running" });
  bus.emit({
    type: "missing",
    at: 2000,
    tick: 2,
    signal: "metric",
    reason: "timeout",
    consecutive: 1,
  });
  bus.emit({ type: "warning", at: 2100, message: "watch out" });
  bus.emit(tickEvent(3, {
    target: 5,
    metric: 7.5,
    decision: decide({ type: "start", kind: "cooler", n: 1 }, "plan", "too warm"),
    launched: ["c1"],
    running: 1,
    pending: 1,
  }));
  bus.emit(tickEvent(4, {
    target: 5,
    metric: 6,
    decision: decide({ type: "kill", n: 1 }, "plan", "too warm"),
    killed: ["w2"],
    running: 1,
    pending: 0,
  }));
  bus.emit(tickEvent(5, { target: 5, metric: 5.25, running: 1 }));
  // In dry-run, a decision is counted but nothing is started.
  bus.emit(tickEvent(6, {
    target: 5,
    metric: 5.5,
    decision: decide({ type: "start", kind: "warmer", n: 3 }, "plan", "too cold"),
    running: 1,
    dryRun: true,
  }));
}

Deno.test("metrics after a scripted run are parsed back with the right values", () => {
  const bus = new EventBus();
  const control = { paused: false };
  const metrics = new RelayMetrics({ bus, control });
  script(bus);
  metrics.observeSignalRead("metric", 0.003);
  metrics.observeSignalRead("metric", 0.2);
  metrics.observeSignalRead("target", 0.0001);
  metrics.observeTickDuration(0.02);
  const text = metrics.render();
  const f = parsePrometheus(text);
  const v = (name: string, labels: Record<string, string> = {}) => sampleValue(f, name, labels);

  assert.equal(v("relay_target"), 5);
  assert.equal(v("relay_metric"), 5.5);
  assert.equal(v("relay_error"), -0.5);
  assert.equal(v("relay_ticks_total"), 6);
  assert.equal(v("relay_decisions_total", { action: "warm" }), 2);
  assert.equal(v("relay_decisions_total", { action: "cool" }), 1);
  assert.equal(v("relay_decisions_total", { action: "kill" }), 1);
  assert.equal(v("relay_decisions_total", { action: "cancel" }), 0);
  assert.equal(v("relay_decisions_total", { action: "wait" }), 1);
  assert.equal(v("relay_tasks_started_total", { kind: "warmer" }), 2);
  assert.equal(v("relay_tasks_started_total", { kind: "cooler" }), 1);
  assert.equal(v("relay_task_state_changes_total", { kind: "warmer", state: "running" }), 1);
  assert.equal(v("relay_task_state_changes_total", { kind: "warmer", state: "failed" }), 1);
  assert.equal(v("relay_task_state_changes_total", { kind: "cooler", state: "failed" }), 0);
  assert.equal(v("relay_tasks", { state: "running" }), 1);
  assert.equal(v("relay_tasks", { state: "pending" }), 0);
  assert.equal(v("relay_signal_missing_total", { signal: "metric" }), 1);
  assert.equal(v("relay_signal_missing_total", { signal: "target" }), 0);
  assert.equal(v("relay_warnings_total"), 1);
  assert.equal(v("relay_paused"), 0);

  assert.equal(v("relay_signal_read_seconds_count", { signal: "metric" }), 2);
  assert.equal(v("relay_signal_read_seconds_sum", { signal: "metric" }), 0.203);
  assert.equal(v("relay_signal_read_seconds_bucket", { signal: "metric", le: "0.005" }), 1);
  assert.equal(v("relay_signal_read_seconds_bucket", { signal: "metric", le: "0.25" }), 2);
  assert.equal(v("relay_signal_read_seconds_bucket", { signal: "metric", le: "+Inf" }), 2);
  assert.equal(v("relay_signal_read_seconds_bucket", { signal: "target", le: "0.001" }), 1);
  assert.equal(v("relay_tick_duration_seconds_count"), 1);
  assert.equal(v("relay_tick_duration_seconds_bucket", { le: "0.025" }), 1);
  assert.equal(v("relay_tick_duration_seconds_bucket", { le: "0.01" }), 0);

  // Every family says what it is; the local backend has no Mesos metrics.
  for (const fam of f.values()) {
    assert.ok(fam.help && fam.help.length > 0, `${fam.name} has HELP`);
    assert.notEqual(fam.type, "untyped", `${fam.name} has TYPE`);
  }
  assert.equal(f.get("relay_ticks_total")?.type, "counter");
  assert.equal(f.get("relay_paused")?.type, "gauge");
  assert.equal(f.get("relay_signal_read_seconds")?.type, "histogram");
  assert.ok(![...f.keys()].some((name) => name.startsWith("relay_mesos_")));

  control.paused = true;
  assert.equal(sampleValue(parsePrometheus(metrics.render()), "relay_paused"), 1);

  metrics.close();
  bus.emit(tickEvent(7));
  assert.equal(sampleValue(parsePrometheus(metrics.render()), "relay_ticks_total"), 6);
});

Deno.test("before the first tick the gauges have no sample, counters are zero", () => {
  const bus = new EventBus();
  const metrics = new RelayMetrics({ bus });
  const f = parsePrometheus(metrics.render());
  assert.deepEqual(f.get("relay_target")?.samples, []);
  assert.deepEqual(f.get("relay_tasks")?.samples, []);
  assert.equal(f.get("relay_target")?.type, "gauge");
  assert.equal(sampleValue(f, "relay_ticks_total"), 0);
  assert.equal(sampleValue(f, "relay_decisions_total", { action: "warm" }), 0);
  metrics.close();
});

Deno.test("Mesos metrics come from the backend snapshot, label values escaped", () => {
  const bus = new EventBus();
  let snapshot: BackendStatus | undefined = {
    connected: true,
    leader: "10.0.0.1:5050",
    frameworkId: "fw-1",
    offersReceived: 12,
    offersUsed: 5,
    offersDeclined: 6,
    offersRescinded: 1,
    updates: { TASK_RUNNING: 4, TASK_FAILED: 1, 'odd "state"\\\nx': 2 },
    reconnects: 2,
  };
  const metrics = new RelayMetrics({ bus, backend: () => snapshot });
  const text = metrics.render();
  assert.ok(text.includes('state="odd \\"state\\"\\\\\\nx"'), "escaped in the text");
  const f = parsePrometheus(text);
  assert.equal(sampleValue(f, "relay_mesos_connected"), 1);
  assert.equal(sampleValue(f, "relay_mesos_offers_total", { outcome: "used" }), 5);
  assert.equal(sampleValue(f, "relay_mesos_offers_total", { outcome: "declined" }), 6);
  assert.equal(sampleValue(f, "relay_mesos_offers_total", { outcome: "rescinded" }), 1);
  assert.equal(sampleValue(f, "relay_mesos_updates_total", { state: "TASK_RUNNING" }), 4);
  assert.equal(sampleValue(f, "relay_mesos_updates_total", { state: 'odd "state"\\\nx' }), 2);
  assert.equal(sampleValue(f, "relay_mesos_reconnects_total"), 2);
  assert.equal(f.get("relay_mesos_offers_total")?.type, "counter");

  snapshot = { ...snapshot, connected: false };
  assert.equal(sampleValue(parsePrometheus(metrics.render()), "relay_mesos_connected"), 0);
  snapshot = undefined;
  assert.equal(parsePrometheus(metrics.render()).has("relay_mesos_connected"), false);
  metrics.close();
});

Deno.test("Mesos wire counters: refused launches by kind, duplicate updates, rejected calls", () => {
  const bus = new EventBus();
  const base: BackendStatus = {
    connected: true,
    offersReceived: 0,
    offersUsed: 0,
    offersDeclined: 0,
    offersRescinded: 0,
    updates: {},
    reconnects: 0,
  };
  let snapshot: BackendStatus = base;
  const metrics = new RelayMetrics({ bus, backend: () => snapshot });
  // Absent counts read as zero: the refused-launch family always has both kinds.
  let f = parsePrometheus(metrics.render());
  assert.equal(sampleValue(f, "relay_mesos_launches_refused_total", { kind: "warmer" }), 0);
  assert.equal(sampleValue(f, "relay_mesos_launches_refused_total", { kind: "cooler" }), 0);
  assert.equal(sampleValue(f, "relay_mesos_duplicate_updates_total"), 0);
  assert.deepEqual(f.get("relay_mesos_calls_rejected_total")?.samples, []);
  snapshot = {
    ...base,
    launchesRefused: { warmer: 3 },
    duplicateUpdates: 2,
    callsRejected: { 400: 5, 403: 1 },
  };
  f = parsePrometheus(metrics.render());
  assert.equal(sampleValue(f, "relay_mesos_launches_refused_total", { kind: "warmer" }), 3);
  assert.equal(sampleValue(f, "relay_mesos_duplicate_updates_total"), 2);
  assert.equal(sampleValue(f, "relay_mesos_calls_rejected_total", { status: "400" }), 5);
  assert.equal(sampleValue(f, "relay_mesos_calls_rejected_total", { status: "403" }), 1);
  assert.equal(f.get("relay_mesos_calls_rejected_total")?.type, "counter");
  metrics.close();
});

Deno.test("escaping and value formatting follow the exposition format", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(0.25), "0.25");
});

Deno.test("the parser accepts valid text and reads labels, escapes and timestamps", () => {
  const f = parsePrometheus(
    [
      "# A free comment",
      "# HELP x_total Things with a \\\\ and\\nnewline.",
      "# TYPE x_total counter",
      'x_total{a="1",b="q\\"\\\\\\n",} 3 1700000000000',
      'x_total{a="2"} 1e3',
      "y NaN",
      "",
    ].join("\n"),
  );
  assert.equal(f.get("x_total")?.help, "Things with a \\ and\nnewline.");
  assert.deepEqual(f.get("x_total")?.samples[0], {
    name: "x_total",
    labels: { a: "1", b: 'q"\\\n' },
    value: 3,
    timestamp: 1700000000000,
  });
  assert.equal(sampleValue(f, "x_total", { a: "2" }), 1000);
  assert.equal(f.get("y")?.type, "untyped");
  assert.ok(Number.isNaN(sampleValue(f, "y")));
});

Deno.test("the parser refuses malformed text", () => {
  const bad: [string, RegExp][] = [
    ["a 1", /line feed/],
    ['a{b="1} 2\n', /unterminated|expected/],
    ['a{b="\\t"} 1\n', /bad escape/],
    ['a{1b="x"} 1\n', /label name/],
    ['a{b="1",b="2"} 1\n', /twice/],
    ["a one\n", /bad value/],
    ["a\n", /bad value part/],
    ["a 1\na 2\n", /duplicate/],
    ["a 1\n# TYPE a gauge\n", /TYPE of a after/],
    ["# TYPE a gauge\n# TYPE a gauge\na 1\n", /second TYPE/],
    ["# TYPE a frob\n", /unknown type/],
    ['a 1\nb 1\na{x="1"} 2\n', /not together/],
    ["# TYPE c counter\nc -1\n", /counter/],
    ["a 1\r\n", /carriage return/],
    [
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /cumulative/,
    ],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /\+Inf/],
    ['# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', /_count/],
    ["# TYPE h histogram\nh_bucket 1\n", /without le/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parsePrometheus(text), (err: unknown) => {
      assert.ok(err instanceof PrometheusFormatError, `${JSON.stringify(text)}: ${err}`);
      assert.match(err.message, message, JSON.stringify(text));
      return true;
    });
  }
});

Deno.test("launch backoff in /metrics: failures in a row and seconds held, by kind", async () => {
  const bus = new EventBus();
  const logged: string[] = [];
  const executor = new LocalExecutor({
    warmer: "no-such-command-relay-metrics",
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    taskTimeoutMs: 0,
    clock: systemClock,
    log: () => {},
  });
  const backoff = watchTaskFailures(executor, systemClock, (_l, m) => logged.push(m), {
    warmer: "no-such-command-relay-metrics",
  });
  const metrics = new RelayMetrics({ bus, launchBackoff: backoff });
  try {
    let f = parsePrometheus(metrics.render());
    assert.equal(sampleValue(f, "relay_launch_backoff_seconds", { kind: "warmer" }), 0);
    assert.equal(sampleValue(f, "relay_task_failures_in_a_row", { kind: "warmer" }), 0);
    const [id] = executor.launch("warmer", 1);
    const deadline = Date.now() + 3000;
    while (executor.tasks().find((t) => t.id === id)?.state !== "failed") {
      if (Date.now() > deadline) throw new Error("the task did not fail");
      await new Promise((r) => setTimeout(r, 10));
    }
    f = parsePrometheus(metrics.render());
    const held = sampleValue(f, "relay_launch_backoff_seconds", { kind: "warmer" })!;
    assert.ok(held > 0 && held <= 1, `held ${held} s`);
    assert.equal(sampleValue(f, "relay_task_failures_in_a_row", { kind: "warmer" }), 1);
    assert.equal(sampleValue(f, "relay_launch_backoff_seconds", { kind: "cooler" }), 0);
    assert.equal(f.get("relay_launch_backoff_seconds")?.type, "gauge");
    assert.ok(logged.some((m) => /command not found/.test(m)), logged.join("\n"));
  } finally {
    metrics.close();
    await executor.shutdown("kill", 0);
  }
});
