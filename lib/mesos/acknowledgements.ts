/**
 * Acknowledging status updates. Invariants: every delivery that carries a uuid is acknowledged,
 * a re-sent one too (its first acknowledgement may have been lost, and the agent holds the
 * task's later updates until one arrives); updates the master makes up (reconciliation) carry
 * none and are not acknowledged; a uuid is remembered only to count duplicate deliveries, and
 * forgotten after `forgetAfterMs`, so memory stays flat over a long run.
 * @module
 */

import type { Clock } from "../clock.ts";
import type { Call, TaskStatus } from "./messages.ts";

/** What {@linkcode Acknowledgements} needs. */
export interface AcknowledgementsDeps {
  readonly clock: Clock;
  /** Sends a call without waiting for it. */
  readonly send: (call: Omit<Call, "framework_id">) => void;
  /** How long a uuid is remembered to count its duplicates. */
  readonly forgetAfterMs: number;
}

/**
 * The ACKNOWLEDGE calls of one executor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "../clock.ts";
 * const sent: string[] = [];
 * const acks = new Acknowledgements({
 *   clock: new VirtualClock(0),
 *   send: (c) => sent.push(c.acknowledge!.uuid),
 *   forgetAfterMs: 1000,
 * });
 * const status = {
 *   task_id: { value: "t" }, state: "TASK_RUNNING" as const, agent_id: { value: "a" }, uuid: "u1",
 * };
 * assert.equal(acks.acknowledge(status), "first");
 * assert.equal(acks.acknowledge(status), "again");
 * assert.deepEqual(sent, ["u1", "u1"]);
 * ```
 */
export class Acknowledgements {
  readonly #deps: AcknowledgementsDeps;
  /** Uuids seen, with when, in time order. */
  readonly #seen = new Map<string, number>();

  constructor(deps: AcknowledgementsDeps) {
    this.#deps = deps;
  }

  /**
   * Acknowledges `status` if it carries a uuid: `first` for a uuid not seen before, `again` for
   * a re-delivery; undefined when there is nothing to acknowledge.
   */
  acknowledge(status: TaskStatus): "first" | "again" | undefined {
    const { uuid, agent_id } = status;
    if (!uuid || !agent_id) return undefined;
    const again = this.#seen.has(uuid);
    if (!again) this.#seen.set(uuid, this.#deps.clock.now());
    this.#deps.send({
      type: "ACKNOWLEDGE",
      acknowledge: { agent_id, task_id: status.task_id, uuid },
    });
    return again ? "again" : "first";
  }

  /** Forgets the uuids seen longer than `forgetAfterMs` ago. */
  forgetOld(): void {
    const cutoff = this.#deps.clock.now() - this.#deps.forgetAfterMs;
    for (const [uuid, at] of this.#seen) {
      if (at >= cutoff) break; // Insertion order is time order.
      this.#seen.delete(uuid);
    }
  }
}
