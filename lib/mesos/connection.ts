/**
 * The seam between the Mesos executor and its connection to the master: what the executor needs
 * of a connection, and what the connection reports back. `SchedulerClient` is the real one; tests
 * drive the executor with a double.
 * @module
 */

import type { Call, Event, FrameworkInfo } from "./messages.ts";

/** What a connection tells its owner. */
export interface ClientHandlers {
  /** The current FrameworkInfo to subscribe with (its `id` set once known). */
  frameworkInfo(): FrameworkInfo;
  onEvent(event: Event): void;
  onConnected(info: { leader: string; frameworkId: string; heartbeatSeconds: number }): void;
  onDisconnected(reason: string): void;
}

/** What the executor needs of a scheduler connection (a `SchedulerClient`, or a test double). */
export interface SchedulerConnection {
  readonly connected: boolean;
  readonly reconnects: number;
  start(): void;
  call(call: Omit<Call, "framework_id">): Promise<void>;
  close(): Promise<void>;
}
