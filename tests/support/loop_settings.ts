/**
 * The loop settings the loop tests start from: 1 s ticks, no end but the one a test sets, no
 * tolerance for missing samples, a 1 s read timeout; each test spreads what it changes over it.
 * @module
 */

import type { LoopSettings } from "../../lib/control/loop.ts";

export const LOOP_SETTINGS: LoopSettings = {
  delayMs: 1000,
  durationMs: 0,
  maxTicks: 0,
  maxMissing: 0,
  signalTimeoutMs: 1000,
  dryRun: false,
};
