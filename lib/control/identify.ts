/**
 * Online identification of how tasks move the metric. Every candidate input of `response.ts`
 * is fitted in two shapes, each a three-coefficient regression of the metric's change over a
 * tick, Δm:
 *
 * - `level` (a task adds to the metric while it acts: a consumer count, a load):
 *   Δm ≈ g_w·Δx_w + g_c·Δx_c, with x the acting tasks at the sample times (no drift: the base
 *   is steady, and a step of it is one clipped outlier);
 * - `rate` (a task changes the metric's slope: a queue): Δm ≈ (d + g_w·x̄_w + g_c·x̄_c)·Δt,
 *   with x̄ the acting tasks on average over the tick and d the outside drift (arrivals).
 *
 * Each fit is a {@linkcode Kalman3} (the coefficients may wander; with no excitation they stay
 * and only grow uncertain), scored by its one-step prediction error before it sees the sample
 * (so a model that merely fits noise gains nothing). The best score, with a small penalty for
 * elaborate inputs and a margin against switching, is the model the planner uses. A sample at a
 * floor the metric rests on (an empty queue) is censored: it bounds what the tasks did one way
 * (`Bound`: a queue is pushed back up at its floor, a level is cut at it), so it enters a fit
 * only where the fit's prediction is past that bound, and then teaches its gains, not its
 * drift; its first touches, before it was known as a floor, are learned again, censored, once
 * it is. A whole-number metric one item above its floor (a polled queue's item that came since
 * the last take) agrees with a rate fit that predicted the queue would empty within the tick.
 * Pure: the caller passes times and facts.
 * @module
 */

import type { TaskKind } from "../executor/types.ts";
import { Kalman3 } from "./kalman.ts";
import type { StartLedger } from "./ledger.ts";
import { candidateInputs, type Input, runningActing, runningActingAverage } from "./response.ts";
import { TUNING } from "./tuning.ts";

/** Each kind's coefficient in a fit's state, the sign it is meant to have, and a flag bit. */
const KIND_INDEX = [
  { name: "warmer", index: 1, sign: 1, bit: 1 },
  { name: "cooler", index: 2, sign: -1, bit: 2 },
] as const;

/** How a task's acting moves the metric. */
export type Shape = "level" | "rate";

/** What identification believes now. Gains per acting task: units (level) or units/s (rate). */
export interface ResponseModel {
  readonly shape: Shape;
  readonly input: Input;
  /** Outside drift per second (rate: arrivals; level: a slow change of the base). */
  readonly drift: number;
  readonly gain: Readonly<Record<TaskKind, number>>;
  readonly sd: Readonly<{ drift: number; warmer: number; cooler: number }>;
  /** Standard deviation of one tick's unexplained change of the metric. */
  readonly noise: number;
  /** Samples that updated the chosen fit (censored ones only where they contradicted it). */
  readonly samples: number;
  /**
   * The lowest value the metric rests on (an empty queue), once seen repeatedly; for a rate
   * model only (a level is not held at its lowest value).
   */
  readonly floor?: number;
  /** The model's one-step prediction score (mean surprise per sample, lower is better). */
  readonly score: number;
}

/** What identification is told each tick. */
export interface SampleFacts {
  readonly t: number;
  readonly metric: number;
  /** Ages (seconds) of the running tasks per kind. */
  readonly ages: Readonly<Record<TaskKind, readonly number[]>>;
}

/** Settings of {@linkcode Identifier}. */
export interface IdentifierOptions {
  /** First guess of one task's effect magnitude, in metric units (per second for a rate). */
  readonly prior: number;
  /** Shapes allowed (`--response`): both, or one. */
  readonly shapes: readonly Shape[];
}

interface Fit {
  readonly shape: Shape;
  readonly input: Input;
  readonly penalty: number;
  readonly kf: Kalman3;
  score: number;
  noiseVar: number;
  samples: number;
  /** Samples scored (those every shape could use). */
  scored: number;
  /** Innovations beyond two sigmas in a row, signed: a change of the drift (arrivals step). */
  run: number;
}

/** A fit's learned state, kept to learn some samples again. */
interface FitState {
  readonly theta: Float64Array;
  readonly cov: Float64Array;
  readonly score: number;
  readonly noiseVar: number;
  readonly samples: number;
  readonly scored: number;
  readonly run: number;
}

/**
 * Which way a sample at a floor bounds the change of the metric a fit explains, z. A queue
 * (rate) is pushed back up at its floor: what it shows is the fit's change plus a push of zero
 * or more, so z is an `upper` bound either side of a touch. A level is cut at its floor: the
 * metric is the larger of the floor and what the tasks make of the base. Landing on it, the
 * level fell at least as far as z (`upper`); leaving it, the level came from at or under the
 * floor, so it rose at least z (`lower`): with no task changed, a level cannot have risen,
 * and the sample says so.
 */
type Bound = "none" | "upper" | "lower";

/**
 * The best fits at one sample: `ranked` as the model to plan with is chosen (`#rank`), `plain`
 * by score and complexity alone (the data's own preference), `level` and `rate` the plain best
 * of each shape.
 */
interface BestFits {
  readonly ranked?: Fit;
  readonly plain?: Fit;
  readonly level?: Fit;
  readonly rate?: Fit;
}

/** The identifier's learned state at one sample. */
interface Checkpoint {
  readonly fits: readonly FitState[];
  readonly lasts: readonly Record<TaskKind, number>[];
  /** Index of the chosen fit in `fits`, or -1. */
  readonly chosen: number;
  readonly prev?: { t: number; metric: number };
  readonly challenger?: { since: number };
}

interface InputState {
  readonly input: Input;
  /** Acting tasks at the previous sample, per kind. */
  last: Record<TaskKind, number>;
  readonly fits: Fit[];
}

/**
 * The identifier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StartLedger } from "./ledger.ts";
 * const id = new Identifier({ prior: 1, shapes: ["level", "rate"] });
 * id.observe({ t: 0, metric: 5, ages: { warmer: [], cooler: [] } }, new StartLedger(150));
 * assert.equal(id.best().shape, "level"); // the first shape, until the data say otherwise
 * ```
 */
export class Identifier {
  readonly #opts: IdentifierOptions;
  readonly #inputs: InputState[] = [];
  #prev?: { t: number; metric: number };
  #chosen?: Fit;
  /** The best-ranked fit at the last sample (the chosen one, or one that may replace it). */
  #leader?: Fit;
  #challenger?: { since: number };
  /** The best fits at the last sample, by each ranking (see #survey). */
  #best: BestFits = {};
  /** Scratch arrays of #apply and #learn, so that learning a sample allocates nothing per fit. */
  readonly #phiLevel = new Float64Array(3);
  readonly #phiRate = new Float64Array(3);
  readonly #walk = new Float64Array(3);
  #floor?: { value: number; seen: number };
  /** Every finite metric so far was a whole number (its grain is then 1). */
  #whole = true;
  /** Samples resting on a value that may turn out to be a floor, and the state before them. */
  #pending?: { checkpoint: Checkpoint; held: SampleFacts[] };
  /** Tasks seen running, summed over samples, per kind (a task seen at three samples is 3). */
  readonly #seenRunning: Record<TaskKind, number> = { warmer: 0, cooler: 0 };
  /** Running-count fits are blind (see #blind) at the last sample. */
  #runningBlind = false;

  constructor(opts: IdentifierOptions) {
    this.#opts = opts;
  }

  /** Feeds one sample. `ledger` holds the starts asked for before this sample. */
  observe(sample: SampleFacts, ledger: StartLedger): void {
    if (this.#inputs.length === 0) this.#init(sample.metric);
    // A floor is a value the metric rests on while something pushes it down (coolers acting
    // or just started): an empty queue. A level at its lowest with nothing pushing is not one.
    const pushedDown = sample.ages.cooler.length > 0 ||
      ledger.countSince("cooler", sample.t - TUNING.floorPush) > 0;
    const known = this.#floorValue() !== undefined;
    this.#trackFloor(sample.metric, pushedDown);
    this.#seenRunning.warmer += sample.ages.warmer.length;
    this.#seenRunning.cooler += sample.ages.cooler.length;
    if (!known) this.#watchFloor(sample, ledger);
    this.#apply(sample, ledger);
    this.#runningBlind = this.#blindNow(ledger);
    this.#choose();
  }

  /** True when `metric` rests on the known floor (within its tolerance). */
  restsOnFloor(metric: number): boolean {
    const floor = this.#floorValue();
    return floor !== undefined && metric <= floor + this.#floorTolerance();
  }

  /**
   * Until a floor is known, the samples that rest on the lowest value yet seen are learned as
   * they come, but the state from before the first of them is kept: once that value turns out
   * to be a floor, they are learned again as what they were, censored (an empty queue says
   * only that the tasks did at least that much). Learned as plain samples, the first touches of
   * an empty queue would tell every fit that the tasks stopped working, and set the drift free.
   */
  #watchFloor(sample: SampleFacts, ledger: StartLedger): void {
    const candidate = this.#floor;
    // One grain above the candidate rests on it too (see #apply): those are touches as well.
    const near = Math.max(this.#floorTolerance(), this.#grain());
    const resting = candidate !== undefined && candidate.seen > 0 &&
      sample.metric <= candidate.value + near;
    if (!resting) {
      this.#pending = undefined;
      return;
    }
    if (this.#floorValue() !== undefined && this.#pending) {
      // The value is a floor now: back to before its first touch, then learn those samples
      // again, censored (the current one follows in observe).
      const { checkpoint, held } = this.#pending;
      this.#pending = undefined;
      this.#restore(checkpoint);
      for (const h of held) {
        this.#apply(h, ledger);
        this.#choose();
      }
      return;
    }
    if (!this.#pending) this.#pending = { checkpoint: this.#save(), held: [] };
    if (this.#pending.held.length >= TUNING.floorReplayMax) this.#pending = undefined;
    else this.#pending.held.push(sample);
  }

  #apply(sample: SampleFacts, ledger: StartLedger): void {
    const prev = this.#prev;
    this.#prev = { t: sample.t, metric: sample.metric };
    const dt = prev ? sample.t - prev.t : 0;
    // At a floor (an empty queue) a change bounds what the tasks did, one way: a sample
    // touching the floor is censored, and enters a fit (and its score) only where the fit's
    // prediction is on the wrong side of what was seen (`Bound`).
    const atPrev = prev !== undefined && this.restsOnFloor(prev.metric);
    const atNow = prev !== undefined && this.restsOnFloor(sample.metric);
    const rateBound: Bound = atPrev || atNow ? "upper" : "none";
    const levelBound: Bound = atNow ? "upper" : atPrev ? "lower" : "none";
    // A whole-number metric one grain above its floor (a queue reading 1: an item that came
    // since the consumers' last take) is what an emptied queue shows: to a rate fit that
    // predicts the queue reaches its floor within the tick, that reading agrees (see #learn).
    const floor = this.#floorValue();
    const grain = this.#grain();
    const toFloor = prev !== undefined && floor !== undefined && grain > 0 &&
        sample.metric <= floor + grain
      ? floor - prev.metric
      : undefined;
    const dm = prev ? sample.metric - prev.metric : 0;
    const z = Number.isFinite(dm) ? dm : 0;
    const warmers = ledger.index("warmer");
    const coolers = ledger.index("cooler");
    for (const state of this.#inputs) {
      // Per kind written out (not a loop over kind names): this runs for every input each tick.
      const input = state.input;
      const last = state.last;
      let nowWarmer: number, nowCooler: number, meanWarmer: number, meanCooler: number;
      if (input.type === "running") {
        nowWarmer = runningActing(sample.ages.warmer, input.warmup);
        nowCooler = runningActing(sample.ages.cooler, input.warmup);
        meanWarmer = runningActingAverage(sample.ages.warmer, input.warmup, dt, last.warmer);
        meanCooler = runningActingAverage(sample.ages.cooler, input.warmup, dt, last.cooler);
      } else {
        // From the ledger as it is now at both ends, so that a start cancelled since the
        // last sample (it never ran) counts at neither.
        nowWarmer = warmers.acting(input, sample.t);
        nowCooler = coolers.acting(input, sample.t);
        if (prev) {
          meanWarmer = warmers.average(input, prev.t, sample.t);
          meanCooler = coolers.average(input, prev.t, sample.t);
          last.warmer = warmers.acting(input, prev.t);
          last.cooler = coolers.acting(input, prev.t);
        } else {
          meanWarmer = nowWarmer;
          meanCooler = nowCooler;
        }
      }
      if (prev && dt > 0) {
        // The regressors depend on the shape only: one array of each per input, reused.
        const level = this.#phiLevel;
        level[0] = dt;
        level[1] = nowWarmer - last.warmer;
        level[2] = nowCooler - last.cooler;
        const rate = this.#phiRate;
        rate[0] = dt;
        rate[1] = meanWarmer * dt;
        rate[2] = meanCooler * dt;
        for (const fit of state.fits) {
          if (fit.shape === "level") this.#learn(fit, level, z, dt, levelBound);
          else this.#learn(fit, rate, z, dt, rateBound, toFloor);
        }
      }
      last.warmer = nowWarmer;
      last.cooler = nowCooler;
    }
  }

  #save(): Checkpoint {
    const fits: FitState[] = [];
    const lasts: Record<TaskKind, number>[] = [];
    let chosen = -1;
    for (const s of this.#inputs) {
      lasts.push({ ...s.last });
      for (const f of s.fits) {
        if (f === this.#chosen) chosen = fits.length;
        fits.push({
          theta: Float64Array.from(f.kf.theta),
          cov: Float64Array.from(f.kf.cov),
          score: f.score,
          noiseVar: f.noiseVar,
          samples: f.samples,
          scored: f.scored,
          run: f.run,
        });
      }
    }
    return {
      fits,
      lasts,
      chosen,
      prev: this.#prev,
      challenger: this.#challenger && { ...this.#challenger },
    };
  }

  #restore(c: Checkpoint): void {
    let i = 0;
    this.#chosen = undefined;
    this.#inputs.forEach((s, k) => {
      s.last = { ...c.lasts[k] };
      for (const f of s.fits) {
        const saved = c.fits[i];
        f.kf.theta.set(saved.theta);
        f.kf.cov.set(saved.cov);
        f.score = saved.score;
        f.noiseVar = saved.noiseVar;
        f.samples = saved.samples;
        f.scored = saved.scored;
        f.run = saved.run;
        if (i === c.chosen) this.#chosen = f;
        i++;
      }
    });
    this.#prev = c.prev;
    this.#challenger = c.challenger;
  }

  /** The value the metric rests on while pushed down (an empty queue), once seen repeatedly. */
  floor(): number | undefined {
    return this.#floorValue();
  }

  /** The model to plan with. */
  best(): ResponseModel {
    const fit = this.#chosen ?? this.#inputs[0]?.fits[0];
    if (!fit) {
      const p = this.#opts.prior;
      return {
        shape: this.#opts.shapes[0],
        input: { type: "running", warmup: 0 },
        drift: 0,
        gain: { warmer: p, cooler: -p },
        sd: {
          drift: Infinity,
          warmer: p * TUNING.priorGainSpread,
          cooler: p * TUNING.priorGainSpread,
        },
        noise: 0,
        samples: 0,
        score: 0,
      };
    }
    return this.#modelOf(fit);
  }

  /** The best model of the other shape (for reports), if that shape is allowed. */
  bestOf(shape: Shape): ResponseModel | undefined {
    const best = this.#best[shape];
    return best && this.#modelOf(best);
  }

  /**
   * The best-ranked model now: the one planned with, or a challenger leading it that has not
   * yet led for long enough to replace it (see `switchSamples`).
   */
  leader(): ResponseModel {
    return this.#leader ? this.#modelOf(this.#leader) : this.best();
  }

  /**
   * The `n` best fits, best first, ranked as the model to plan with is chosen, or with
   * `signPenalty` false without the penalty for a wrong sign (the data's own preference).
   */
  ranking(n: number, signPenalty = true): ResponseModel[] {
    if (n === 1) {
      // The best alone (asked every tick): found by the last sample's survey, not a sort.
      const best = signPenalty ? this.#best.ranked : this.#best.plain;
      return best ? [this.#modelOf(best)] : [];
    }
    const key = (f: Fit) => signPenalty ? this.#rank(f) : f.score + f.penalty;
    const all = this.#inputs.flatMap((s) => s.fits);
    all.sort((a, b) => key(a) - key(b));
    return all.slice(0, n).map((f) => this.#modelOf(f));
  }

  #modelOf(fit: Fit): ResponseModel {
    const th = fit.kf.theta;
    const floor = this.#floorValue();
    return {
      shape: fit.shape,
      input: fit.input,
      drift: th[0],
      gain: { warmer: th[1], cooler: th[2] },
      sd: { drift: fit.kf.sd(0), warmer: fit.kf.sd(1), cooler: fit.kf.sd(2) },
      noise: Math.sqrt(fit.noiseVar),
      samples: fit.samples,
      score: fit.score,
      ...(floor === undefined || fit.shape !== "rate" ? {} : { floor }),
    };
  }

  #init(metric: number): void {
    const p = this.#opts.prior;
    const spread = p * TUNING.priorGainSpread;
    const driftSd = Math.max(10 * p, Math.abs(metric), 1e-9);
    for (const input of candidateInputs()) {
      const penalty = input.type === "running"
        ? (input.warmup === 0 ? TUNING.complexity.running : TUNING.complexity.warmup)
        : TUNING.complexity[input.type];
      // A rate that acts for a tick or two is a step of the level at this resolution: leave
      // that to the level shape, so the two shapes do not explain the same data twice.
      const shapes = this.#opts.shapes.filter((shape) =>
        !(shape === "rate" && input.type === "box" && input.duration < TUNING.rateMinDuration)
      );
      const fits = shapes.map((shape): Fit => ({
        shape,
        input,
        penalty,
        // A level's base is steady (a step of the load is one clipped outlier, and the
        // anchor of every prediction is the metric now): only a rate has a drift.
        kf: new Kalman3([0, p, -p], [shape === "rate" ? driftSd : 0, spread, spread]),
        score: 0,
        noiseVar: p * p,
        samples: 0,
        scored: 0,
        run: 0,
      }));
      this.#inputs.push({ input, last: { warmer: 0, cooler: 0 }, fits });
    }
  }

  #learn(
    fit: Fit,
    phi: Float64Array,
    z: number,
    dt: number,
    bound: Bound,
    toFloor?: number,
  ): void {
    const kf = fit.kf;
    const floorGain = this.#opts.prior * 0.01;
    const q = this.#walk;
    q[0] = fit.shape === "rate" ? (TUNING.driftWalk ** 2) * fit.noiseVar / (dt * dt) : 0;
    q[1] = (TUNING.gainWalk * Math.max(Math.abs(kf.theta[1]), floorGain)) ** 2;
    q[2] = (TUNING.gainWalk * Math.max(Math.abs(kf.theta[2]), floorGain)) ** 2;
    kf.diffuse(q);
    const predicted = kf.predict(phi);
    const s = kf.predictionVariance(phi) + fit.noiseVar;
    // Censored: z bounds the change one way (`Bound`); only a prediction past it is wrong, and
    // then it says the tasks did more (or less) than the fit thought. The drift is not taught
    // by it: at a floor the drift cannot be seen, and letting it shrink would hide a wrong model.
    // `toFloor`: the change that takes the metric to its floor, when it now reads within a grain
    // of it; a fit that predicted at least that fall agrees (the queue emptied within the tick).
    const emptied = toFloor !== undefined && predicted <= toFloor;
    if (bound !== "none" || emptied) {
      const a0 = 1 / TUNING.scoreMemory;
      if (emptied || (bound === "upper" ? predicted <= z : predicted >= z)) {
        const logSpread = Math.log(spread(fit));
        fit.score = fit.scored === 0 ? logSpread : (1 - a0) * fit.score + a0 * logSpread;
        fit.scored++;
        return;
      }
      const over = predicted - z;
      const surprise = Math.min(over * over / s, TUNING.outlierSigmas ** 2) +
        Math.log(spread(fit));
      fit.score = fit.scored === 0 ? surprise : (1 - a0) * fit.score + a0 * surprise;
      fit.scored++;
      kf.updateGains(phi, z - kf.theta[0] * phi[0], fit.noiseVar);
      fit.samples++;
      return;
    }
    const innovation = z - predicted;
    // The outside drift of a rate steps (arrivals change): a few surprises of one sign in a
    // row are a new drift, not outliers, so the drift is made uncertain again and relearned.
    const sigma = Math.sqrt(s);
    const side = innovation > TUNING.changeSigmas * sigma
      ? 1
      : innovation < -TUNING.changeSigmas * sigma
      ? -1
      : 0;
    fit.run = side === 0 || Math.sign(fit.run) !== side ? side : fit.run + side;
    if (fit.shape === "rate" && Math.abs(fit.run) >= TUNING.changeRun) {
      kf.cov[0] += (innovation / dt) ** 2;
      fit.run = 0;
    }
    const limit = TUNING.outlierSigmas * Math.sqrt(kf.predictionVariance(phi) + fit.noiseVar);
    const clipped = Math.max(-limit, Math.min(limit, innovation));
    // The score is the mean surprise of each sample before the fit saw it (a negative log
    // density, up to a constant), one surprise capped as an outlier is: the error weighed
    // against all the fit was unsure of, plus the log of the spread it claims (`spread`).
    const surprise = Math.min(innovation * innovation / s, TUNING.outlierSigmas ** 2) +
      Math.log(spread(fit));
    const a = 1 / TUNING.scoreMemory;
    fit.score = fit.scored === 0 ? surprise : (1 - a) * fit.score + a * surprise;
    fit.scored++;
    kf.update(phi, predicted + clipped, fit.noiseVar);
    const residual = z - kf.predict(phi);
    const b = 1 / TUNING.noiseMemory;
    const floorVar = (this.#opts.prior * TUNING.noiseFloor) ** 2;
    fit.noiseVar = Math.max(floorVar, (1 - b) * fit.noiseVar + b * residual * residual);
    fit.samples++;
  }

  /**
   * What a fit is ranked by: its score, its complexity penalty, and a heavy penalty while a
   * gain points the wrong way (a cooler that raises the metric): closed-loop data (starts
   * follow the error) easily fit such a model for a while, and it would stop a kind that works.
   * A kind that really pushes the wrong way is told by `bestOf`, which ranks without it. A
   * running-count fit blind to a started kind (`#blindNow`) is penalised as heavily.
   */
  #rank(f: Fit): number {
    const th = f.kf.theta;
    const wrong = th[1] < -f.kf.sd(1) || th[2] > f.kf.sd(2);
    return f.score + f.penalty + (wrong ? TUNING.wrongSignPenalty : 0) +
      (this.#blind(f) ? TUNING.blindPenalty : 0);
  }

  /** True for a running-count fit while running counts are blind (see #blindNow). */
  #blind(f: Fit): boolean {
    return this.#runningBlind && f.input.type === "running";
  }

  /**
   * Running counts are blind to a kind whose tasks are started but not seen running (a
   * trigger: its process is gone before a tick sees it): fewer of them were seen at the
   * samples, summed, than were started. To a running-count fit the kind's starts then do
   * nothing, and planned with, it cannot act with that kind at all; it is held back once a fit
   * on starts leans to the kind doing what it is for (`blindEvidence`). Until one does, "they
   * do nothing" is as good a guess as any, and it lets the first probes show their effect on
   * their own.
   */
  #blindNow(ledger: StartLedger): boolean {
    let blindKinds = 0;
    for (const kind of KIND_INDEX) {
      // Every start since the ledger began, pruned ones too, as #seenRunning sums every sample.
      const started = ledger.total(kind.name);
      if (started > 0 && this.#seenRunning[kind.name] < started) blindKinds |= kind.bit;
    }
    if (blindKinds === 0) return false;
    for (const s of this.#inputs) {
      if (s.input.type === "running") continue;
      for (const f of s.fits) {
        for (const kind of KIND_INDEX) {
          if ((blindKinds & kind.bit) === 0) continue;
          const along = kind.sign * f.kf.theta[kind.index];
          if (along > TUNING.blindEvidence * f.kf.sd(kind.index)) return true;
        }
      }
    }
    return false;
  }

  /**
   * Finds the best fits by every key asked for (see {@linkcode BestFits}) in one pass over the
   * fits, written out: it runs after every sample, over every fit, and a key passed as a
   * function returns each fit's number boxed, garbage the collector then stops a tick for. Of
   * equals the first wins, as a stable sort would put it.
   */
  #survey(): void {
    let ranked: Fit | undefined, plain: Fit | undefined;
    let level: Fit | undefined, rate: Fit | undefined;
    let rankedKey = Infinity, plainKey = Infinity, levelKey = Infinity, rateKey = Infinity;
    for (const s of this.#inputs) {
      for (const f of s.fits) {
        const r = this.#rank(f);
        if (ranked === undefined || r < rankedKey) {
          ranked = f;
          rankedKey = r;
        }
        const k = f.score + f.penalty;
        if (plain === undefined || k < plainKey) {
          plain = f;
          plainKey = k;
        }
        if (f.shape === "level") {
          if (level === undefined || k < levelKey) {
            level = f;
            levelKey = k;
          }
        } else if (rate === undefined || k < rateKey) {
          rate = f;
          rateKey = k;
        }
      }
    }
    this.#best = { ranked, plain, level, rate };
  }

  #choose(): void {
    this.#survey();
    const best = this.#best.ranked;
    if (!best) return;
    this.#leader = best;
    const current = this.#chosen;
    if (!current) {
      this.#chosen = best;
      return;
    }
    // Some fit must lead the chosen one by the margin for a few scored samples in a row (not
    // always the same fit: near twins take turns at the top); then the best of them takes over.
    if (this.#rank(best) < this.#rank(current) - TUNING.switchMargin) {
      if (this.#challenger === undefined) this.#challenger = { since: best.scored };
      else if (best.scored - this.#challenger.since >= TUNING.switchSamples) {
        this.#chosen = best;
        this.#challenger = undefined;
      }
    } else this.#challenger = undefined;
  }

  #trackFloor(metric: number, pushedDown: boolean): void {
    if (!Number.isFinite(metric)) return;
    if (!Number.isInteger(metric)) this.#whole = false;
    if (!this.#floor || metric < this.#floor.value) {
      this.#floor = { value: metric, seen: pushedDown ? 1 : 0 };
    } else if (metric === this.#floor.value && pushedDown) this.#floor.seen++;
  }

  /** The metric's grain: 1 while every value seen was a whole number (items), else 0. */
  #grain(): number {
    return this.#whole ? 1 : 0;
  }

  /** How far above a floor the metric still rests on it: the noise floor of a fit. */
  #floorTolerance(): number {
    return this.#opts.prior * TUNING.noiseFloor;
  }

  #floorValue(): number | undefined {
    return this.#floor && this.#floor.seen >= TUNING.floorRepeats ? this.#floor.value : undefined;
  }
}

/**
 * The spread a fit is scored for: its own noise. Its coefficients' uncertainty is forgiven
 * here (it only softens the error term): every fit starts from the same vague gains, and the
 * first to predict a move right must not lose for having been unsure. (Charging the drift's
 * uncertainty as well was tried: worse on the benchmark, no better on the identification
 * tests.)
 */
function spread(fit: Fit): number {
  return fit.noiseVar;
}
