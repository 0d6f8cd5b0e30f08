/**
 * Learns online how one task moves the metric, from what actually happened: the metric's
 * samples and the number of running tasks of each kind. Two response shapes are fitted side by
 * side by weighted least squares with forgetting, at several effect lags, and the better one wins:
 *
 * - `level`: a running task adds a fixed amount to the metric while it runs (consumers count,
 *   CPU load): Δm ≈ g_w·ΔN_w + g_c·ΔN_c.
 * - `rate`: a running task changes the metric's slope (a queue drained by consumers):
 *   Δm ≈ (λ + g_w·N_w + g_c·N_c)·Δt, with λ the outside drift (arrivals).
 *
 * A rate sample touching the floor the metric rests on (an empty queue) is censored: the tasks
 * drained at least what was seen. Such samples enter the fit only where it contradicts them.
 *
 * Pure: no I/O, no timers; the caller passes the sample times.
 * @module
 */

/** The two response shapes the learner can tell apart. */
export type ResponseModel = "level" | "rate";

/** What the learner currently believes. Gains are per task: metric units (level) or units/s (rate). */
export interface Estimate {
  readonly model: ResponseModel;
  /** Effect lag in samples: how many ticks after a task starts its effect shows. */
  readonly lag: number;
  readonly gainWarmer: number;
  readonly gainCooler: number;
  /** The first-guess gains in this model's units, used while the learned ones are not trusted. */
  readonly priorWarmer: number;
  readonly priorCooler: number;
  /** Standard errors of the two gains (Infinity while no fit exists). */
  readonly seWarmer: number;
  readonly seCooler: number;
  /** True when the gain is known to within about a third, from real task starts. */
  readonly confidentWarmer: boolean;
  readonly confidentCooler: boolean;
  /** Rate model: the metric's recent drift per second without the tasks' effect. */
  readonly drift: number;
  /** Standard deviation of one sample-to-sample change the model does not explain. */
  readonly noise: number;
  /** Samples held. */
  readonly samples: number;
  /**
   * Per kind: true when the chosen fit is confident the kind moves the metric the wrong way
   * (a warmer lowering it, a cooler raising it) and the other shape's fit does not confidently
   * say otherwise. A queue seen through the wrong shape can fake a wrong sign; both must agree.
   */
  readonly wrongSignWarmer: boolean;
  readonly wrongSignCooler: boolean;
  /**
   * The lowest value the metric has rested on (seen at least three times, like an empty
   * queue): it cannot be pushed below it. Undefined while no such floor is seen.
   */
  readonly floor?: number;
}

/** Settings of {@linkcode ResponseLearner}. */
export interface LearnerOptions {
  /** First guess of one task's effect in metric units (signs are implied by the kind). */
  readonly prior: number;
  /** Force a shape, or `auto` to pick the better fit. */
  readonly mode: "auto" | ResponseModel;
  /** Samples kept (default 400). */
  readonly capacity?: number;
  /** Half-life of a sample's weight, in samples (default 150). */
  readonly halfLife?: number;
  /** Largest effect lag tried, in samples (default 8). */
  readonly maxLag?: number;
}

interface Sample {
  readonly t: number;
  readonly m: number;
  readonly nw: number;
  readonly nc: number;
}

interface Fit {
  readonly theta: number[];
  readonly se: number[];
  readonly sse: number;
  readonly weight: number;
  /** Usable rows. */
  readonly rows: number;
  /** Rows in which each gain's regressor was non-zero. */
  readonly excited: [number, number];
}

/**
 * Online identification of the per-task effect.
 *
 * @example
 * ```ts
 * const learner = new ResponseLearner({ prior: 1, mode: "auto" });
 * learner.observe(0, 10, 0, 0);
 * learner.observe(1, 12, 2, 0); // two warmers started, metric rose by 2
 * learner.estimate().gainWarmer; // close to 1
 * ```
 */
export class ResponseLearner {
  readonly #opts: Required<LearnerOptions>;
  readonly #samples: Sample[] = [];
  #model: ResponseModel;
  #cached?: Estimate;
  #floor = Infinity;
  #floorHits = 0;

  constructor(options: LearnerOptions) {
    this.#opts = { capacity: 400, halfLife: 150, maxLag: 8, ...options };
    this.#model = options.mode === "rate" ? "rate" : "level";
  }

  /** Adds one valid sample: time (s), metric, running warmers and running coolers. */
  observe(t: number, metric: number, runningWarmers: number, runningCoolers: number): void {
    const last = this.#samples.at(-1);
    if (last && t <= last.t) return;
    this.#samples.push({ t, m: metric, nw: runningWarmers, nc: runningCoolers });
    if (this.#samples.length > this.#opts.capacity) this.#samples.shift();
    if (metric < this.#floor) {
      this.#floor = metric;
      this.#floorHits = 1;
    } else if (metric === this.#floor) {
      this.#floorHits++;
    }
    this.#cached = undefined;
  }

  /** Drops every sample (the floor seen is kept): what was learned no longer holds. */
  forget(): void {
    this.#samples.length = 0;
    this.#cached = undefined;
  }

  /** Running counts `lag` samples ago (for effects not yet visible). */
  countsAgo(lag: number): { warmers: number; coolers: number } | undefined {
    const s = this.#samples.at(-1 - lag);
    return s && { warmers: s.nw, coolers: s.nc };
  }

  /** The current belief, refitted lazily after new samples. */
  estimate(): Estimate {
    this.#cached ??= this.#fitAll();
    return this.#cached;
  }

  #fitAll(): Estimate {
    const n = this.#samples.length;
    const maxLag = Math.max(0, Math.min(this.#opts.maxLag, Math.floor((n - 2) / 3)));
    const best: Record<ResponseModel, { fit: Fit; lag: number } | undefined> = {
      level: undefined,
      rate: undefined,
    };
    const models: ResponseModel[] = this.#opts.mode === "auto" ? ["level", "rate"] : [this.#model];
    for (const model of models) {
      // Prefer fits whose gains point the expected way, and short lags: a longer lag must
      // explain clearly more, or a few lucky rows pick a lag (and a sign) that is not there.
      let bestSigned: { fit: Fit; lag: number } | undefined;
      for (let lag = 0; lag <= maxLag; lag++) {
        const fit = this.#fit(model, lag);
        if (!fit) continue;
        if (!best[model] || fit.sse < best[model]!.fit.sse * 0.85) best[model] = { fit, lag };
        if (signsAsExpected(fit, model) && (!bestSigned || fit.sse < bestSigned.fit.sse * 0.85)) {
          bestSigned = { fit, lag };
        }
      }
      if (bestSigned) best[model] = bestSigned;
    }
    // Switch shape only on clear evidence: the other fit must leave well under two thirds of
    // the unexplained variation, so noise cannot flip the model back and forth.
    const other: ResponseModel = this.#model === "level" ? "rate" : "level";
    const current = best[this.#model];
    const challenger = best[other];
    if (challenger && (!current || challenger.fit.sse < 0.6 * current.fit.sse)) {
      const rows = challenger.fit.rows;
      if (rows >= 12 && challenger.fit.excited[0] + challenger.fit.excited[1] >= 3) {
        this.#model = other;
      }
    }
    const chosen = best[this.#model];
    const prior = this.#priorGains(this.#model);
    const alternative = best[this.#model === "level" ? "rate" : "level"];
    const signs = (fit: Fit | undefined, model: ResponseModel, i: 0 | 1): -1 | 0 | 1 => {
      if (!fit) return 0;
      const j = (model === "rate" ? 1 : 0) + i;
      const g = fit.theta[j];
      const sure = fit.excited[i] >= 5 && fit.se[j] < Math.abs(g) / 4;
      return sure ? (Math.sign(g) as -1 | 1) : 0;
    };
    const otherModel: ResponseModel = this.#model === "level" ? "rate" : "level";
    const wrong = (i: 0 | 1, right: 1 | -1) =>
      signs(chosen?.fit, this.#model, i) === -right &&
      signs(alternative?.fit, otherModel, i) !== right;
    if (!chosen) {
      return {
        model: this.#model,
        lag: 0,
        gainWarmer: prior[0],
        gainCooler: prior[1],
        priorWarmer: prior[0],
        priorCooler: prior[1],
        seWarmer: Infinity,
        seCooler: Infinity,
        confidentWarmer: false,
        confidentCooler: false,
        drift: 0,
        noise: 0,
        samples: n,
        wrongSignWarmer: false,
        wrongSignCooler: false,
        floor: this.#restingFloor(),
      };
    }
    const { fit, lag } = chosen;
    const offset = this.#model === "rate" ? 1 : 0;
    const confident = (i: 0 | 1) => {
      const g = fit.theta[offset + i];
      return fit.excited[i] >= 3 && Math.abs(g) > 0 && fit.se[offset + i] < Math.abs(g) / 3;
    };
    return {
      model: this.#model,
      lag,
      gainWarmer: fit.theta[offset],
      gainCooler: fit.theta[offset + 1],
      priorWarmer: prior[0],
      priorCooler: prior[1],
      seWarmer: fit.se[offset],
      seCooler: fit.se[offset + 1],
      confidentWarmer: confident(0),
      confidentCooler: confident(1),
      drift: this.#model === "rate" ? this.#recentDrift(fit, lag) : 0,
      noise: Math.sqrt(fit.sse / Math.max(1, fit.weight - fit.theta.length)),
      samples: n,
      wrongSignWarmer: wrong(0, 1),
      wrongSignCooler: wrong(1, -1),
      floor: this.#restingFloor(),
    };
  }

  #restingFloor(): number | undefined {
    return this.#floorHits >= 3 ? this.#floor : undefined;
  }

  #priorGains(model: ResponseModel): [number, number] {
    const p = this.#opts.prior;
    if (model === "level") return [p, -p];
    // A rate-model gain is per second; assume one task's effect spreads over ~10 samples.
    const dt = this.#medianStep();
    return [p / (10 * dt), -p / (10 * dt)];
  }

  #medianStep(): number {
    const steps: number[] = [];
    for (let i = 1; i < this.#samples.length; i++) {
      steps.push(this.#samples[i].t - this.#samples[i - 1].t);
    }
    if (steps.length === 0) return 1;
    steps.sort((a, b) => a - b);
    return steps[Math.floor(steps.length / 2)];
  }

  /**
   * Regressors and target of row i (sample i vs i-1), or undefined when the row is unusable.
   * A rate row touching the floor while tasks push down is censored: the metric could not go
   * lower, so the tasks' true effect is at least what was seen (true change ≤ observed change).
   */
  #row(
    model: ResponseModel,
    i: number,
    lag: number,
  ): { x: number[]; y: number; censored: boolean } | undefined {
    const s = this.#samples;
    const cur = s[i];
    const prev = s[i - 1];
    const dt = cur.t - prev.t;
    if (!(dt > 0)) return undefined;
    const y = cur.m - prev.m;
    // A metric resting on its floor (an empty queue) hides what the tasks could do: a level
    // row that did not move there says nothing.
    if (y === 0 && cur.m === this.#floor) return undefined;
    const a = s[i - lag];
    const b = s[i - 1 - lag];
    if (model === "level") return { x: [a.nw - b.nw, a.nc - b.nc], y, censored: false };
    // Only tasks pushing down can be clipped by the floor; with none running, a flat floor row
    // is honest evidence that nothing else moves the metric.
    const pushingDown = a.nc + b.nc > 0;
    const censored = pushingDown && Math.min(cur.m, prev.m) <= this.#floor;
    return { x: [dt, ((a.nw + b.nw) / 2) * dt, ((a.nc + b.nc) / 2) * dt], y, censored };
  }

  /**
   * Weighted least squares with forgetting. Censored rows enter with their observed change
   * capped by what the previous pass predicted (min of the two), a few passes: they can only
   * pull an effect to be stronger than seen, never weaker.
   */
  #fit(model: ResponseModel, lag: number): Fit | undefined {
    const s = this.#samples;
    const rows: { x: number[]; y: number; w: number; censored: boolean }[] = [];
    const excited: [number, number] = [0, 0];
    const decay = Math.pow(0.5, 1 / this.#opts.halfLife);
    const g0 = model === "level" ? 0 : 1;
    let weight = 0;
    // Weights decay per usable row, not per sample: time spent resting on the floor must not
    // age out what was learned before it.
    let w = 1 / decay;
    for (let i = s.length - 1; i >= 1 + lag; i--) {
      const row = this.#row(model, i, lag);
      if (!row) continue;
      w *= decay;
      rows.push({ ...row, w });
      weight += w;
      if (row.x[g0] !== 0) excited[0]++;
      if (row.x[g0 + 1] !== 0) excited[1]++;
    }
    if (rows.length < 3) return undefined;
    const censored = rows.some((r) => r.censored);
    let solved = this.#solve(model, rows.filter((r) => !r.censored));
    for (let pass = 0; censored && pass < 3; pass++) {
      const theta: number[] | undefined = solved?.theta;
      // A censored row the fit already respects says nothing more; one it violates holds the
      // fit to what was seen.
      const active = rows.filter((r) => !r.censored || !theta || dot(r.x, theta) > r.y);
      solved = this.#solve(model, active);
    }
    if (!solved) return undefined;
    return { ...solved, weight, excited, rows: rows.length };
  }

  #solve(
    model: ResponseModel,
    rows: readonly { x: number[]; y: number; w: number }[],
  ): { theta: number[]; se: number[]; sse: number } | undefined {
    const p = model === "level" ? 2 : 3;
    const xtx = Array.from({ length: p }, () => new Array<number>(p).fill(0));
    const xty = new Array<number>(p).fill(0);
    let weight = 0;
    for (const row of rows) {
      weight += row.w;
      for (let j = 0; j < p; j++) {
        xty[j] += row.w * row.x[j] * row.y;
        for (let k = 0; k < p; k++) xtx[j][k] += row.w * row.x[j] * row.x[k];
      }
    }
    // A weak prior (worth a quarter of one task start) keeps unexcited gains at the first
    // guess, yet gives way to the first real start when the guess is ten times off.
    const prior = this.#priorGains(model);
    const g0 = model === "level" ? 0 : 1;
    const scale = 0.25 * (model === "level" ? 1 : this.#medianStep() ** 2);
    for (let j = 0; j < 2; j++) {
      xtx[g0 + j][g0 + j] += scale;
      xty[g0 + j] += scale * prior[j];
    }
    if (model === "rate") xtx[0][0] += 1e-9;
    const inverse = invert(xtx);
    if (!inverse) return undefined;
    const theta = inverse.map((r) => r.reduce((acc, v, k) => acc + v * xty[k], 0));
    let sse = 0;
    for (const row of rows) {
      const r = row.y - dot(row.x, theta);
      sse += row.w * r * r;
    }
    const sigma2 = sse / Math.max(1, weight - p);
    const se = inverse.map((r, j) => Math.sqrt(Math.max(0, r[j] * sigma2)));
    return { theta, se, sse };
  }

  /** The outside drift per second over the last few usable rows, with the tasks' effect removed. */
  #recentDrift(fit: Fit, lag: number): number {
    const values: number[] = [];
    for (let i = this.#samples.length - 1; i >= 1 + lag && values.length < 5; i--) {
      const row = this.#row("rate", i, lag);
      if (!row || row.censored) continue;
      const effect = row.x[1] * fit.theta[1] + row.x[2] * fit.theta[2];
      values.push((row.y - effect) / row.x[0]);
    }
    if (values.length === 0) return fit.theta[0];
    return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

function dot(x: readonly number[], theta: readonly number[]): number {
  return x.reduce((acc, v, k) => acc + v * theta[k], 0);
}

/** True when warmer gains are not negative and cooler gains not positive. */
function signsAsExpected(fit: Fit, model: ResponseModel): boolean {
  const j = model === "rate" ? 1 : 0;
  return fit.theta[j] >= 0 && fit.theta[j + 1] <= 0;
}

/** Inverse of a small symmetric matrix by Gauss-Jordan elimination; undefined when singular. */
function invert(matrix: number[][]): number[][] | undefined {
  const n = matrix.length;
  const a = matrix.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) < 1e-12) return undefined;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const div = a[col][col];
    for (let k = 0; k < 2 * n; k++) a[col][k] /= div;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r][col];
      if (f !== 0) { for (let k = 0; k < 2 * n; k++) a[r][k] -= f * a[col][k]; }
    }
  }
  return a.map((row) => row.slice(n));
}
