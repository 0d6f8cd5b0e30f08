/**
 * Builds readable signals from spec strings: the I/O side of signals (shell commands, files,
 * HTTP, plug-in modules) plus the pure ones (constants, waveforms, task counts). Every read can
 * be aborted, and {@linkcode readWithTimeout} bounds it in time, so one stuck source costs a
 * missing sample rather than a stuck control loop.
 * @module
 */

import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import { lastNonEmptyLine, parseSample } from "./number.ts";
import { type ParsedSignal, parseSignalSpec, type SignalSpec } from "./spec.ts";
import { type ReadContext, type Signal, SignalReadError } from "./types.ts";
import { scheduleAt, sineAt, squareAt } from "./waveforms.ts";

/** Options of {@linkcode createSignal}. */
export interface SignalOptions {
  /**
   * The whole environment of a `cmd:` signal's shell (PATH and what `--signal-env` names); by
   * default only Relay's PATH. Relay's own environment (its secrets) never reaches it.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** Exit codes of `sh -c` for a command that is not found (127) or not executable (126). */
const NOT_RUNNABLE_EXITS: ReadonlySet<number> = new Set([126, 127]);

/**
 * Creates a signal from its spec, as text or already parsed (the options give it parsed).
 * Throws {@linkcode SignalSpecError} for malformed text; I/O only happens on reads (a `module:`
 * is imported on its first read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const queue = createSignal("cmd:echo 42"); // e.g. cmd:redis-cli llen jobs
 * const ctx = { now: Date.now(), tasks: { running: 0, pending: 0 } };
 * assert.equal(await readWithTimeout(queue, ctx, 5000), 42);
 * ```
 */
export function createSignal(
  given: string | ParsedSignal,
  options: SignalOptions = {},
): Signal {
  const { text: spec, spec: parsed } = typeof given === "string"
    ? { text: given, spec: parseSignalSpec(given) }
    : given;
  const env = options.env ?? (parsed.kind === "cmd" ? defaultCommandEnv() : {});
  const { read, close } = reader(parsed, env);
  return close ? { spec, read, close } : { spec, read };
}

/** Relay's PATH alone: what a `cmd:` signal gets when nothing else is said. */
function defaultCommandEnv(): Record<string, string> {
  const path = Deno.env.get("PATH");
  return path === undefined ? {} : { PATH: path };
}

function reader(
  spec: SignalSpec,
  env: Readonly<Record<string, string>>,
): Pick<Signal, "read" | "close"> {
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
      return { read: (ctx) => readCommand(spec.command, ctx.signal, env) };
    case "file":
      return { read: (ctx) => readFile(spec.path, ctx.signal) };
    case "http":
      return { read: (ctx) => readHttp(spec.url, spec.pointer, ctx.signal) };
    case "module":
      return moduleReader(spec.path, spec.exportName);
  }
}

/** First line of an error's message, for one-line reasons. */
function reason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}

async function readCommand(
  command: string,
  signal: AbortSignal,
  env: Readonly<Record<string, string>>,
): Promise<number> {
  if (signal.aborted) throw new SignalReadError("aborted");
  // Its own process group, so that a timeout also kills what the shell started.
  const child = new Deno.Command("sh", {
    args: ["-c", command],
    clearEnv: true,
    env: { ...env },
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
      const tail = lastNonEmptyLine(new TextDecoder().decode(output.stderr)).trim();
      const shown = tail.length > 80 ? `${tail.slice(0, 80)}…` : tail;
      const how = output.signal ? `killed by ${output.signal}` : `exit code ${output.code}`;
      throw new SignalReadError(shown ? `${how}: ${shown}` : how, {
        permanent: !output.signal && NOT_RUNNABLE_EXITS.has(output.code),
      });
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
    if (signal.aborted) throw new SignalReadError("aborted");
    if (err instanceof Deno.errors.NotFound) throw new SignalReadError(`file not found: ${path}`);
    throw new SignalReadError(`cannot read ${path}: ${reason(err)}`);
  }
  return parseSample(lastNonEmptyLine(text));
}

async function readHttp(
  url: string,
  pointer: string | undefined,
  signal: AbortSignal,
): Promise<number> {
  let body: string;
  try {
    const response = await fetch(url, {
      signal,
      headers: { accept: "application/json, text/plain" },
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new SignalReadError(`HTTP ${response.status}`);
    }
    body = await response.text();
  } catch (err) {
    if (err instanceof SignalReadError) throw err;
    if (signal.aborted) throw new SignalReadError("aborted");
    throw new SignalReadError(`GET failed: ${reason(err)}`);
  }
  if (pointer === undefined) return parseSample(body);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new SignalReadError(`body is not JSON (the URL has #${pointer})`);
  }
  return toNumber(resolvePointer(doc, pointer), pointer);
}

/**
 * Resolves an RFC 6901 JSON pointer (`/a/0/b`, with `~1` for `/` and `~0` for `~`; `""` is the
 * whole document). Throws {@linkcode SignalReadError} when nothing is there.
 *
 * @example
 * ```ts
 * resolvePointer({ queue: { depth: 3 } }, "/queue/depth"); // 3
 * resolvePointer({ "a/b": [5, 6] }, "/a~1b/1"); // 6
 * ```
 */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer !== "" && !pointer.startsWith("/")) {
    throw new SignalReadError(`JSON pointer must start with /, got "${pointer}"`);
  }
  let node = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= node.length) {
        throw new SignalReadError(`JSON pointer ${pointer}: nothing at "${key}"`);
      }
      node = node[Number(key)];
    } else if (node !== null && typeof node === "object" && Object.hasOwn(node, key)) {
      node = (node as Record<string, unknown>)[key];
    } else {
      throw new SignalReadError(`JSON pointer ${pointer}: nothing at "${key}"`);
    }
  }
  return node;
}

/** A finite number, or a string holding one; anything else is a bad sample. */
function toNumber(value: unknown, where: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") return parseSample(value);
  const shown = String(JSON.stringify(value) ?? value).slice(0, 40);
  throw new SignalReadError(`${where}: not a number: ${shown}`);
}

type Generator = AsyncIterator<unknown> | Iterator<unknown>;

function moduleReader(path: string, exportName: string): Pick<Signal, "read" | "close"> {
  const label = `module ${path}#${exportName}`;
  let generator: Promise<Generator> | undefined;
  let closed = false;
  let reading = 0;
  const load = async (): Promise<Generator> => {
    const url = pathToFileURL(isAbsolute(path) ? path : resolve(Deno.cwd(), path)).href;
    let mod: Record<string, unknown>;
    try {
      mod = await import(url);
    } catch (err) {
      throw new SignalReadError(`module ${path}: cannot load: ${reason(err)}`, {
        permanent: true,
      });
    }
    const fn = mod[exportName];
    if (typeof fn !== "function") {
      throw new SignalReadError(`module ${path}: no function export "${exportName}"`, {
        permanent: true,
      });
    }
    let it: Generator;
    try {
      it = fn() as Generator;
    } catch (err) {
      throw new SignalReadError(`${label}: ${reason(err)}`);
    }
    if (!it || typeof it.next !== "function") {
      throw new SignalReadError(`${label}: not a generator function`, { permanent: true });
    }
    return it;
  };
  return {
    async read() {
      if (closed) throw new SignalReadError(`${label}: closed`);
      generator ??= load();
      let it: Generator;
      try {
        it = await generator;
      } catch (err) {
        generator = undefined; // Try loading again next tick.
        throw err;
      }
      let step: IteratorResult<unknown>;
      reading++;
      try {
        step = await it.next();
      } catch (err) {
        throw new SignalReadError(`${label}: generator threw: ${reason(err)}`);
      } finally {
        reading--;
      }
      if (step.done) throw new SignalReadError(`${label}: generator finished`);
      return toNumber(step.value, label);
    },
    async close() {
      closed = true;
      const pending = generator;
      generator = undefined;
      if (!pending) return;
      try {
        const it = await pending;
        const done = Promise.resolve(it.return?.()).catch(() => {});
        // An async generator stuck in a read would queue return() behind it forever.
        if (reading === 0) await done;
      } catch {
        // Closing a generator that failed to load is not an error.
      }
    },
  };
}

/**
 * Reads `signal`, giving up after `timeoutMs` (or when `outer` aborts) even if the source ignores
 * the abort. Always rejects with {@linkcode SignalReadError}: on timeout (`timed out after 0.2 s`),
 * abort (`aborted`), failure, or a value that is not a finite number. Leaves no timer behind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const ctx = { now: Date.now(), tasks: { running: 0, pending: 0 } };
 * await assert.rejects(
 *   readWithTimeout(createSignal("cmd:sleep 9; echo 1"), ctx, 200),
 *   /timed out after 0.2 s/,
 * );
 * ```
 */
export function readWithTimeout(
  signal: Signal,
  ctx: Omit<ReadContext, "signal">,
  timeoutMs: number,
  outer?: AbortSignal,
): Promise<number> {
  if (outer?.aborted) return Promise.reject(new SignalReadError("aborted"));
  const controller = new AbortController();
  return new Promise<number>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    };
    const giveUp = (err: SignalReadError) => {
      settle();
      reject(err);
      controller.abort(err);
    };
    const onOuter = () => giveUp(new SignalReadError("aborted"));
    outer?.addEventListener("abort", onOuter, { once: true });
    if (Number.isFinite(timeoutMs)) {
      const seconds = Math.round(timeoutMs) / 1000;
      timer = setTimeout(
        () => giveUp(new SignalReadError(`timed out after ${seconds} s`)),
        Math.max(0, timeoutMs),
      );
    }
    // Once the race is lost, the source's late result (or error) is ignored.
    Promise.resolve()
      .then(() => signal.read({ ...ctx, signal: controller.signal }))
      .then((value) => {
        settle();
        if (typeof value === "number" && Number.isFinite(value)) resolve(value);
        else reject(new SignalReadError(`not a number: ${String(value).slice(0, 40)}`));
      }, (err) => {
        settle();
        reject(err instanceof SignalReadError ? err : new SignalReadError(reason(err)));
      });
  });
}
