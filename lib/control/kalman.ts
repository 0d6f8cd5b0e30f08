/**
 * A Kalman filter for a linear regression whose three coefficients wander slowly (a random
 * walk): z ≈ φ·θ with θ = [drift, warmer gain, cooler gain]. It is recursive least squares
 * that never forgets what it has not been shown again: with no excitation the estimate stays
 * and only its uncertainty grows. Invariants: the covariance stays symmetric and positive
 * (Joseph-free update on a 3×3, symmetrised each step); nothing here allocates per update.
 * Pure numerics, no I/O.
 * @module
 */

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
  constructor(mean: readonly number[], sd: readonly number[]) {
    this.theta = Float64Array.from(mean);
    this.cov = new Float64Array(9);
    for (let i = 0; i < 3; i++) this.cov[i * 4] = sd[i] * sd[i];
  }

  /** Adds process noise: each coefficient's variance grows by `q[i]`. */
  diffuse(q: readonly number[]): void {
    for (let i = 0; i < 3; i++) this.cov[i * 4] += q[i];
  }

  /** φ·θ. */
  predict(phi: readonly number[]): number {
    return phi[0] * this.theta[0] + phi[1] * this.theta[1] + phi[2] * this.theta[2];
  }

  /** φ·P·φᵀ: the variance of the prediction due to the coefficients' uncertainty. */
  predictionVariance(phi: readonly number[]): number {
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
  update(phi: readonly number[], z: number, r: number): number {
    const p = this.cov;
    const pf0 = p[0] * phi[0] + p[1] * phi[1] + p[2] * phi[2];
    const pf1 = p[3] * phi[0] + p[4] * phi[1] + p[5] * phi[2];
    const pf2 = p[6] * phi[0] + p[7] * phi[1] + p[8] * phi[2];
    const s = phi[0] * pf0 + phi[1] * pf1 + phi[2] * pf2 + r;
    const innovation = z - this.predict(phi);
    if (!(s > 0) || !Number.isFinite(innovation)) return innovation;
    const k0 = pf0 / s, k1 = pf1 / s, k2 = pf2 / s;
    this.theta[0] += k0 * innovation;
    this.theta[1] += k1 * innovation;
    this.theta[2] += k2 * innovation;
    const k = [k0, k1, k2];
    const pf = [pf0, pf1, pf2];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) p[i * 3 + j] -= k[i] * pf[j];
    }
    for (let i = 0; i < 3; i++) {
      for (let j = i + 1; j < 3; j++) {
        const m = (p[i * 3 + j] + p[j * 3 + i]) / 2;
        p[i * 3 + j] = m;
        p[j * 3 + i] = m;
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
  updateGains(phi: readonly number[], z: number, r: number): number {
    const keep = this.theta[0];
    const driftVar = this.cov[0];
    const innovation = this.update([0, phi[1], phi[2]], z, r);
    this.theta[0] = keep;
    this.cov[0] = driftVar;
    return innovation;
  }

  /** Standard deviation of coefficient `i`. */
  sd(i: number): number {
    return Math.sqrt(Math.max(0, this.cov[i * 4]));
  }
}
