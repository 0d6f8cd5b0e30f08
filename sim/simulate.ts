/**
 * Runs a control law against a simulated plant in virtual time and scores it: IAE, ISE, max
 * overshoot, settling time, actions, task-seconds and effect-seconds. The plant is moved by the
 * tasks whose effect is on (`SimTasks.effective`); the law sees only the executor's view of the
 * processes, and the target as a function of time (`targetAt`), as the loop gives it for a
 * target that is a known function of time. Used by the control-law tests and the benchmarks;
 * deterministic for a given seed.
 * @module
 */

import { summarizeTasks } from "../lib/control/facts.ts";
import type { ControlLaw, Decision } from "../lib/control/types.ts";
import type { Plant, SimTasks } from "./plants.ts";

/** One scenario run. */
export interface SimRun {
  readonly law: ControlLaw;
  readonly plant: Plant;
  readonly tasks: SimTasks;
  readonly target: (t: number) => number;
  /** Seconds simulated. */
  readonly duration: number;
  /** Seconds between ticks (default 1). */
  readonly dt?: number;
  /** Sub-steps of the plant per tick (default 10). */
  readonly substeps?: number;
  /** Ticks whose sample is lost (the law is not called), by tick index. */
  readonly missing?: (tick: number) => boolean;
}

/** Scores of one run. */
export interface SimScore {
  /** ∫|target − metric| dt. */
  readonly iae: number;
  /** ∫(target − metric)² dt. */
  readonly ise: number;
  /** Largest excursion past the target in the direction of the last big move. */
  readonly maxOvershoot: number;
  /**
   * Longest time, over the target's steps (and the start), until the metric entered and stayed
   * within a band of ±max(5 % of the step, 1) around the target; Infinity if it never settled.
   * Segments shorter than ten ticks (a moving target) are left out.
   */
  readonly settlingTime: number;
  /** Launch/kill decisions that did something. */
  readonly actions: number;
  readonly tasksStarted: number;
  /** Process task-seconds: what the cluster pays. */
  readonly taskSeconds: number;
  /** Seconds the tasks' effects were on (equal to task-seconds for workers). */
  readonly effectSeconds: number;
  /**
   * One point per tick, read after the tasks advanced and before the law decided: `effective`
   * tasks acting on the plant, `engaged` tasks pending, running or with an effect on or to come.
   */
  readonly series: {
    t: number;
    target: number;
    metric: number;
    effective: number;
    engaged: number;
    decision?: Decision;
  }[];
}

/**
 * Simulates `run.duration` seconds.
 *
 * @example
 * ```ts
 * const score = simulate({ law, plant, tasks, target: () => 0, duration: 600 });
 * score.iae;
 * ```
 */
export function simulate(run: SimRun): SimScore {
  const dt = run.dt ?? 1;
  const sub = run.substeps ?? 10;
  const series: SimScore["series"] = [];
  let iae = 0;
  let ise = 0;
  let actions = 0;
  let maxOvershoot = 0;
  const ticks = Math.round(run.duration / dt);
  for (let i = 0; i < ticks; i++) {
    const t = i * dt;
    run.tasks.advance(t);
    const effective = acting(run.tasks, t);
    run.plant.step(t, 0, effective);
    const metric = run.plant.read();
    const target = run.target(t);
    let decision: Decision | undefined;
    if (!run.missing?.(i)) {
      decision = run.law.decide({
        t,
        target,
        metric,
        tasks: summarizeTasks(run.tasks.views(), t * 1000),
        targetAt: run.target,
      });
      if (decision.warmers > 0) run.tasks.launch("warmer", decision.warmers, t);
      if (decision.coolers > 0) run.tasks.launch("cooler", decision.coolers, t);
      if (decision.kills > 0) run.tasks.kill("warmer", decision.kills, t);
      if (decision.cancel) run.tasks.cancel(decision.cancel.kind, decision.cancel.count, t);
      if (
        decision.warmers + decision.coolers + decision.kills + (decision.cancel?.count ?? 0) > 0
      ) {
        actions++;
      }
    }
    series.push({
      t,
      target,
      metric,
      effective: effective.warmer + effective.cooler,
      engaged: run.tasks.engaged("warmer", t) + run.tasks.engaged("cooler", t),
      decision,
    });
    for (let k = 0; k < sub; k++) {
      const ts = t + (k * dt) / sub;
      run.tasks.advance(ts);
      run.plant.step(ts, dt / sub, acting(run.tasks, ts));
      const err = run.target(ts) - run.plant.read();
      iae += Math.abs(err) * (dt / sub);
      ise += err * err * (dt / sub);
    }
  }
  // Overshoot: after each change of target, how far the metric went past the new target once
  // it had reached it, against the direction it came from.
  let from = 0;
  for (let i = 0; i < series.length; i++) {
    const p = series[i];
    const err = p.target - p.metric;
    if (i > 0 && p.target !== series[i - 1].target) from = 0;
    if (from === 0) {
      from = Math.sign(err);
    } else if (Math.sign(err) === -from) {
      maxOvershoot = Math.max(maxOvershoot, Math.abs(err));
    }
  }
  const end = ticks * dt;
  return {
    iae,
    ise,
    maxOvershoot,
    settlingTime: settling(series, dt),
    actions,
    tasksStarted: run.tasks.started,
    taskSeconds: run.tasks.totalTaskSeconds(end),
    effectSeconds: run.tasks.totalEffectSeconds(end),
    series,
  };
}

/** The counts of tasks whose effect is on at `t`, per kind: what moves the plant. */
function acting(tasks: SimTasks, t: number): Record<"warmer" | "cooler", number> {
  return { warmer: tasks.effective("warmer", t), cooler: tasks.effective("cooler", t) };
}

function settling(series: SimScore["series"], dt: number): number {
  let worst = 0;
  let start = 0;
  for (let i = 1; i <= series.length; i++) {
    if (i < series.length && series[i].target === series[i - 1].target) continue;
    const segment = series.slice(start, i);
    if (segment.length >= 10) {
      const step = start === 0
        ? Math.abs(segment[0].target - segment[0].metric)
        : Math.abs(segment[0].target - series[start - 1].target);
      const band = Math.max(0.05 * step, 1);
      // The last tick outside the band; settled from the tick after it.
      let last = -1;
      segment.forEach((p, k) => {
        if (Math.abs(p.target - p.metric) > band) last = k;
      });
      worst = Math.max(worst, last === segment.length - 1 ? Infinity : (last + 1) * dt);
    }
    start = i;
  }
  return worst;
}
