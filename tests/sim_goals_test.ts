import assert from "node:assert/strict";
import { checkGoals, peakEngaged } from "../sim/goals.ts";
import type { SimScore } from "../sim/simulate.ts";
import { smallMultiples, ticks } from "../sim/svg.ts";

/** A score with the given totals and a series of (target, metric, engaged) per second. */
function score(
  iae: number,
  taskSeconds: number,
  maxOvershoot: number,
  points: [number, number, number][] = [],
): SimScore {
  return {
    iae,
    ise: 0,
    maxOvershoot,
    settlingTime: 0,
    actions: 0,
    tasksStarted: 0,
    taskSeconds,
    effectSeconds: taskSeconds,
    series: points.map(([target, metric, engaged], t) => ({
      t,
      target,
      metric,
      effective: engaged,
      engaged,
    })),
  };
}

Deno.test("goals: IAE and task-seconds are ratios to the causal reference", () => {
  const [iae, ts] = checkGoals(score(300, 100, 0), score(100, 100, 0), {});
  assert.equal(iae.value, 3);
  assert.equal(iae.met, false);
  assert.equal(ts.value, 1);
  assert.equal(ts.met, true);
  const [, saturated] = checkGoals(score(100, 190, 0), score(100, 100, 0), { saturated: true });
  assert.equal(saturated.limit, 2);
  assert.equal(saturated.met, true);
});

Deno.test("goals: consumer overshoot counts tasks, and says when the causal reference misses too", () => {
  const checks = checkGoals(score(1, 1, 30), score(1, 1, 25), { countEffect: 10 });
  const over = checks.find((g) => g.goal.startsWith("overshoot"))!;
  assert.equal(over.value, 3);
  assert.equal(over.met, false);
  assert.equal(over.causalMeets, false);
});

Deno.test("goals: a burst after starvation is judged against the causal peak or the need + 1", () => {
  // Window ends at t = 2; target 10 with effect 1: need 10, so 11 tasks are allowed.
  const ours = [...Array(40)].map((_, t) =>
    [10, 10, t === 5 ? 14 : 10] as [number, number, number]
  );
  const causal = [...Array(40)].map(() => [10, 10, 10] as [number, number, number]);
  const burst = checkGoals(score(1, 1, 0, ours), score(1, 1, 0, causal), {
    countEffect: 1,
    starvedUntil: 2,
  }).at(-1)!;
  assert.equal(burst.ours, 14);
  assert.equal(burst.limit, 11);
  assert.equal(burst.met, false);
  // A peak later than the span does not count.
  assert.equal(peakEngaged(score(1, 1, 0, ours).series, 6).peak, 10);
});

Deno.test("charts: round ticks, every panel drawn with the target on top", () => {
  assert.deepEqual(ticks(0, 599, 5), [0, 200, 400]);
  assert.deepEqual(ticks(0, 20), [0, 5, 10, 15, 20]);
  const pts = [{ t: 0, v: 0 }, { t: 599, v: 4 }];
  const svg = smallMultiples("q", "queue length (items)", [
    { label: "a", color: "#111", points: pts, target: pts, reference: true },
    { label: "b", color: "#222", points: [{ t: 0, v: 0 }, { t: 599, v: 1000 }], target: pts },
  ]);
  assert.match(svg, /time \(s\)/);
  assert.match(svg, /queue length \(items\)/);
  assert.match(svg, /off scale, peak 1000/);
  assert.match(svg, />600</, "the time axis ends on a round number");
  // In each panel the target (dashed) comes after, so over, the controller's line.
  const lines = [...svg.matchAll(/<polyline[^>]*stroke="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(lines, ["#111", "#000", "#222", "#000"]);
});
