/**
 * A check for changes of the control law: the adaptive law against the causal reference on every
 * benchmark scenario (`sim/scenarios.ts`) over several seeds, where `deno task bench` runs one
 * (42). A scenario with noise, random lives or a random load is a different plant per seed, and a
 * change of the law can move one seed's trajectory a long way by chance; the goals met over all
 * seeds, and the geometric means of the ratios, say whether a change helps. Prints, per scenario,
 * the IAE and task-seconds ratios per seed, then the totals. Writes nothing.
 *
 * `deno task bench:seeds` (seeds 42, 1, 2, 3), or `-- --seeds 42,7 --only "trigger queue"`.
 * @module
 */

import { parseArgs } from "node:util";
import {
  IAE_LIMIT,
  ratioToCausal,
  TASK_SECONDS_LIMIT,
  TASK_SECONDS_LIMIT_SATURATED,
} from "../sim/goals.ts";
import { BENCH_SEED, LAWS, runScenario } from "../sim/bench_laws.ts";
import { type Scenario, scenarios } from "../sim/scenarios.ts";

/** The bench's own seed first, then three more. */
const DEFAULT_SEEDS = `${BENCH_SEED},1,2,3`;

/**
 * IAE and task-seconds of the adaptive law over the causal reference's, on one seed.
 *
 * @example
 * ```ts
 * const s = scenarios().find((x) => x.name === "queue")!;
 * ratios(s, 42); // { iae: 5.45…, taskSeconds: 0.99… } as in bench/RESULTS.md
 * ```
 */
export function ratios(s: Scenario, seed: number): { iae: number; taskSeconds: number } {
  const a = runScenario(s, LAWS.adaptive, seed)!;
  const c = runScenario(s, LAWS.causal, seed)!;
  return {
    iae: ratioToCausal(a.iae, c.iae),
    taskSeconds: ratioToCausal(a.taskSeconds, c.taskSeconds),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { seeds: { type: "string", default: DEFAULT_SEEDS }, only: { type: "string" } },
  });
  const parts = values.seeds.split(",").map((x) => x.trim());
  const seeds = parts.map(Number);
  if (parts.some((x) => x === "") || seeds.some((x) => !Number.isInteger(x))) {
    console.error(`--seeds must be whole numbers separated by commas: ${values.seeds}`);
    Deno.exit(2);
  }
  const chosen = scenarios().filter((s) => !values.only || s.name.includes(values.only));
  if (chosen.length === 0) {
    console.error(`--only matches no scenario: ${values.only}`);
    Deno.exit(2);
  }
  let logIae = 0;
  let logTaskSeconds = 0;
  let runs = 0;
  let met = 0;
  for (const s of chosen) {
    const limit = s.saturated ? TASK_SECONDS_LIMIT_SATURATED : TASK_SECONDS_LIMIT;
    const cells: string[] = [];
    for (const seed of seeds) {
      const r = ratios(s, seed);
      // A ratio of 0 (nothing to do, done) counts as a thousandth in the geometric mean.
      logIae += Math.log(Math.max(r.iae, 1e-3));
      logTaskSeconds += Math.log(Math.max(r.taskSeconds, 1e-3));
      runs++;
      met += (r.iae <= IAE_LIMIT ? 1 : 0) + (r.taskSeconds <= limit ? 1 : 0);
      cells.push(`${r.iae.toFixed(2)}/${r.taskSeconds.toFixed(2)}`);
    }
    console.log(`${s.name.padEnd(40)} ${cells.join("  ")}`);
  }
  console.log(
    `seeds ${seeds.join(",")}: IAE / task-seconds ÷ causal, geometric means ` +
      `${Math.exp(logIae / runs).toFixed(3)} / ${Math.exp(logTaskSeconds / runs).toFixed(3)}; ` +
      `ratio goals met ${met} of ${2 * runs}`,
  );
}
