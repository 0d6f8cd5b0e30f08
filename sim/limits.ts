/**
 * Limits for simulations and tests: no caps, no cooldowns, no deadband, and which kinds of task
 * exist. The production limits come from the options (main.ts); these are the plain cases.
 * @module
 */

import type { Limits } from "../lib/control/types.ts";

/** Warmers only; cooling by stopping warmers (`--cooler-mode kill`). */
export const WARMERS_KILL: Limits = {
  maxPerTick: 0,
  maxRunning: 0,
  cooldownUp: 0,
  cooldownDown: 0,
  deadband: 0,
  coolerMode: "kill",
  hasWarmer: true,
  hasCooler: false,
};

/** Coolers only, launched as tasks. */
export const COOLERS: Limits = {
  ...WARMERS_KILL,
  coolerMode: "launch",
  hasWarmer: false,
  hasCooler: true,
};

/** Warmers only, launched; nothing cools but the warmers' effects ending (trigger tasks). */
export const WARMERS: Limits = {
  ...WARMERS_KILL,
  coolerMode: "launch",
  hasCooler: false,
};
