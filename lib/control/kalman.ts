/**
 * A Kalman filter for a linear regression whose three coefficients wander slowly (a random
 * walk): z ≈ φ·θ with θ = [drift, warmer gain, cooler gain]. It is recursive least squares
 * that never forgets what it has not been shown again: with no excitation the estimate stays
 * and only its uncertainty grows. Invariants: the covariance stays symmetric and positive
 * (Joseph-free update on a 3×3, symmetrised each step); nothing here allocates per update.
 * Pure numerics, no I/O.
 * @module
 */

/** Regressors of {@linkcode Kalman3.updateGains}: the drift's stays 0; `update` keeps none. */
const GAINS_ONLY = new Float64Array(3);
/** P·φ of {@linkcode Kalman3.update}, a scratch row (nothing here allocates per update). */
const PF = new Float64Array(3);

/** Three coefficients and their covariance (row-major 3×3). */
export class Kalman3 {
  readonly theta: Float64Array;
  readonly cov: Float64Array;

  /**
   * Starts from a prior mean and prior standard deviations (independent).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const k = new Kalman3([0, 1, -1], [10, 10, 10]);
   * k.update([1, 2, 0], 2.1, 0.01); // z = 2.1 seen with regressors [1, 2, 0]
   * assert.ok(Math.abs(k.predict([1, 2, 0]) - 2.1) < 0.01); // it now predicts what it saw
   * ```
   */
  constructor(mean: ArrayLike<number>, sd: ArrayLike<number>) {
    this.theta = Float64Array.from(mean);
    this.cov = new Float64Array(9);
    for (let i = 0; i < 3; i++) this.cov[i * 4] = sd[i] * sd[i];
  }

  /** Adds process noise: each coefficient's variance grows by `q[i]`. */
  diffuse(q: ArrayLike<number>): void {
    for (let i = 0; i < 3; i++) this.cov[i * 4] += q[i];
  }

  /** φ·θ. */
  predict(phi: ArrayLike<number>): number {
    return phi[0] * this.theta[0] + phi[1] * this.theta[1] + phi[2] * this.theta[2];
  }

  /** φ·P·φᵀ: the variance of the prediction due to the coefficients' uncertainty. */
  predictionVariance(phi: ArrayLike<number>): number {
    const p = this.cov;
    let v = 0;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) v += phi[i] * p[i * 3 + j] * phi[j];
    }
    return Math.max(0, v);
  }

  /**
   * Takes one observation `z` with regressors `phi` and measurement variance `r` (> 0).
   * Returns the innovation (z − prediction before the update).
   */
  update(phi: ArrayLike<number>, z: number, r: number): number {
    // Written as loops over scratch rows so that the optimiser inlines it into its callers
    // (which run it for every fit every tick): a call it does not inline boxes each number
    // passed and returned, and that garbage costs collector pauses.
    const p = this.cov;
    const pf = PF;
    for (let i = 0; i < 3; i++) {
      pf[i] = p[i * 3] * phi[0] + p[i * 3 + 1] * phi[1] + p[i * 3 + 2] * phi[2];
    }
    const s = phi[0] * pf[0] + phi[1] * pf[1] + phi[2] * pf[2] + r;
    const innovation = z - this.predict(phi);
    if (!(s > 0) || !Number.isFinite(innovation)) return innovation;
    // θ += k·innovation and P −= k·pfᵀ, with k = pf / s.
    for (let i = 0; i < 3; i++) {
      const k = pf[i] / s;
      this.theta[i] += k * innovation;
      for (let j = 0; j < 3; j++) p[i * 3 + j] -= k * pf[j];
    }
    // Symmetrise, and keep every variance positive.
    for (let i = 0; i < 3; i++) {
      for (let j = i + 1; j < 3; j++) {
        p[i * 3 + j] = p[j * 3 + i] = (p[i * 3 + j] + p[j * 3 + i]) / 2;
      }
      if (!(p[i * 4] > 0)) p[i * 4] = 1e-12;
    }
    return innovation;
  }

  /**
   * As {@linkcode update} with the drift's regressor at zero, but the first coefficient (the
   * drift) and its variance are left as they are. Its covariances with the gains move as the
   * update moves them: keeping the old ones beside the gains' shrunk variances leaves a matrix
   * that is no longer positive definite. (Keeping the drift's variance only adds to one
   * diagonal entry, which cannot break that.)
   */
  updateGains(phi: ArrayLike<number>, z: number, r: number): number {
    const keep = this.theta[0];
    const driftVar = this.cov[0];
    const gains = GAINS_ONLY;
    gains[1] = phi[1];
    gains[2] = phi[2];
    const innovation = this.update(gains, z, r);
    this.theta[0] = keep;
    this.cov[0] = driftVar;
    return innovation;
  }

  /** Standard deviation of coefficient `i`. */
  sd(i: number): number {
    return Math.sqrt(Math.max(0, this.cov[i * 4]));
  }
}
