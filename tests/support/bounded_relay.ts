/**
 * Runs relay.mesos as a subprocess within a wall-time limit, for end-to-end tests that must end
 * in bounded time even when a run hangs: past the limit the process gets SIGTERM (its tasks are
 * then handled by its `--on-exit` mode), and SIGKILL a few seconds later.
 * @module
 */

import { relayCommand, type RelayProcessOptions } from "./relay_process.ts";

/** Between SIGTERM at the limit and SIGKILL: relay.mesos's own task kill grace (2 s) and a bit. */
const KILL_AFTER_TERM_MS = 3000;

/** What a bounded run returned. */
export interface BoundedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly seconds: number;
  /** The limit was reached and the process was signalled. */
  readonly timedOut: boolean;
}

/** Runs `relay.mesos ARGS` to its end, or stops it after `limitMs`. */
export async function runRelayWithin(
  args: string[],
  limitMs: number,
  opts: RelayProcessOptions = {},
): Promise<BoundedRun> {
  const started = performance.now();
  const child = relayCommand(args, opts).spawn();
  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const termTimer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGTERM");
    killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_TERM_MS);
  }, limitMs);
  try {
    const out = await child.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
      seconds: (performance.now() - started) / 1000,
      timedOut,
    };
  } finally {
    clearTimeout(termTimer);
    clearTimeout(killTimer);
  }
}
