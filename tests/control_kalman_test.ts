/**
 * Direct tests of `Kalman3` (lib/control/kalman.ts): the three-coefficient random-walk
 * regression behind every identification fit. Synthetic regressions with known coefficients
 * and seeded noise: recovery, no excitation (the estimate stays, only the variance grows),
 * a step in one coefficient, and the covariance's invariants.
 * @module
 */

import assert from "node:assert/strict";
import { Kalman3 } from "../lib/control/kalman.ts";
import { gaussian, seededRandom } from "../sim/plants.ts";

/** Asserts the covariance is symmetric with positive diagonal and non-negative minors. */
function assertCovarianceValid(k: Kalman3): void {
  const p = k.cov;
  for (let i = 0; i < 3; i++) {
    assert.ok(p[i * 4] > 0, `variance ${i} = ${p[i * 4]}`);
    for (let j = 0; j < 3; j++) assert.equal(p[i * 3 + j], p[j * 3 + i]);
  }
  // Leading 2×2 minor and the determinant: a positive definite matrix has both > 0.
  const m2 = p[0] * p[4] - p[1] * p[3];
  const det = p[0] * (p[4] * p[8] - p[5] * p[7]) - p[1] * (p[3] * p[8] - p[5] * p[6]) +
    p[2] * (p[3] * p[7] - p[4] * p[6]);
  assert.ok(m2 > 0, `2×2 minor ${m2}`);
  assert.ok(det > -1e-18, `determinant ${det}`);
}

Deno.test("Kalman3: the prior is the mean and independent standard deviations", () => {
  const k = new Kalman3([1, 2, -3], [4, 5, 6]);
  assert.deepEqual([...k.theta], [1, 2, -3]);
  assert.deepEqual([k.sd(0), k.sd(1), k.sd(2)], [4, 5, 6]);
  assert.equal(k.cov[1], 0);
  assert.equal(k.predict([1, 1, 1]), 0);
  assert.equal(k.predict([2, 0.5, 0]), 3);
  // φ·P·φᵀ with a diagonal P: Σ φᵢ² σᵢ².
  assert.equal(k.predictionVariance([1, 1, 0]), 16 + 25);
});

Deno.test("Kalman3: update returns the innovation before the update and moves towards z", () => {
  const k = new Kalman3([0, 0, 0], [10, 10, 10]);
  const innovation = k.update([1, 0, 0], 5, 1);
  assert.equal(innovation, 5);
  // Scalar case: gain 100 / (100 + 1).
  assert.ok(Math.abs(k.theta[0] - 5 * 100 / 101) < 1e-12, `θ0 ${k.theta[0]}`);
  assert.equal(k.theta[1], 0);
  assert.ok(Math.abs(k.cov[0] - 100 / 101) < 1e-12);
  assert.equal(k.sd(1), 10);
});

Deno.test("Kalman3: recovers known coefficients from a noisy synthetic regression", () => {
  const cases = [
    { truth: [0.5, 2, -3], noise: 0.1 },
    { truth: [-4, 0.05, -0.2], noise: 0.02 },
    { truth: [30, 40, -25], noise: 5 },
  ];
  for (const [n, c] of cases.entries()) {
    const random = seededRandom(11 + n);
    const k = new Kalman3([0, 1, -1], [100, 100, 100]);
    const r = c.noise * c.noise;
    for (let i = 0; i < 800; i++) {
      const phi = [1, 4 * random(), 4 * random()];
      const z = phi[0] * c.truth[0] + phi[1] * c.truth[1] + phi[2] * c.truth[2] +
        c.noise * gaussian(random);
      k.update(phi, z, r);
    }
    for (let i = 0; i < 3; i++) {
      const err = Math.abs(k.theta[i] - c.truth[i]);
      // Honest uncertainty: the truth within 4 sd, and the sd small against the noise.
      assert.ok(err < 4 * k.sd(i), `case ${n} θ${i} ${k.theta[i]} vs ${c.truth[i]} sd ${k.sd(i)}`);
      assert.ok(k.sd(i) < c.noise * 0.2, `case ${n} sd${i} ${k.sd(i)}`);
    }
    assertCovarianceValid(k);
  }
});

Deno.test("Kalman3: with no excitation the estimate stays and only the variance grows", () => {
  const random = seededRandom(3);
  const k = new Kalman3([0, 0, 0], [10, 10, 10]);
  const truth = [1, 3, -2];
  for (let i = 0; i < 400; i++) {
    const phi = [1, random() * 3, random() * 3];
    k.update(phi, phi[0] * truth[0] + phi[1] * truth[1] + phi[2] * truth[2], 0.01);
  }
  const learned = [...k.theta];
  const sd0 = [k.sd(0), k.sd(1), k.sd(2)];
  // A regressor of zeros says nothing: the estimate is untouched; diffusion grows the variance
  // by exactly q per step.
  const q = [1e-4, 4e-4, 9e-4];
  const var0 = [k.cov[0], k.cov[4], k.cov[8]];
  for (let i = 0; i < 100; i++) {
    k.diffuse(q);
    k.update([0, 0, 0], 5 * gaussian(random), 0.01);
  }
  assert.deepEqual([...k.theta], learned);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(k.cov[i * 4] - (var0[i] + 100 * q[i])) < 1e-12, `var ${i}`);
    assert.ok(k.sd(i) > sd0[i]);
  }
  // Only the drift excited (φ = [1, 0, 0]) with data that agrees with it: the gains stay where
  // they were learned and only grow uncertain, while the drift stays sure.
  const gains = [k.theta[1], k.theta[2]];
  for (let i = 0; i < 200; i++) {
    k.diffuse(q);
    k.update([1, 0, 0], truth[0] + 0.1 * gaussian(random), 0.01);
  }
  assert.ok(Math.abs(k.theta[1] - gains[0]) < 0.05, `g_w ${gains[0]} → ${k.theta[1]}`);
  assert.ok(Math.abs(k.theta[2] - gains[1]) < 0.05, `g_c ${gains[1]} → ${k.theta[2]}`);
  assert.ok(k.sd(1) > 0.9 * Math.sqrt(200 * q[1]), `sd1 ${k.sd(1)}`);
  assert.ok(k.sd(2) > 0.9 * Math.sqrt(200 * q[2]), `sd2 ${k.sd(2)}`);
  assert.ok(k.sd(0) < 0.05, `sd0 ${k.sd(0)}`);
  assertCovarianceValid(k);
});

Deno.test("Kalman3: a step in one coefficient is followed with a random walk, the others stay", () => {
  const random = seededRandom(5);
  const k = new Kalman3([0, 1, -1], [10, 10, 10]);
  const noise = 0.2;
  const q = [0, (0.02 * 2) ** 2, (0.02 * 2) ** 2];
  let truth = [0.5, 2, -2];
  const history: number[] = [];
  for (let i = 0; i < 600; i++) {
    if (i === 300) truth = [0.5, 4, -2];
    const phi = [1, 3 * random(), 3 * random()];
    const z = phi[0] * truth[0] + phi[1] * truth[1] + phi[2] * truth[2] + noise * gaussian(random);
    k.diffuse(q);
    k.update(phi, z, noise * noise);
    history.push(k.theta[1]);
  }
  assert.ok(Math.abs(history[299] - 2) < 0.1, `before ${history[299]}`);
  // Within 60 samples of the step the gain is within 10 % of its new value, and stays there.
  const after = history.slice(360);
  for (const g of after) assert.ok(Math.abs(g - 4) < 0.4, `after the step ${g}`);
  assert.ok(Math.abs(k.theta[2] + 2) < 0.15, `other gain ${k.theta[2]}`);
  assert.ok(Math.abs(k.theta[0] - 0.5) < 0.3, `drift ${k.theta[0]}`);
  assertCovarianceValid(k);
});

Deno.test("Kalman3: a non-finite observation changes nothing", () => {
  const k = new Kalman3([1, 2, 3], [1, 1, 1]);
  const before = [...k.cov];
  const innovation = k.update([1, 1, 1], NaN, 1);
  assert.ok(Number.isNaN(innovation));
  assert.deepEqual([...k.theta], [1, 2, 3]);
  assert.deepEqual([...k.cov], before);
});

Deno.test("Kalman3: updateGains leaves the drift and its variance, and keeps the covariance valid", () => {
  // Censored samples update the gains only, mixed with plain updates: the drift's cross terms
  // must move with the gains' update, or the matrix stops being positive definite.
  const random = seededRandom(11);
  for (let run = 0; run < 50; run++) {
    const k = new Kalman3([0, 1, -1], [3, 3, 3]);
    for (let i = 0; i < 40; i++) {
      const phi = [0.5, 2 * random(), 3 * random()];
      if (random() < 0.5) k.update(phi, random(), 0.3);
      else {
        const drift = k.theta[0];
        const driftVar = k.cov[0];
        k.updateGains(phi, random(), 0.3);
        assert.equal(k.theta[0], drift);
        assert.equal(k.cov[0], driftVar);
      }
      assertCovarianceValid(k);
    }
  }
});
