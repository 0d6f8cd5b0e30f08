/**
 * Runs main.ts as a subprocess, as end-to-end tests need: the same entry point that
 * `deno task compile` builds, with the permissions of `deno task test`.
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The grants of `deno task test`, which a subprocess of a test gets too. */
export const TEST_PERMS = [
  "--allow-net=127.0.0.1",
  "--allow-run",
  "--allow-env",
  "--allow-read",
  "--allow-write",
];

/** Options of a relay.mesos subprocess. */
export interface RelayProcessOptions {
  readonly cwd?: string;
  /** Added to the environment of the test. */
  readonly env?: Record<string, string>;
}

/** A `Deno.Command` for `relay.mesos ARGS` (spawn it or take its output). */
export function relayCommand(args: string[], opts: RelayProcessOptions = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...TEST_PERMS, MAIN, ...args],
    cwd: opts.cwd,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs relay.mesos to the end and returns its exit code and output. */
export async function runRelay(args: string[], opts: RelayProcessOptions = {}) {
  const out = await relayCommand(args, opts).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** The JSON lines of a `--log-format json` run. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/**
 * Arguments for relay.mesos on a test master, as the Mesos end-to-end tests run it: the metric is
 * its own running tasks, warmers are `exec sleep 60` of 0.5 cpu, cooling kills them; `extra` adds
 * the tick delay, exit mode and the rest.
 */
export function sleepWarmersOnMesos(
  masterUrl: string,
  stateDir: string,
  target: number,
  extra: string[] = [],
): string[] {
  return [
    "--mesos-master",
    masterUrl,
    "--metric",
    "tasks:running",
    "--target",
    String(target),
    "--warmer",
    "exec sleep 60",
    "--cooler-mode",
    "kill",
    "--mesos-task-resources",
    "cpus=0.5,mem=64",
    "--state-dir",
    stateDir,
    ...extra,
  ];
}

/**
 * Reads a spawned relay's stdout until `ready` holds of what it printed (or `timeoutMs` passed,
 * or the output ended), sends `signal`, reads the rest and waits for the exit.
 */
export async function signalWhen(
  child: Deno.ChildProcess,
  ready: (stdout: string) => boolean,
  signal: Deno.Signal,
  timeoutMs = 10_000,
): Promise<{ stdout: string; status: Deno.CommandStatus }> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  const deadline = Date.now() + timeoutMs;
  while (!ready(stdout) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += value;
  }
  child.kill(signal);
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += value;
  }
  const status = await child.status;
  await child.stderr.cancel();
  return { stdout, status };
}

/** A running relay.mesos whose stdout is collected as it comes (so the pipe never fills). */
export function spawnRelay(args: string[], opts: RelayProcessOptions = {}) {
  const child = relayCommand(args, opts).spawn();
  let stdout = "";
  const drained = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  return {
    child,
    stdout: () => stdout,
    /** Waits for the exit; returns the status and all output. */
    async done() {
      const status = await child.status;
      await drained;
      return { status, stdout, stderr: await stderr };
    },
  };
}
