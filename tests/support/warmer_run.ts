/**
 * One local warmer run for a while, as the task-output tests watch it: its log lines and how far
 * the event loop fell behind meanwhile.
 * @module
 */

import { systemClock } from "../../lib/clock.ts";
import { LocalExecutor } from "../../lib/executor/local.ts";

/** A log line of the executor. */
export interface LoggedLine {
  readonly level: string;
  readonly msg: string;
  readonly fields?: Record<string, unknown>;
}

/** Runs one warmer for `ms`, collecting log lines and the worst event-loop lag. */
export async function runWarmer(
  command: string,
  ms: number,
): Promise<{ lines: LoggedLine[]; worstLag: number }> {
  const lines: LoggedLine[] = [];
  const ex = new LocalExecutor({
    warmer: command,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    taskTimeoutMs: 0,
    clock: systemClock,
    log: (level, msg, fields) => lines.push({ level, msg, fields }),
    killGraceMs: 500,
  });
  let worstLag = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worstLag = Math.max(worstLag, now - last - 20);
    last = now;
  }, 20);
  const [id] = ex.launch("warmer", 1);
  await new Promise((r) => setTimeout(r, ms));
  await ex.shutdown("kill", 0);
  clearInterval(probe);
  return { lines: lines.filter((l) => l.fields?.task === id), worstLag };
}
