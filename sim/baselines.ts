/**
 * The autoscalers people reach for today, as control laws for the benchmark: the Kubernetes HPA
 * ratio law (tolerance 0.1) and KEDA ScaledJob's default scaling strategy. Both are told what a
 * user would configure them with: how much one replica or job handles (`perTask`). Their moves
 * go through the same limits stage as Relay's laws (`applyLimits`). Bench only.
 * @module
 */

import type {
  ControlLaw,
  Decision,
  KindFacts,
  Limits,
  Move,
  Observation,
} from "../lib/control/types.ts";
import { applyLimits } from "../lib/control/limits.ts";
import { decide, noAction } from "../lib/control/types.ts";

/**
 * How a scenario's metric maps onto the autoscaler's input:
 * - `backlog`: the metric above target is work waiting (a queue); each task handles `perTask` of it
 *   (an AverageValue target).
 * - `capacity`: the metric is load not yet absorbed; each running task absorbs `perTask` (CPU
 *   utilization against a per-replica capacity).
 * - `count`: the metric grows by `perTask` per running task and should equal the target.
 */
export type Mapping = "backlog" | "capacity" | "count";

function acting(limits: Limits, obs: Observation): KindFacts {
  return limits.hasWarmer ? obs.tasks.warmer : obs.tasks.cooler;
}

/** A move through the limits stage every law shares (`lib/control/limits.ts`). */
function limited(
  limits: Limits,
  obs: Observation,
  move: Move,
  reason: string,
  detail: Decision["detail"],
): Decision {
  const out = applyLimits(move, obs, limits);
  return decide(out.move, out.code ?? "plan", out.note ? `${reason}; ${out.note}` : reason, detail);
}

function launch(
  limits: Limits,
  obs: Observation,
  n: number,
  reason: string,
  detail: Decision["detail"],
): Decision {
  return limited(
    limits,
    obs,
    { type: "start", kind: limits.hasWarmer ? "warmer" : "cooler", n },
    reason,
    detail,
  );
}

/**
 * desiredReplicas = ceil(currentReplicas × currentMetric / desiredMetric), left alone while the
 * ratio is within 10 % of 1. Replicas are this law's tasks (running or starting). Scaling down
 * stops tasks in kill mode; with coolers it lets them end.
 */
export class HpaLaw implements ControlLaw {
  readonly name = "hpa";
  constructor(
    readonly limits: Limits,
    readonly mapping: Mapping,
    readonly perTask: number,
  ) {}

  decide(obs: Observation): Decision {
    const facts = acting(this.limits, obs);
    // As the HPA does, the metric is read against the replicas that are ready (running); those
    // still starting count toward what exists but not toward the ratio.
    const ready = facts.running;
    const current = facts.running + facts.inflight;
    const excess = Math.max(0, Math.abs(obs.metric - obs.target));
    let desired: number;
    switch (this.mapping) {
      case "backlog":
        desired = Math.ceil(excess / this.perTask);
        break;
      case "capacity":
        // Utilization per replica against a target of 100 % of one replica's capacity.
        desired = Math.ceil(
          Math.max(0, obs.metric - obs.target + this.perTask * ready) / this.perTask,
        );
        break;
      case "count":
        desired = ready === 0
          ? (obs.target > obs.metric && current === 0 ? 1 : current)
          : Math.ceil(ready * obs.target / Math.max(obs.metric, 1e-9));
        break;
    }
    if (current > 0 && Math.abs(desired / current - 1) <= 0.1) desired = current;
    const detail = { current, desired };
    if (desired > current) return launch(this.limits, obs, desired - current, "scale up", detail);
    if (desired < current && this.limits.coolerMode === "kill" && this.limits.hasWarmer) {
      return limited(
        this.limits,
        obs,
        { type: "kill", n: current - desired },
        "scale down",
        detail,
      );
    }
    return noAction("within tolerance", detail);
  }
}

/**
 * KEDA ScaledJob, default strategy: maxScale = min(ceil(queueLength / targetAverageValue),
 * maxReplicaCount); start maxScale − (running + pending) jobs.
 */
export class KedaScaledJobLaw implements ControlLaw {
  readonly name = "keda";
  constructor(
    readonly limits: Limits,
    readonly perTask: number,
    readonly maxReplicaCount = 100,
  ) {}

  decide(obs: Observation): Decision {
    const facts = acting(this.limits, obs);
    const queueLength = Math.max(0, Math.abs(obs.metric - obs.target));
    const maxScale = Math.min(Math.ceil(queueLength / this.perTask), this.maxReplicaCount);
    const scale = maxScale - (facts.running + facts.inflight);
    const detail = { maxScale, running: facts.running + facts.inflight };
    return scale > 0
      ? launch(this.limits, obs, scale, "jobs for the queue", detail)
      : noAction("enough jobs", detail);
  }
}
