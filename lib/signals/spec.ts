/**
 * Parses a signal spec string (the value of `--metric` or `--target`) into a typed description.
 * Pure: no I/O, so every malformed spec is refused before anything starts, with a message that
 * says what is wrong.
 * @module
 */

import { isDecimal } from "./number.ts";
import { SignalSpecError } from "./types.ts";

/** One entry of a time-of-day table: from `secondOfDay` on, the value is `value`. */
export interface ScheduleEntry {
  readonly secondOfDay: number;
  readonly value: number;
}

/** A parsed signal spec. */
export type SignalSpec =
  | { readonly kind: "constant"; readonly value: number }
  | { readonly kind: "cmd"; readonly command: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "http"; readonly url: string; readonly pointer?: string }
  | {
    readonly kind: "sine";
    readonly period: number;
    readonly min: number;
    readonly max: number;
    readonly phase: number;
  }
  | {
    readonly kind: "square";
    readonly period: number;
    readonly low: number;
    readonly high: number;
    readonly duty: number;
    readonly phase: number;
  }
  | { readonly kind: "schedule"; readonly entries: readonly ScheduleEntry[]; readonly tz?: string }
  | { readonly kind: "tasks"; readonly state: "running" | "pending" }
  | { readonly kind: "module"; readonly path: string; readonly exportName: string };

/** A signal as the options give it: the spec's text (for messages) and its parsed form. */
export interface ParsedSignal {
  /** As given, trimmed: what logs and messages show. */
  readonly text: string;
  readonly spec: SignalSpec;
}

/** The `sine:` variant of {@linkcode SignalSpec}. */
export type SineSpec = Extract<SignalSpec, { kind: "sine" }>;
/** The `square:` variant of {@linkcode SignalSpec}. */
export type SquareSpec = Extract<SignalSpec, { kind: "square" }>;
/** The `schedule:` variant of {@linkcode SignalSpec}. */
export type ScheduleSpec = Extract<SignalSpec, { kind: "schedule" }>;

const KINDS = "a number, cmd:, file:, http(s)://, sine:, square:, schedule:, tasks:, module:";

/**
 * Parses a spec string into a {@linkcode SignalSpec}, or throws {@linkcode SignalSpecError}
 * with a one-line message naming the problem. Surrounding blanks are ignored; kinds are
 * case-insensitive.
 *
 * @example
 * ```ts
 * parseSignalSpec("0"); // { kind: "constant", value: 0 }
 * parseSignalSpec("sine:period=600,min=0,max=40"); // { kind: "sine", period: 600, ... }
 * parseSignalSpec("http://localhost:9000/stats#/queue/depth"); // pointer "/queue/depth"
 * ```
 */
export function parseSignalSpec(spec: string): SignalSpec {
  const text = spec.trim();
  if (text === "") throw new SignalSpecError(`empty signal spec (expected ${KINDS})`);
  if (isDecimal(text)) {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new SignalSpecError(`number out of range: ${text}`);
    return { kind: "constant", value };
  }
  if (/^https?:\/\//i.test(text)) return parseHttp(text);
  const colon = text.indexOf(":");
  const kind = colon > 0 ? text.slice(0, colon).toLowerCase() : "";
  const rest = colon > 0 ? text.slice(colon + 1) : "";
  switch (kind) {
    case "cmd":
      if (rest.trim() === "") throw new SignalSpecError("cmd: empty command");
      return { kind: "cmd", command: rest };
    case "file":
      if (rest.trim() === "") throw new SignalSpecError("file: empty path");
      return { kind: "file", path: rest.trim() };
    case "sine": {
      const p = keyValues("sine", rest, ["period", "min", "max", "phase"], [
        "period",
        "min",
        "max",
      ]);
      positive("sine", "period", p.period);
      if (p.max < p.min) throw new SignalSpecError(`sine: max (${p.max}) is below min (${p.min})`);
      return { kind: "sine", period: p.period, min: p.min, max: p.max, phase: p.phase ?? 0 };
    }
    case "square": {
      const p = keyValues("square", rest, ["period", "low", "high", "duty", "phase"], [
        "period",
        "low",
        "high",
      ]);
      positive("square", "period", p.period);
      const duty = p.duty ?? 0.5;
      if (!(duty > 0 && duty < 1)) {
        throw new SignalSpecError(`square: duty must be between 0 and 1, got ${duty}`);
      }
      return {
        kind: "square",
        period: p.period,
        low: p.low,
        high: p.high,
        duty,
        phase: p.phase ?? 0,
      };
    }
    case "schedule":
      return parseSchedule(rest);
    case "tasks": {
      const state = rest.trim();
      if (state !== "running" && state !== "pending") {
        throw new SignalSpecError(`tasks: expected tasks:running or tasks:pending, got "${text}"`);
      }
      return { kind: "tasks", state };
    }
    case "module": {
      const hash = rest.lastIndexOf("#");
      const path = (hash === -1 ? rest : rest.slice(0, hash)).trim();
      const exportName = hash === -1 ? "default" : rest.slice(hash + 1).trim();
      if (path === "") throw new SignalSpecError("module: empty path");
      if (!/^[A-Za-z_$][\w$]*$/.test(exportName)) {
        throw new SignalSpecError(`module: bad export name "${exportName}"`);
      }
      return { kind: "module", path, exportName };
    }
    default:
      throw new SignalSpecError(
        `unknown signal kind ${JSON.stringify(kind ? kind + ":" : text)} (expected ${KINDS})`,
      );
  }
}

function parseHttp(text: string): SignalSpec {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SignalSpecError(`http: not a valid URL: ${text}`);
  }
  if (url.hostname === "") throw new SignalSpecError(`http: URL has no host: ${text}`);
  const fragment = url.hash.slice(1);
  url.hash = "";
  if (fragment === "") return { kind: "http", url: url.href };
  let pointer: string;
  try {
    pointer = decodeURIComponent(fragment);
  } catch {
    throw new SignalSpecError(`http: bad percent-encoding in fragment "#${fragment}"`);
  }
  if (!pointer.startsWith("/")) {
    throw new SignalSpecError(
      `http: the fragment must be a JSON pointer starting with /, got "#${fragment}"`,
    );
  }
  return { kind: "http", url: url.href, pointer };
}

function keyValues<K extends string, R extends K>(
  kind: string,
  text: string,
  allowed: readonly K[],
  required: readonly R[],
): Record<R, number> & Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const key = (eq === -1 ? part : part.slice(0, eq)).trim() as K;
    const raw = eq === -1 ? "" : part.slice(eq + 1).trim();
    if (!allowed.includes(key)) {
      throw new SignalSpecError(`${kind}: unknown key "${key}" (expected ${allowed.join(", ")})`);
    }
    if (key in out) throw new SignalSpecError(`${kind}: "${key}" given twice`);
    if (!isDecimal(raw) || !Number.isFinite(Number(raw))) {
      throw new SignalSpecError(`${kind}: ${key} must be a number, got "${raw}"`);
    }
    out[key] = Number(raw);
  }
  for (const key of required) {
    if (!(key in out)) throw new SignalSpecError(`${kind}: missing "${key}"`);
  }
  return out as Record<R, number> & Partial<Record<K, number>>;
}

function positive(kind: string, key: string, value: number): void {
  if (!(value > 0)) throw new SignalSpecError(`${kind}: ${key} must be > 0, got ${value}`);
}

function parseSchedule(text: string): SignalSpec {
  const entries: ScheduleEntry[] = [];
  let tz: string | undefined;
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq === -1) throw new SignalSpecError(`schedule: expected HH:MM=VALUE, got "${part}"`);
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (key === "tz") {
      if (tz !== undefined) throw new SignalSpecError(`schedule: "tz" given twice`);
      if (!isTimeZone(raw)) throw new SignalSpecError(`schedule: unknown time zone "${raw}"`);
      tz = raw;
      continue;
    }
    const secondOfDay = parseTimeOfDay(key);
    if (secondOfDay === undefined) {
      throw new SignalSpecError(`schedule: bad time "${key}" (expected HH:MM or HH:MM:SS)`);
    }
    if (!isDecimal(raw) || !Number.isFinite(Number(raw))) {
      throw new SignalSpecError(`schedule: value at ${key} must be a number, got "${raw}"`);
    }
    if (entries.some((e) => e.secondOfDay === secondOfDay)) {
      throw new SignalSpecError(`schedule: time ${key} given twice`);
    }
    entries.push({ secondOfDay, value: Number(raw) });
  }
  if (entries.length === 0) throw new SignalSpecError("schedule: no HH:MM=VALUE entries");
  entries.sort((a, b) => a.secondOfDay - b.secondOfDay);
  return tz === undefined ? { kind: "schedule", entries } : { kind: "schedule", entries, tz };
}

/** `HH:MM` or `HH:MM:SS` (00:00 to 23:59:59) as seconds since midnight; undefined if malformed. */
function parseTimeOfDay(text: string): number | undefined {
  const m = text.match(/^(\d{1,2}):(\d{2})(?::(\d{2}))?$/);
  if (!m) return undefined;
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || min > 59 || sec > 59) return undefined;
  return h * 3600 + min * 60 + sec;
}

function isTimeZone(tz: string): boolean {
  if (tz === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
