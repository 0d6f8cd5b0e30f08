/**
 * The varied-plants check (scripts/bench_varied.ts): one seed draws one plant, a plant's ratios
 * to the causal reference repeat, and bad options get a one-line error and exit code 2.
 * @module
 */

import assert from "node:assert/strict";
import { assertRefused } from "./support/script_refusal.ts";
import { variedPlant, variedRatios } from "../scripts/bench_varied.ts";

Deno.test("bench varied: a seed draws one plant, and different seeds different ones", () => {
  assert.deepEqual(variedPlant(7).model, variedPlant(7).model);
  assert.equal(variedPlant(7).name, variedPlant(7).name);
  const names = new Set(Array.from({ length: 20 }, (_, i) => variedPlant(i + 1).name));
  assert.equal(names.size, 20);
  const shapes = new Set(Array.from({ length: 20 }, (_, i) => variedPlant(i + 1).shape));
  assert.deepEqual([...shapes].sort(), ["trigger", "warm-up", "worker"]);
});

Deno.test("bench varied: one plant's ratios to the causal reference are positive and repeat", () => {
  const a = variedRatios(4);
  const b = variedRatios(4);
  assert.equal(a.iae, b.iae);
  assert.equal(a.taskSeconds, b.taskSeconds);
  assert.ok(a.iae > 0 && Number.isFinite(a.iae), `IAE ratio ${a.iae}`);
  assert.ok(a.taskSeconds > 0 && Number.isFinite(a.taskSeconds), `task-s ratio ${a.taskSeconds}`);
});

const REFUSED: readonly { args: string[]; culprit: string }[] = [
  { args: ["--plants", "0"], culprit: "--plants" },
  { args: ["--plants", "many"], culprit: "--plants" },
  { args: ["--from", "1.5"], culprit: "--from" },
];
for (const { args, culprit } of REFUSED) {
  Deno.test(`bench varied: ${args.join(" ")} is refused, naming ${culprit}`, () =>
    assertRefused(new URL("../scripts/bench_varied.ts", import.meta.url), args, culprit));
}
