/**
 * The law-change check over seeds (scripts/bench_seeds.ts): its ratios are the bench's, the same
 * on every call, and bad options get a one-line error and exit code 2.
 * @module
 */

import assert from "node:assert/strict";
import { assertRefused } from "./support/script_refusal.ts";
import { ratios } from "../scripts/bench_seeds.ts";
import { scenarios } from "../sim/scenarios.ts";

Deno.test("bench seeds: one seed's ratios to the causal reference are positive and repeat", () => {
  const s = scenarios().find((x) => x.name === "trigger queue ×10")!;
  const a = ratios(s, 42);
  const b = ratios(s, 42);
  assert.deepEqual(a, b);
  assert.ok(a.iae > 0 && Number.isFinite(a.iae), `IAE ratio ${a.iae}`);
  assert.ok(a.taskSeconds > 0 && Number.isFinite(a.taskSeconds), `task-s ratio ${a.taskSeconds}`);
});

const REFUSED: readonly { args: string[]; culprit: string }[] = [
  { args: ["--seeds", "1,,2"], culprit: "--seeds" },
  { args: ["--only", "no such"], culprit: "--only" },
];
for (const { args, culprit } of REFUSED) {
  Deno.test(`bench seeds: ${args.join(" ")} is refused, naming ${culprit}`, () =>
    assertRefused(new URL("../scripts/bench_seeds.ts", import.meta.url), args, culprit));
}
