/**
 * One bus for everything that happens in a run: ticks, missing samples, task changes, warnings.
 * The logger, the web UI (its history and event stream) and `/metrics` subscribe to it, so the
 * loop reports each fact once and does not know who listens.
 * @module
 */

import type { Decision } from "./control/types.ts";
import type { BackendEvent, TaskState, TaskView } from "./executor/types.ts";

/** Why a run ended. */
export type StopReason = "duration" | "max-ticks" | "signal" | "max-missing" | "error";

/** Every event of a run. `at` is epoch milliseconds from the loop's clock. */
export type RelayEvent =
  | {
    readonly type: "start";
    readonly at: number;
    readonly executor: string;
    readonly law: string;
    readonly dryRun: boolean;
  }
  | {
    readonly type: "tick";
    readonly at: number;
    readonly tick: number;
    readonly target: number;
    readonly metric: number;
    readonly decision: Decision;
    /** Ids of tasks started and stopped this tick (empty in dry-run). */
    readonly launched: readonly string[];
    readonly killed: readonly string[];
    readonly running: number;
    readonly pending: number;
    readonly dryRun: boolean;
  }
  | {
    readonly type: "missing";
    readonly at: number;
    readonly tick: number;
    readonly signal: "metric" | "target";
    readonly reason: string;
    /** Consecutive ticks without a valid sample, this one included. */
    readonly consecutive: number;
  }
  | {
    readonly type: "task";
    readonly at: number;
    readonly task: TaskView;
    readonly previous?: TaskState;
  }
  | { readonly type: "warning"; readonly at: number; readonly message: string }
  /** The backend's connection changed, or it received offers (Mesos only). */
  | { readonly type: "backend"; readonly at: number; readonly event: BackendEvent }
  | {
    readonly type: "stop";
    readonly at: number;
    readonly reason: StopReason;
    readonly ticks: number;
    readonly exitCode: number;
  };

/** A listener of {@linkcode EventBus}. */
export type Listener = (event: RelayEvent) => void;

/**
 * Synchronous publish/subscribe. A listener that throws is reported on stderr and kept; it never
 * breaks the loop.
 *
 * @example
 * ```ts
 * const bus = new EventBus();
 * const off = bus.on((e) => console.log(e.type));
 * bus.emit({ type: "warning", at: Date.now(), message: "hello" });
 * off();
 * ```
 */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: RelayEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        console.error(`relay.mesos: event listener failed: ${(err as Error).message}`);
      }
    }
  }
}
