/**
 * The tick series of a `--log-format json` run of relay.mesos, for end-to-end tests that judge
 * how well a run steered its plant: one record per tick (seconds since the first tick, target,
 * metric, tasks launched and killed, tasks running, the decision's reason), and a readable
 * summary in time bins for failure messages. Reads only the tick fields the log has always had
 * (`time`, `target`, `metric`, `launched`, `killed`, `running`) and treats the decision's fields
 * as optional text, so it does not depend on the shape of a law's decision detail.
 * @module
 */

import { jsonLines } from "./relay_process.ts";

/** One tick of a run. */
export interface TickPoint {
  /** Seconds since the first tick. */
  readonly t: number;
  readonly target: number;
  readonly metric: number;
  /** Tasks launched at this tick. */
  readonly launched: number;
  /** Warmers killed at this tick. */
  readonly killed: number;
  /** Tasks running as the tick was logged (the executor's view, not the plant's). */
  readonly running: number;
  /** The decision's reason text, if the log has one. */
  readonly reason: string;
}

/** The ticks of a JSON log, in order. */
export function tickSeries(stdout: string): TickPoint[] {
  const ticks = jsonLines(stdout).filter((e) => e.event === "tick");
  if (ticks.length === 0) return [];
  const t0 = Date.parse(String(ticks[0].time));
  return ticks.map((e) => {
    const decision = (e.decision ?? {}) as Record<string, unknown>;
    return {
      t: (Date.parse(String(e.time)) - t0) / 1000,
      target: Number(e.target),
      metric: Number(e.metric),
      launched: Array.isArray(e.launched) ? e.launched.length : 0,
      killed: Array.isArray(e.killed) ? e.killed.length : 0,
      running: Number(e.running ?? 0),
      reason: String(decision.reason ?? decision.kind ?? ""),
    };
  });
}

/** Tasks launched over a whole series. */
export function totalLaunched(series: readonly TickPoint[]): number {
  return series.reduce((a, p) => a + p.launched, 0);
}

/** Mean metric of the ticks at or after `fromS` seconds (NaN when there are none). */
export function meanMetricFrom(series: readonly TickPoint[], fromS: number): number {
  const part = series.filter((p) => p.t >= fromS);
  return part.reduce((a, p) => a + p.metric, 0) / part.length;
}

/**
 * One line per `binS` seconds: the target(s), the metric's mean and range, launches, kills,
 * tasks running at the end of the bin and the last reason. For failure messages.
 *
 * @example
 * ```ts
 * summarizeSeries(tickSeries(stdout), 3);
 * // "  0-3 s  target 0  metric mean 4.2 [0..9]  launched 3  killed 0  running 2  'too warm'"
 * ```
 */
export function summarizeSeries(series: readonly TickPoint[], binS: number): string {
  const lines: string[] = [];
  for (let from = 0; series.some((p) => p.t >= from); from += binS) {
    const bin = series.filter((p) => p.t >= from && p.t < from + binS);
    if (bin.length === 0) continue;
    const metrics = bin.map((p) => p.metric);
    const targets = [...new Set(bin.map((p) => p.target))].join("/");
    const mean = metrics.reduce((a, m) => a + m, 0) / metrics.length;
    const last = bin[bin.length - 1];
    lines.push(
      `  ${from}-${from + binS} s  target ${targets}  metric mean ${mean.toFixed(1)} ` +
        `[${Math.min(...metrics)}..${Math.max(...metrics)}]  ` +
        `launched ${bin.reduce((a, p) => a + p.launched, 0)}  ` +
        `killed ${bin.reduce((a, p) => a + p.killed, 0)}  running ${last.running}  ` +
        `'${last.reason}'`,
    );
  }
  return lines.join("\n");
}

/** The last `n` non-empty lines of a text (a relay's log), indented. */
export function lastLines(text: string, n: number): string {
  return text.split("\n").filter((l) => l.trim() !== "").slice(-n).map((l) => `  ${l}`).join(
    "\n",
  );
}
