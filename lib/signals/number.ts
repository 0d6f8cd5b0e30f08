/**
 * Strict parsing of a sample's text into a number. A sample that is not a finite decimal number
 * is a missing sample, never a zero: `"12abc"`, `""`, `"NaN"` and `"Infinity"` are all refused.
 * @module
 */

import { SignalReadError } from "./types.ts";

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Whether `text` (already trimmed) is written as a decimal number: optional sign, digits with an
 * optional fraction, optional exponent. Says nothing about range (`1e999` is decimal).
 *
 * @example
 * ```ts
 * isDecimal("-2.5e3"); // true
 * isDecimal("0x10"); // false
 * ```
 */
export function isDecimal(text: string): boolean {
  return DECIMAL.test(text);
}

/**
 * Parses one sample.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parseSample(" 42\n"), 42);
 * assert.equal(parseSample("1e3"), 1000);
 * assert.throws(() => parseSample("12abc"), /not a number: "12abc"/);
 * ```
 */
export function parseSample(text: string): number {
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(value)) {
    const shown = trimmed.length > 40 ? `${trimmed.slice(0, 40)}…` : trimmed;
    throw new SignalReadError(`not a number: ${JSON.stringify(shown)}`);
  }
  return value;
}

/**
 * The last line of `text` that is not blank ("" when there is none).
 *
 * @example
 * ```ts
 * lastNonEmptyLine("a\nb\n\n"); // "b"
 * ```
 */
export function lastNonEmptyLine(text: string): string {
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].trim() !== "") return lines[i];
  }
  return "";
}
