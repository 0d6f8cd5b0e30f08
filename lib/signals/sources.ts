/**
 * Builds readable signals from spec strings: the I/O side of signals (shell commands, files,
 * HTTP, plug-in modules) plus the pure ones (constants, waveforms, task counts). Every read can
 * be aborted, and {@linkcode readWithTimeout} bounds it in time.
 * @module
 */

import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import { lastNonEmptyLine, parseSample } from "./number.ts";
import { parseSignalSpec, type SignalSpec } from "./spec.ts";
import { type ReadContext, type Signal, SignalReadError } from "./types.ts";
import { scheduleAt, sineAt, squareAt } from "./waveforms.ts";

/**
 * Creates a signal from its spec. Throws {@linkcode SignalSpecError} for a malformed spec.
 *
 * @example
 * ```ts
 * const queue = createSignal("cmd:redis-cli llen jobs");
 * const value = await readWithTimeout(queue, { now: Date.now(), tasks: { running: 0, pending: 0 } }, 5000);
 * ```
 */
export function createSignal(spec: string): Signal {
  const parsed = parseSignalSpec(spec);
  const read = reader(parsed);
  const signal: Signal = { spec, read: read.read };
  if (read.close) signal.close = read.close;
  return signal;
}

function reader(spec: SignalSpec): Pick<Signal, "read" | "close"> {
  switch (spec.kind) {
    case "constant":
      return { read: () => Promise.resolve(spec.value) };
    case "sine":
      return { read: (ctx) => Promise.resolve(sineAt(spec, ctx.now)) };
    case "square":
      return { read: (ctx) => Promise.resolve(squareAt(spec, ctx.now)) };
    case "schedule":
      return { read: (ctx) => Promise.resolve(scheduleAt(spec, ctx.now)) };
    case "tasks":
      return { read: (ctx) => Promise.resolve(ctx.tasks[spec.state]) };
    case "cmd":
      return { read: (ctx) => readCommand(spec.command, ctx.signal) };
    case "file":
      return { read: (ctx) => readFile(spec.path, ctx.signal) };
    case "http":
      return { read: (ctx) => readHttp(spec.url, spec.pointer, ctx.signal) };
    case "module":
      return moduleReader(spec.path, spec.exportName);
  }
}

async function readCommand(command: string, signal: AbortSignal): Promise<number> {
  const child = new Deno.Command("sh", {
    args: ["-c", command],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const killGroup = () => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  signal.addEventListener("abort", killGroup, { once: true });
  try {
    const output = await child.output();
    if (signal.aborted) throw new SignalReadError("aborted");
    if (!output.success) {
      const err = lastNonEmptyLine(new TextDecoder().decode(output.stderr)).trim().slice(0, 80);
      const how = output.signal ? `killed by ${output.signal}` : `exit code ${output.code}`;
      throw new SignalReadError(`command failed: ${how}${err ? `: ${err}` : ""}`);
    }
    return parseSample(lastNonEmptyLine(new TextDecoder().decode(output.stdout)));
  } finally {
    signal.removeEventListener("abort", killGroup);
    // The shell may have left children behind (`sleep 9 &`): clean up the whole group.
    killGroup();
  }
}

async function readFile(path: string, signal: AbortSignal): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(path, { signal });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new SignalReadError(`file not found: ${path}`);
    throw new SignalReadError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseSample(lastNonEmptyLine(text));
}

async function readHttp(url: string, pointer: string | undefined, signal: AbortSignal) {
  let response: Response;
  try {
    response = await fetch(url, { signal, headers: { accept: "application/json, text/plain" } });
  } catch (err) {
    if (signal.aborted) throw new SignalReadError("aborted");
    throw new SignalReadError(`GET failed: ${(err as Error).message.split("\n")[0]}`);
  }
  const body = await response.text();
  if (!response.ok) throw new SignalReadError(`HTTP ${response.status}`);
  if (pointer === undefined) return parseSample(body);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new SignalReadError("body is not JSON (the URL has a #/pointer)");
  }
  return toNumber(resolvePointer(doc, pointer), pointer);
}

/**
 * Resolves an RFC 6901 JSON pointer (`/a/0/b`, with `~1` for `/` and `~0` for `~`).
 *
 * @example
 * ```ts
 * resolvePointer({ queue: { depth: 3 } }, "/queue/depth"); // 3
 * ```
 */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(key) && Number(key) < node.length) {
      node = node[Number(key)];
    } else if (node !== null && typeof node === "object" && !Array.isArray(node) && key in node) {
      node = (node as Record<string, unknown>)[key];
    } else {
      throw new SignalReadError(`JSON pointer ${pointer}: nothing at "${key}"`);
    }
  }
  return node;
}

function toNumber(value: unknown, where: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") return parseSample(value);
  throw new SignalReadError(`${where}: not a number: ${JSON.stringify(value)?.slice(0, 40)}`);
}

type Generator = AsyncIterator<unknown> | Iterator<unknown>;

function moduleReader(path: string, exportName: string): Pick<Signal, "read" | "close"> {
  let generator: Promise<Generator> | undefined;
  const load = async (): Promise<Generator> => {
    const url = pathToFileURL(isAbsolute(path) ? path : resolve(Deno.cwd(), path)).href;
    let mod: Record<string, unknown>;
    try {
      mod = await import(url);
    } catch (err) {
      throw new SignalReadError(
        `module ${path}: cannot load: ${(err as Error).message.split("\n")[0]}`,
      );
    }
    const fn = mod[exportName];
    if (typeof fn !== "function") {
      throw new SignalReadError(`module ${path}: no function export "${exportName}"`);
    }
    const it = fn() as Generator;
    if (!it || typeof it.next !== "function") {
      throw new SignalReadError(`module ${path}#${exportName}: not a generator function`);
    }
    return it;
  };
  return {
    async read() {
      generator ??= load();
      let it: Generator;
      try {
        it = await generator;
      } catch (err) {
        generator = undefined; // Try loading again next tick.
        throw err;
      }
      const step = await it.next();
      if (step.done) throw new SignalReadError(`module ${path}#${exportName}: generator finished`);
      return toNumber(step.value, `module ${path}#${exportName}`);
    },
    async close() {
      if (!generator) return;
      try {
        const it = await generator;
        await it.return?.();
      } catch {
        // Closing a failed or finished generator is not an error.
      }
    },
  };
}

/**
 * Reads `signal`, giving up after `timeoutMs` even if the source ignores the abort. Rejects with
 * {@linkcode SignalReadError} on timeout, failure or a bad value.
 *
 * @example
 * ```ts
 * await readWithTimeout(createSignal("cmd:sleep 9; echo 1"), { now: Date.now(), tasks: { running: 0, pending: 0 } }, 200);
 * // rejects: timed out after 0.2 s
 * ```
 */
export function readWithTimeout(
  signal: Signal,
  ctx: Omit<ReadContext, "signal">,
  timeoutMs: number,
  outer?: AbortSignal,
): Promise<number> {
  const controller = new AbortController();
  const onOuter = () => controller.abort();
  outer?.addEventListener("abort", onOuter, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new SignalReadError(`timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  const value = Promise.resolve().then(() => signal.read({ ...ctx, signal: controller.signal }));
  return Promise.race([value, timeout]).finally(() => {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuter);
    // A source that ignored the abort may still settle later; nobody waits for it.
    value.catch(() => {});
  });
}
