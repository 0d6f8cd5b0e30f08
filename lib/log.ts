/**
 * Turns bus events into log lines: readable text (one line per tick, with target, metric,
 * decision, reason and task counts) or JSON lines for log collectors.
 * @module
 */

import type { RelayEvent } from "./events.ts";
import { capLine } from "./redact.ts";

/** Longest message or string field logged (characters): a line stays a line. */
export const MAX_FIELD_CHARS = 8 * 1024;

/** Log severities, least severe first. */
export type Level = "debug" | "info" | "warn" | "error";

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Writes one finished line. */
export type Sink = (line: string) => void;

/** A logger for free-form messages (executor output, start-up notes). */
export type LogFn = (level: Level, message: string, fields?: Record<string, unknown>) => void;

/**
 * Creates a logger that writes lines of `format` at `minLevel` and above.
 *
 * @example
 * ```ts
 * const logger = createLogger("text", "info", (line) => console.log(line));
 * logger.log("info", "hello", { a: 1 }); // "2026-11-28T12:00:00.000Z info hello a=1"
 * ```
 */
export function createLogger(
  format: "text" | "json",
  minLevel: Level,
  sink: Sink,
  now: () => number = Date.now,
): { log: LogFn; event: (e: RelayEvent) => void } {
  const log: LogFn = (level, message, fields = {}) => {
    if (RANK[level] < RANK[minLevel]) return;
    message = capLine(message, MAX_FIELD_CHARS);
    fields = Object.fromEntries(
      Object.entries(fields).map((
        [k, v],
      ) => [k, typeof v === "string" ? capLine(v, MAX_FIELD_CHARS) : v]),
    );
    const time = new Date(now()).toISOString();
    if (format === "json") {
      sink(JSON.stringify({ time, level, msg: message, ...fields }));
    } else {
      const rest = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
        .join(" ");
      sink(`${time} ${level.padEnd(5)} ${message}${rest ? " " + rest : ""}`);
    }
  };
  const event = (e: RelayEvent) => {
    const [level, message, fields] = describe(e);
    if (format === "json") {
      if (RANK[level] >= RANK[minLevel]) {
        const { type, at, ...rest } = e;
        sink(JSON.stringify({ time: new Date(at).toISOString(), level, event: type, ...rest }));
      }
      return;
    }
    log(level, message, fields);
  };
  return { log, event };
}

function describe(e: RelayEvent): [Level, string, Record<string, unknown>] {
  switch (e.type) {
    case "start":
      return [
        "info",
        `started: executor ${e.executor}, law ${e.law}${e.dryRun ? ", dry run" : ""}`,
        {},
      ];
    case "tick": {
      const d = e.decision;
      const act = d.warmers > 0
        ? `start ${d.warmers} warmer${d.warmers > 1 ? "s" : ""}`
        : d.coolers > 0
        ? `start ${d.coolers} cooler${d.coolers > 1 ? "s" : ""}`
        : d.kills > 0
        ? `stop ${d.kills} warmer${d.kills > 1 ? "s" : ""}`
        : d.cancel
        ? `cancel ${d.cancel.count} waiting ${d.cancel.kind}${d.cancel.count > 1 ? "s" : ""}`
        : "wait";
      return [
        "info",
        `tick ${e.tick} target=${fmt(e.target)} metric=${fmt(e.metric)} -> ${act}` +
        `${e.dryRun && act !== "wait" ? " (dry run)" : ""} [${d.code}] (${d.reason})`,
        {
          running: e.running,
          pending: e.pending,
          ...pick(d.detail, ["shape", "input", "gainWarmer", "gainCooler"]),
        },
      ];
    }
    case "missing":
      return ["warn", `tick ${e.tick} missing ${e.signal} sample: ${e.reason}; no action`, {
        consecutive: e.consecutive,
      }];
    case "task": {
      const t = e.task;
      const level = t.state === "failed" || t.state === "lost" ? "warn" : "debug";
      return [level, `task ${t.id} ${t.kind} ${t.state}${t.reason ? `: ${t.reason}` : ""}`, {}];
    }
    case "warning":
      return ["warn", e.message, {}];
    case "backend": {
      // The backend says these itself, in its own words; here they are detail.
      const { kind, ...fields } = e.event;
      return ["debug", `backend ${kind}`, fields];
    }
    case "stop":
      return [
        "info",
        `stopped after ${e.ticks} tick${e.ticks === 1 ? "" : "s"}: ${e.reason}`,
        { exit: e.exitCode },
      ];
  }
}

function pick(
  detail: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in detail).map((k) => [k, detail[k]]));
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/0+$/, "");
}
