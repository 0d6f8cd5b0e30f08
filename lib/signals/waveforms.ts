/**
 * Targets that are functions of wall-clock time: sine and square waves, and a time-of-day table.
 * Pure: the caller passes the time, so tests check exact values at chosen instants.
 * @module
 */

import type { ScheduleSpec, SineSpec, SquareSpec } from "./spec.ts";

/**
 * min + (max − min)·(1 + sin(2π(t + phase)/period))/2, with t in seconds since the epoch.
 *
 * @example
 * ```ts
 * sineAt({ kind: "sine", period: 60, min: 0, max: 10, phase: 0 }, 0); // 5
 * ```
 */
export function sineAt(spec: SineSpec, nowMs: number): number {
  const t = nowMs / 1000 + spec.phase;
  return spec.min + ((spec.max - spec.min) * (1 + Math.sin((2 * Math.PI * t) / spec.period))) / 2;
}

/**
 * `high` for the first `duty` of each period, `low` for the rest.
 *
 * @example
 * ```ts
 * squareAt({ kind: "square", period: 60, low: 0, high: 5, duty: 0.5, phase: 0 }, 10_000); // 5
 * ```
 */
export function squareAt(spec: SquareSpec, nowMs: number): number {
  const t = nowMs / 1000 + spec.phase;
  const position = ((t % spec.period) + spec.period) % spec.period;
  return position < spec.duty * spec.period ? spec.high : spec.low;
}

/**
 * The value of the latest entry at or before the time of day (wrapping past midnight), in the
 * spec's time zone or local time.
 *
 * @example
 * ```ts
 * const entries = [{ secondOfDay: 0, value: 40 }, { secondOfDay: 8 * 3600, value: 5 }];
 * scheduleAt({ kind: "schedule", entries, tz: "UTC" }, Date.UTC(2026, 0, 1, 9)); // 5
 * ```
 */
export function scheduleAt(spec: ScheduleSpec, nowMs: number): number {
  const second = secondOfDay(nowMs, spec.tz);
  let value = spec.entries[spec.entries.length - 1].value;
  for (const entry of spec.entries) {
    if (entry.secondOfDay <= second) value = entry.value;
    else break;
  }
  return value;
}

/** One formatter per time zone: building an `Intl.DateTimeFormat` is costly, using one is not. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function secondOfDay(nowMs: number, tz: string | undefined): number {
  if (tz === undefined) {
    const d = new Date(nowMs);
    return d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds();
  }
  let format = formatters.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone: tz,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(tz, format);
  }
  const parts = format.formatToParts(new Date(nowMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  // Some engines write midnight as 24 even with h23; fold it back.
  return (get("hour") % 24) * 3600 + get("minute") * 60 + get("second");
}
