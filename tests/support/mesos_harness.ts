/**
 * A MesosExecutor wired to a real SchedulerClient against the test master, as the end-to-end and
 * fault tests need it: one place for the framework's settings, so each test says only what it
 * changes (leader, content type, watchdog floor, backoff, name, roles, state dir).
 * @module
 */

import { systemClock } from "../../lib/clock.ts";
import { SchedulerClient } from "../../lib/mesos/client.ts";
import type { ContentType } from "../../lib/mesos/codec.ts";
import { MesosExecutor, type MesosExecutorOptions } from "../../lib/mesos/framework.ts";

/** An executor under test, with what it logged and reported as fatal. */
export interface FrameworkHarness {
  executor: MesosExecutor;
  client: () => SchedulerClient;
  logs: string[];
  fatal: string[];
  stateDir: string;
}

/**
 * What a test may change; the rest of `MesosExecutorOptions` may be overridden too (`clock` is
 * then the client's as well).
 */
export type FrameworkSettings = {
  leader: () => string | undefined;
  contentType?: ContentType;
  heartbeatFloorMs?: number;
  backoffMs?: { initial: number; max: number };
  stateDir?: string;
} & Partial<MesosExecutorOptions>;

/**
 * Creates and starts the executor (warmers `exec sleep 60`, 1 cpu and 128 MB each).
 *
 * @example
 * ```ts
 * const h = await startFramework({ leader: () => master.url, frameworkName: "e2e" });
 * h.executor.launch("warmer", 2);
 * ```
 */
export async function startFramework(settings: FrameworkSettings): Promise<FrameworkHarness> {
  const { leader, contentType, heartbeatFloorMs, backoffMs, ...overrides } = settings;
  const stateDir = settings.stateDir ?? await Deno.makeTempDir();
  const logs: string[] = [];
  const fatal: string[] = [];
  let client!: SchedulerClient;
  const log = (level: string, msg: string) => logs.push(`${level} ${msg}`);
  const executor = new MesosExecutor({
    connect: (handlers) =>
      client = new SchedulerClient({
        leader,
        contentType: contentType ?? "protobuf",
        maxFrameBytes: 1 << 20,
        heartbeatFloorMs: heartbeatFloorMs ?? 1500,
        backoffMs: backoffMs ?? { initial: 100, max: 1000 },
        clock: overrides.clock ?? systemClock,
        // Subscriptions in these runs last a second or so: count them healthy, as a long one
        // would be, so that a fault's first retry comes after the initial backoff.
        healthyAfterMs: 250,
        log,
      }, handlers),
    frameworkName: "e2e",
    user: Deno.env.get("USER") ?? "root",
    roles: ["*"],
    checkpoint: true,
    failoverTimeoutSeconds: 3600,
    labels: [],
    refuseSeconds: 1,
    taskResources: { cpus: 1, mem: 128, disk: 0, gpus: 0 },
    warmer: "exec sleep 60",
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    uris: [],
    clock: systemClock,
    log,
    onFatal: (r) => fatal.push(r),
    ...overrides,
    stateDir,
  });
  await executor.start();
  return { executor, client: () => client, logs, fatal, stateDir };
}
