/**
 * The 2015 Relay control law, kept for comparison (`--law classic`) and as the benchmark
 * baseline. From the original's published description and source (facts, re-implemented):
 * e = target − metric; the last `lookback` errors are kept; for the first ten ticks MV = sign(e);
 * after that MV = trunc(e − w·mean(errors)), where w weighs the error history's spectrum by the
 * phase of each frequency bin (w = 1 when the history has no variation). MV > 0 starts MV
 * warmers, MV < 0 starts |MV| coolers (or kills warmers in cooler mode `kill`). No limits of
 * its own: the shared limits stage (`limits.ts`) cuts its moves.
 * @module
 */

import { applyLimits } from "./limits.ts";
import type { ControlLaw, Decision, Limits, Move, Observation } from "./types.ts";
import { decide, noAction } from "./types.ts";

/**
 * The classic law.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyFacts } from "./facts.ts";
 * const limits = {
 *   maxPerTick: 0, maxRunning: 0, cooldownUp: 0, cooldownDown: 0, deadband: 0,
 *   coolerMode: "kill" as const, hasWarmer: true, hasCooler: false,
 * };
 * const law = new ClassicLaw(limits, 1000);
 * assert.equal(law.decide({ t: 0, target: 5, metric: 0, tasks: emptyFacts() }).warmers, 1);
 * ```
 */
export class ClassicLaw implements ControlLaw {
  readonly name = "classic";
  readonly #errors: number[] = [];
  readonly #lookback: number;
  readonly #limits: Limits;
  #ticks = 0;

  constructor(limits: Limits, lookback: number) {
    this.#limits = limits;
    this.#lookback = lookback;
  }

  decide(obs: Observation): Decision {
    const error = obs.target - obs.metric;
    this.#errors.push(error);
    if (this.#errors.length > this.#lookback) this.#errors.shift();
    const mean = this.#errors.reduce((a, b) => a + b, 0) / this.#errors.length;
    // The original ramps up: its first ten ticks only move by one task.
    const rampUp = ++this.#ticks <= 10;
    const w = rampUp ? 0 : spectralWeight(this.#errors);
    const mv = rampUp ? Math.sign(error) : Math.trunc(error - w * mean);
    const detail = { error, mean, weight: Math.round(w * 1000) / 1000, mv };
    if (Math.abs(error) <= this.#limits.deadband || mv === 0) {
      return noAction(`MV 0 (error ${round(error)})`, detail, mv === 0 ? "plan" : "deadband");
    }
    const n = Math.abs(mv);
    const move: Move = mv > 0
      ? { type: "start", kind: "warmer", n }
      : this.#limits.coolerMode === "kill"
      ? { type: "kill", n }
      : { type: "start", kind: "cooler", n };
    const limited = applyLimits(move, obs, this.#limits);
    const reason = `MV ${mv} (error ${round(error)})${limited.note ? `; ${limited.note}` : ""}`;
    return decide(limited.move, limited.code ?? "plan", reason, detail);
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * The classic law's weight. Over DFT bins k = 1..N/2−1 of the error history, with phase φ_k and
 * amplitude A_k: w = Σ_k [sin φ_k / I_k] · A_k / ΣA, where I_k = sin φ_k + Σ_{j=1..⌈N/k⌉}
 * |sin(φ_k − 2πjk/N)| integrates the bin's sine over one period back. 1 without variation.
 */
export function spectralWeight(errors: readonly number[]): number {
  const n = errors.length;
  const bins: { phase: number; amplitude: number }[] = [];
  let sumRe = 0;
  let sumIm = 0;
  for (let k = 1; k < Math.floor(n / 2); k++) {
    let re = 0;
    let im = 0;
    const step = (-2 * Math.PI * k) / n;
    // Rotate a unit phasor instead of calling cos/sin per term.
    const cs = Math.cos(step);
    const sn = Math.sin(step);
    let c = 1;
    let s = 0;
    for (let j = 0; j < n; j++) {
      re += errors[j] * c;
      im += errors[j] * s;
      [c, s] = [c * cs - s * sn, c * sn + s * cs];
    }
    sumRe += re;
    sumIm += im;
    bins.push({ phase: Math.atan2(im, re), amplitude: Math.hypot(re, im) });
  }
  const total = bins.reduce((a, b) => a + b.amplitude, 0);
  if (bins.length === 0 || (Math.abs(sumRe) < 1e-12 && Math.abs(sumIm) < 1e-12) || total === 0) {
    return 1;
  }
  let w = 0;
  bins.forEach(({ phase, amplitude }, i) => {
    const k = i + 1;
    const between = (2 * Math.PI * k) / n;
    let integral = Math.sin(phase);
    for (let j = 1; j <= Math.ceil(n / k); j++) integral += Math.abs(Math.sin(phase - j * between));
    if (integral !== 0) w += (Math.sin(phase) / integral) * (amplitude / total);
  });
  return w;
}
