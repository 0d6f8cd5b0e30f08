/**
 * The benchmark scripts' quantile (scripts/quantile.ts): the value at ⌊q·n⌋ of a sorted list.
 * @module
 */

import assert from "node:assert/strict";
import { quantileOfSorted } from "../scripts/quantile.ts";

Deno.test("quantile: the value at floor(q·n) of a sorted list, the last one at the top", () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(quantileOfSorted(xs, 0), 1);
  assert.equal(quantileOfSorted(xs, 0.5), 6);
  assert.equal(quantileOfSorted(xs, 0.9), 10);
  assert.equal(quantileOfSorted(xs, 0.99), 10);
  assert.equal(quantileOfSorted(xs, 1), 10);
  assert.equal(quantileOfSorted([7], 0.5), 7);
});
