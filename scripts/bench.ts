/**
 * `deno task bench`: control quality of the adaptive law beside the classic Relay law on simulated
 * plants in virtual time (seeded, reproducible), then the scheduler's overhead in real time
 * (`bench_scheduler.ts`). Writes bench/RESULTS.md; `--quick` runs a smaller scheduler part. The
 * fuller benchmark (HPA and KEDA baselines, charts) builds on this.
 * @module
 */

import { AdaptiveLaw } from "../lib/control/adaptive.ts";
import { ClassicLaw } from "../lib/control/classic.ts";
import type { ControlLaw, Limits } from "../lib/control/types.ts";
import {
  cpuPlant,
  levelPlant,
  type Plant,
  queuePlant,
  seededRandom,
  SimTasks,
  type TaskModel,
} from "./sim/plants.ts";
import { type SimScore, simulate } from "./sim/simulate.ts";
import { COOLERS, WARMERS_KILL } from "./sim/limits.ts";
import { HpaLaw, KedaScaledJobLaw, type Mapping } from "./sim/baselines.ts";
import { type Line, lineChart } from "./sim/svg.ts";
import { schedulerBench } from "./bench_scheduler.ts";

interface Scenario {
  readonly name: string;
  /** How HPA and KEDA see this plant, and what one task handles (their configuration). */
  readonly mapping: Mapping;
  readonly perTask: number;
  readonly limits: Limits;
  readonly model: TaskModel;
  readonly plant: (random: () => number) => Plant;
  readonly target: (t: number) => number;
  readonly duration: number;
}

const arrivals = (t: number) => (t < 200 ? 2 : t < 400 ? 8 : 0.5);

function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const k of [1, 0.1, 10]) {
    const tag = k === 1 ? "" : ` ×${k}`;
    out.push({
      name: `queue${tag}`,
      mapping: "backlog",
      perTask: 5 * k * 10,
      limits: COOLERS,
      model: { startDelay: 3, life: 10 },
      plant: () => queuePlant(arrivals, 5 * k),
      target: () => 0,
      duration: 600,
    });
    out.push({
      name: `consumers${tag}`,
      mapping: "count",
      perTask: k,
      limits: WARMERS_KILL,
      model: { startDelay: 2, life: "exp:120" },
      plant: () => levelPlant(k),
      target: (t) => (t < 300 ? 20 * k : 5 * k),
      duration: 600,
    });
    out.push({
      name: `cpu${tag}`,
      mapping: "capacity",
      perTask: 2 * k,
      limits: COOLERS,
      model: { startDelay: 2, life: 20 },
      plant: (r) => cpuPlant((t) => (t < 300 ? 30 : 10), 2 * k, 1, r),
      target: () => 0,
      duration: 600,
    });
  }
  out.push({
    name: "queue, starved 100-250 s",
    mapping: "backlog",
    perTask: 50,
    limits: COOLERS,
    model: { startDelay: 3, life: 10, starved: [[100, 250]] },
    plant: () => queuePlant(arrivals, 5),
    target: () => 0,
    duration: 600,
  });
  return out;
}

const LAWS: Record<string, (s: Scenario) => ControlLaw | undefined> = {
  adaptive: (s) => new AdaptiveLaw(s.limits, { initialEffect: 1, response: "auto" }),
  classic: (s) => new ClassicLaw(s.limits, 1000),
  hpa: (s) => new HpaLaw(s.limits, s.mapping, s.perTask),
  // ScaledJob scales jobs for a backlog; it has no notion of a level or a load to hold.
  keda: (s) => (s.mapping === "backlog" ? new KedaScaledJobLaw(s.limits, s.perTask) : undefined),
};

function run(s: Scenario, law: ControlLaw): SimScore {
  const random = seededRandom(42);
  return simulate({
    law,
    plant: s.plant(random),
    tasks: new SimTasks({ capacity: 2000, ...s.model }, random),
    target: s.target,
    duration: s.duration,
  });
}

const rows = [
  "| scenario | law | IAE | ISE | max overshoot | settling (s) | actions | tasks started | task-seconds |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
];
let crashed = false;
Deno.mkdirSync(new URL("../bench/", import.meta.url), { recursive: true });
const COLORS: Record<string, string> = {
  adaptive: "#1f77b4",
  classic: "#d62728",
  hpa: "#2ca02c",
  keda: "#ff7f0e",
};
const charts: string[] = [];
for (const s of scenarios()) {
  const lines: Line[] = [];
  for (const [law, make] of Object.entries(LAWS)) {
    const instance = make(s);
    if (!instance) {
      rows.push(`| ${s.name} | ${law} | n/a | | | | | | |`);
      continue;
    }
    try {
      const r = run(s, instance);
      if (lines.length === 0) {
        lines.push({
          label: "target",
          color: "#000",
          dashed: true,
          points: r.series.map((p) => ({ t: p.t, v: p.target })),
        });
      }
      lines.push({
        label: law,
        color: COLORS[law],
        points: r.series.map((p) => ({ t: p.t, v: p.metric })),
      });
      rows.push(
        `| ${s.name} | ${law} | ${r.iae.toFixed(0)} | ${r.ise.toExponential(2)} | ` +
          `${r.maxOvershoot.toFixed(1)} | ${
            Number.isFinite(r.settlingTime) ? r.settlingTime : "never"
          } | ${r.actions} | ${r.tasksStarted} | ${r.taskSeconds.toFixed(0)} |`,
      );
    } catch (err) {
      crashed = true;
      rows.push(`| ${s.name} | ${law} | crashed: ${(err as Error).message} | | | | | | |`);
    }
  }
  const file = `${s.name.replace(/[^a-z0-9.]+/gi, "-").replace(/-+$/, "")}.svg`;
  Deno.writeTextFileSync(new URL(`../bench/${file}`, import.meta.url), lineChart(s.name, lines));
  charts.push(`![${s.name}](${file})`);
}
const table = rows.join("\n");
console.log(table);
const text = [
  "# Benchmark results",
  "",
  "Control quality in virtual time (seed 42, 1 s ticks, 600 s per scenario, at most 2000 tasks",
  "alive). IAE = ∫|target − metric| dt. Lower is better everywhere. adaptive is our default law",
  "with default settings; classic is the 2015 Relay law; hpa is the Kubernetes HPA ratio law",
  "(tolerance 0.1) and keda KEDA ScaledJob's default strategy, both configured with what one task",
  "handles (a queue: items per consumer life; cpu: load per cooler; consumers: one per task).",
  "Settling: over the start and each step of the target, the longest time until the metric",
  "entered and stayed within ±max(5 % of the step, 1); with disturbances (arrival steps, random",
  "deaths, noise) that are not target steps, it often spans the whole segment.",
  "",
  table,
  "",
  "Target (dashed) and each controller's metric, per scenario:",
  "",
  ...charts.flatMap((c) => [c, ""]),
  await schedulerBench(Deno.args.includes("--quick")),
  `Generated by \`deno task bench\` on ${new Date().toISOString().slice(0, 10)}.`,
  "",
].join("\n");
Deno.writeTextFileSync(new URL("../bench/RESULTS.md", import.meta.url), text);
if (crashed) Deno.exit(1);
