/**
 * Whether the master sends us offers: REVIVE while tasks wait for one, SUPPRESS when none do.
 * Invariants: one SUPPRESS or REVIVE in flight at a time (calls travel on separate connections,
 * so two in flight may reach the master in either order); when it is answered the need is looked
 * at again; an answer from an earlier subscription changes nothing; after a failed call the
 * state is unknown and the next {@linkcode OfferInterest.sync} (a tick) tries again, so a failing
 * master is not hammered; a task waiting {@linkcode REVIVE_AFTER_MS} with no offer and no REVIVE
 * in that time gets a REVIVE (it also clears the filters our declines set).
 * @module
 */

import type { Clock } from "../clock.ts";
import type { Call } from "./messages.ts";

/** How long tasks may wait with no offer and no REVIVE before REVIVE is sent again. */
export const REVIVE_AFTER_MS = 5000;

/** What {@linkcode OfferInterest} needs of the connection and its owner. */
export interface OfferInterestDeps {
  readonly clock: Clock;
  /** True while subscribed (and not shutting down): no call goes out otherwise. */
  readonly active: () => boolean;
  readonly call: (call: Omit<Call, "framework_id">) => Promise<void>;
  /** A SUPPRESS or REVIVE failed (logged and counted by the owner). */
  readonly failed: (err: unknown) => void;
  /**
   * When the oldest task that may launch now was asked for; undefined when no task wants an
   * offer (none waits, or every waiting kind is backed off).
   */
  readonly oldestWaiting: () => number | undefined;
}

/**
 * The master's offer state as we last set it, kept in line with what the waiting tasks need.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "../clock.ts";
 * const calls: string[] = [];
 * let waitingSince: number | undefined;
 * const interest = new OfferInterest({
 *   clock: new VirtualClock(0),
 *   active: () => true,
 *   call: (c) => (calls.push(c.type), Promise.resolve()),
 *   failed: () => {},
 *   oldestWaiting: () => waitingSince,
 * });
 * interest.subscribed(); // a subscription starts with offers on
 * assert.deepEqual(calls, ["SUPPRESS"]); // nothing waits
 * ```
 */
export class OfferInterest {
  readonly #deps: OfferInterestDeps;
  /** Whether the master was last told to send offers, or undefined after such a call failed. */
  #wanted: boolean | undefined = true;
  #inFlight = false;
  /** Counts subscriptions, so an answer from an earlier one does not change `#wanted`. */
  #subscription = 0;
  /** When offers last came, or REVIVE was last sent: tasks waiting long after both get a REVIVE. */
  #lastOffersAt = 0;
  #lastReviveAt = 0;

  constructor(deps: OfferInterestDeps) {
    this.#deps = deps;
  }

  /** A new subscription: it starts with offers on, and a call of the old one no longer counts. */
  subscribed(): void {
    this.#subscription++;
    this.#wanted = true;
    this.#inFlight = false;
    this.#lastOffersAt = this.#deps.clock.now();
    this.sync();
  }

  /** Offers came (the need is looked at again by the caller, after it used them). */
  offersCame(): void {
    this.#lastOffersAt = this.#deps.clock.now();
  }

  /** Sends REVIVE or SUPPRESS if what the master was told differs from what tasks need. */
  sync(): void {
    if (this.#inFlight || !this.#deps.active()) return;
    const now = this.#deps.clock.now();
    const oldest = this.#deps.oldestWaiting();
    const want = oldest !== undefined;
    let starving = false;
    if (want && this.#wanted === true) {
      const since = Math.max(oldest, this.#lastOffersAt, this.#lastReviveAt);
      starving = now - since >= REVIVE_AFTER_MS;
    }
    if (this.#wanted === want && !starving) return;
    if (want) this.#lastReviveAt = now;
    const subscription = this.#subscription;
    this.#inFlight = true;
    this.#deps.call(want ? { type: "REVIVE", revive: {} } : { type: "SUPPRESS", suppress: {} })
      .then(
        () => {
          if (subscription !== this.#subscription) return;
          this.#wanted = want;
          this.#inFlight = false;
          this.sync();
        },
        (err) => {
          this.#deps.failed(err);
          if (subscription !== this.#subscription) return;
          this.#wanted = undefined;
          this.#inFlight = false;
        },
      );
  }
}
