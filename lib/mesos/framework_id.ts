/**
 * Where the FrameworkID is kept between runs: in the state directory, or (with `--ha-zk`) in
 * ZooKeeper, so that whichever instance leads subscribes as the same framework and adopts its
 * tasks. Invariants: a state file that is not there means a first run; any other failure to read
 * it is said and the run goes on as a new framework; failing to read the ID from ZooKeeper is
 * fatal (subscribing as a new framework would leave the running tasks to nobody); a failed save
 * is said, with what it will cost, and never stops the run.
 * @module
 */

import type { LogFn } from "../log.ts";
import { FRAMEWORK_ID_FILE, readFrameworkId, writeFrameworkId } from "./state_dir.ts";

/** A store other than the state directory (the HA election's znode). */
export interface FrameworkIdStore {
  load(): Promise<string | undefined>;
  save(id: string): Promise<void>;
}

/** What {@linkcode loadFrameworkId} found. */
export type LoadedFrameworkId =
  | { readonly id?: string }
  | { readonly fatal: string };

/**
 * The saved FrameworkID, from `store` or else the state directory; says where it came from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const store = { load: () => Promise.resolve("fw-7"), save: () => Promise.resolve() };
 * assert.deepEqual(await loadFrameworkId("/nowhere", store, () => {}), { id: "fw-7" });
 * ```
 */
export async function loadFrameworkId(
  stateDir: string,
  store: FrameworkIdStore | undefined,
  log: LogFn,
): Promise<LoadedFrameworkId> {
  try {
    const saved = store ? await store.load() : readFrameworkId(stateDir);
    if (!saved) return {};
    log(
      "info",
      `mesos: re-subscribing as framework ${saved} (from ${store ? "ZooKeeper" : "state dir"})`,
    );
    return { id: saved };
  } catch (err) {
    if (store) return { fatal: `cannot read the FrameworkID: ${(err as Error).message}` };
    if (!(err instanceof Deno.errors.NotFound)) {
      log("warn", `mesos: cannot read ${statePath(stateDir)}: ${(err as Error).message}`);
    }
    return {};
  }
}

/** Saves `id` to `store` or else the state directory; a failure is logged, not thrown. */
export function saveFrameworkId(
  stateDir: string,
  store: FrameworkIdStore | undefined,
  id: string,
  log: LogFn,
): void {
  if (store) {
    store.save(id).catch((err) =>
      log(
        "error",
        `mesos: cannot save the FrameworkID: ${(err as Error).message}; ` +
          "a new leader will register a new framework",
      )
    );
    return;
  }
  try {
    writeFrameworkId(stateDir, id);
  } catch (err) {
    log(
      "error",
      `mesos: cannot save the FrameworkID to ${statePath(stateDir)}: ${(err as Error).message}; ` +
        "a restart will register a new framework",
    );
  }
}

function statePath(stateDir: string): string {
  return `${stateDir}/${FRAMEWORK_ID_FILE}`;
}
