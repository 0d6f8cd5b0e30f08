/**
 * One read of a signal spec with a timeout, as the byte-cap tests make it (in a process of their
 * own, `own_process.ts`, so that the memory they measure is the read's).
 * @module
 */

import { createSignal, readWithTimeout } from "../../lib/signals/sources.ts";

const CTX = { now: 0, tasks: { running: 0, pending: 0 } };

/** Reads `spec` once; the error message (or the value) and how long it took. */
export async function readOnce(
  spec: string,
  timeoutMs: number,
  maxBytes?: number,
): Promise<{ outcome: string | number; ms: number }> {
  const started = performance.now();
  const signal = createSignal(spec, maxBytes === undefined ? {} : { maxBytes });
  let outcome: string | number;
  try {
    outcome = await readWithTimeout(signal, CTX, timeoutMs);
  } catch (err) {
    outcome = (err as Error).message;
  }
  return { outcome, ms: performance.now() - started };
}
