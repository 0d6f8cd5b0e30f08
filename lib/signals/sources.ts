/**
 * Builds readable signals from spec strings: the I/O side of signals (shell commands, files,
 * HTTP, plug-in modules) plus the pure ones (constants, waveforms, task counts). Every read can
 * be aborted, and {@linkcode readWithTimeout} bounds it in time, so one stuck source costs a
 * missing sample rather than a stuck control loop.
 * @module
 */

import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import { pidInUse } from "../process_groups.ts";
import { lastNonEmptyLine, parseSample } from "./number.ts";
import { type ParsedSignal, parseSignalSpec, type SignalSpec } from "./spec.ts";
import { type ReadContext, type Signal, SignalReadError } from "./types.ts";
import { scheduleAt, sineAt, squareAt } from "./waveforms.ts";
import { readFileCapped, readStreamCapped, TooLargeError } from "../bounded_read.ts";

/** Default of `--signal-max-bytes`: a sample is a number; 64 KiB leaves room for a JSON document. */
export const DEFAULT_SIGNAL_MAX_BYTES = 64 * 1024;
/** What is kept of a failing command's standard error: enough for its last line. */
const STDERR_KEEP_BYTES = 4 * 1024;

/** Largest `module:` file imported: plug-ins are small; this stops `module:/dev/zero`. */
export const MODULE_MAX_BYTES = 4 * 1024 * 1024;

/** Options of {@linkcode createSignal}. */
export interface SignalOptions {
  /**
   * The whole environment of a `cmd:` signal's shell (PATH and what `--signal-env` names); by
   * default only Relay's PATH. Relay's own environment (its secrets) never reaches it.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Most bytes one read may take from a command, file or HTTP body (`--signal-max-bytes`). */
  readonly maxBytes?: number;
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
  const { read, close } = reader(parsed, env, options.maxBytes ?? DEFAULT_SIGNAL_MAX_BYTES);
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
  maxBytes: number,
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
      return { read: (ctx) => readCommand(spec.command, ctx.signal, env, maxBytes) };
    case "file":
      return fileReader(spec.path, maxBytes);
    case "http":
      return { read: (ctx) => readHttp(spec.url, spec.pointer, ctx.signal, maxBytes) };
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
  maxBytes: number,
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
  let reaped = false;
  child.status.then(() => (reaped = true), () => (reaped = true));
  const killGroup = () => {
    // Once the shell was reaped, its number may belong to someone else's new group unless a
    // child of ours still holds it: a process with that number means it is reused.
    if (reaped && pidInUse(child.pid)) return;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  signal.addEventListener("abort", killGroup, { once: true });
  try {
    // Both pipes are read with a cap while the command runs: a flood (`yes`) is cut off at
    // maxBytes of standard output and the command killed, not buffered.
    const stderr = readStreamCapped(child.stderr, STDERR_KEEP_BYTES, "tail").catch(() => ({
      bytes: new Uint8Array(),
      dropped: 0,
    }));
    const stdout = await readStreamCapped(child.stdout, maxBytes, "head");
    if (stdout.dropped > 0) {
      killGroup();
      await child.status;
      throw new SignalReadError(`output over ${maxBytes} bytes (--signal-max-bytes): killed`);
    }
    const status = await child.status;
    if (signal.aborted) throw new SignalReadError("aborted");
    if (!status.success) {
      killGroup(); // Whatever still holds standard error open.
      const tail = lastNonEmptyLine(new TextDecoder().decode((await stderr).bytes)).trim();
      const shown = tail.length > 80 ? `${tail.slice(0, 80)}…` : tail;
      const how = status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
      throw new SignalReadError(shown ? `${how}: ${shown}` : how, {
        permanent: !status.signal && NOT_RUNNABLE_EXITS.has(status.code),
      });
    }
    return parseSample(lastNonEmptyLine(new TextDecoder().decode(stdout.bytes)));
  } catch (err) {
    if (err instanceof SignalReadError) throw err;
    if (signal.aborted) throw new SignalReadError("aborted");
    throw new SignalReadError(`cannot read the output: ${reason(err)}`);
  } finally {
    signal.removeEventListener("abort", killGroup);
    // The shell may have left children behind (`sleep 9 &`): clean up the whole group.
    killGroup();
  }
}

/**
 * A `file:` reader with at most one read in flight: opening a FIFO without a writer blocks a
 * thread that no timeout can free, so a later read fails at once instead of blocking another.
 */
function fileReader(path: string, maxBytes: number): Pick<Signal, "read"> {
  let inFlight: Promise<unknown> | undefined;
  return {
    read(ctx) {
      if (inFlight) {
        return Promise.reject(
          new SignalReadError(
            `${path}: the previous read has not finished (a FIFO without a writer?)`,
          ),
        );
      }
      const reading = readFile(path, ctx.signal, maxBytes);
      inFlight = reading.catch(() => {}).finally(() => (inFlight = undefined));
      return reading;
    },
  };
}

async function readFile(path: string, signal: AbortSignal, maxBytes: number): Promise<number> {
  let text: string;
  try {
    text = await readFileCapped(path, maxBytes, signal);
  } catch (err) {
    if (signal.aborted) throw new SignalReadError("aborted");
    if (err instanceof Deno.errors.NotFound) throw new SignalReadError(`file not found: ${path}`);
    if (err instanceof TooLargeError) {
      throw new SignalReadError(`${path}: ${err.message} (--signal-max-bytes)`);
    }
    throw new SignalReadError(`cannot read ${path}: ${reason(err)}`);
  }
  return parseSample(lastNonEmptyLine(text));
}

async function readHttp(
  url: string,
  pointer: string | undefined,
  signal: AbortSignal,
  maxBytes: number,
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
    if (!response.body) {
      body = "";
    } else {
      const read = await readStreamCapped(response.body, maxBytes, "head", signal);
      if (read.dropped > 0) {
        throw new SignalReadError(`body over ${maxBytes} bytes (--signal-max-bytes)`);
      }
      body = new TextDecoder().decode(read.bytes);
    }
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
    const file = isAbsolute(path) ? path : resolve(Deno.cwd(), path);
    const url = pathToFileURL(file).href;
    let mod: Record<string, unknown>;
    try {
      // import() reads a file whole: only a regular file of a sane size (not /dev/zero).
      const info = await Deno.stat(file);
      if (!info.isFile) throw new Error("not a regular file");
      if (info.size > MODULE_MAX_BYTES) {
        throw new Error(`${info.size} bytes, more than the ${MODULE_MAX_BYTES} allowed`);
      }
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
