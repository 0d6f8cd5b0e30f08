/**
 * Reads of outside data with a byte cap: streams (a command's output, an HTTP body), files (a
 * `file:` signal, the FrameworkID, option files). Nothing read from outside is held beyond its cap,
 * whatever the source sends (`/dev/zero`, an endless body, a 1 GB file): a stream is cancelled
 * once past the cap, a file is read only up to it. Reads stop when their `AbortSignal` aborts.
 * @module
 */

/** A read that went past its cap. The message names the cap. */
export class TooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TooLargeError";
  }
}

/** What a capped read returned. */
export interface CappedBytes {
  readonly bytes: Uint8Array;
  /** Bytes seen beyond the kept ones (0 when everything was kept). */
  readonly dropped: number;
}

/** Size of one read from a file. */
const FILE_CHUNK_BYTES = 16 * 1024;

/**
 * Reads `stream` to its end keeping at most `maxBytes`: `"head"` keeps the first bytes and
 * cancels the stream as soon as more arrive (the rest is never read); `"tail"` reads to the end
 * and keeps the last bytes (for the last line of an error output). Stops, cancelling the stream,
 * when `signal` aborts (rejecting with the signal's reason).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const body = ReadableStream.from([new Uint8Array(3000), new Uint8Array(3000)]);
 * const { bytes, dropped } = await readStreamCapped(body, 4096, "head");
 * assert.equal(bytes.length, 4096);
 * assert.equal(dropped, 1904);
 * ```
 */
export async function readStreamCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  keep: "head" | "tail",
  signal?: AbortSignal,
): Promise<CappedBytes> {
  const reader = stream.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let dropped = 0;
  try {
    while (true) {
      if (signal?.aborted) throw signal.reason;
      const { value, done } = await reader.read();
      if (signal?.aborted) throw signal.reason;
      if (done) break;
      if (keep === "head") {
        const room = maxBytes - kept;
        if (value.byteLength > room) {
          if (room > 0) chunks.push(value.subarray(0, room));
          kept += Math.max(0, room);
          dropped += value.byteLength - Math.max(0, room);
          await reader.cancel().catch(() => {});
          break;
        }
        chunks.push(value);
        kept += value.byteLength;
      } else {
        chunks.push(value);
        kept += value.byteLength;
        // Drop whole chunks from the front while the rest still holds maxBytes.
        while (chunks.length > 1 && kept - chunks[0].byteLength >= maxBytes) {
          kept -= chunks[0].byteLength;
          dropped += chunks.shift()!.byteLength;
        }
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
  let bytes = concat(chunks, kept);
  if (bytes.byteLength > maxBytes) {
    dropped += bytes.byteLength - maxBytes;
    bytes = bytes.slice(bytes.byteLength - maxBytes);
  }
  return { bytes, dropped };
}

/**
 * Reads the text of an HTTP body (an error answer) up to `maxBytes`, cancelling the rest (and
 * all of it when `signal` aborts); never rejects ("" when the body cannot be read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const answer = new Response("no leader\n" + "x".repeat(50_000), { status: 503 });
 * const detail = await readBodyCapped(answer, 4096);
 * assert.equal(detail.length, 4096);
 * assert.ok(detail.startsWith("no leader"));
 * ```
 */
export async function readBodyCapped(
  response: Response,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<string> {
  if (!response.body) return "";
  try {
    const { bytes } = await readStreamCapped(response.body, maxBytes, "head", signal);
    return new TextDecoder().decode(bytes);
  } catch {
    return "";
  }
}

/**
 * Reads a file for a signal: at most `maxBytes`. A regular file larger than that is read from its
 * last `maxBytes` (a growing log's last line is still there), its first, cut line dropped; any other
 * file (a device, a FIFO) that gives more than `maxBytes` is refused with {@linkcode TooLargeError}.
 * Checks `signal` between chunks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await assert.rejects(readFileCapped("/dev/zero", 65536, AbortSignal.timeout(5000)), {
 *   message: "more than 65536 bytes",
 * });
 * ```
 */
export async function readFileCapped(
  path: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const info = await file.stat();
  let cut = false;
  if (info.isFile && info.size > maxBytes) {
    await file.seek(info.size - maxBytes, Deno.SeekMode.Start);
    cut = true;
  }
  const buffer = new Uint8Array(maxBytes + 1);
  let length = 0;
  while (length <= maxBytes) {
    if (signal?.aborted) throw signal.reason;
    const n = await file.read(
      buffer.subarray(length, Math.min(buffer.length, length + FILE_CHUNK_BYTES)),
    );
    if (n === null) break;
    length += n;
  }
  if (signal?.aborted) throw signal.reason;
  if (length > maxBytes) {
    if (!info.isFile) throw new TooLargeError(`more than ${maxBytes} bytes`);
    // A regular file that grew while being read: its last maxBytes are what was read.
    length = maxBytes;
  }
  const text = new TextDecoder().decode(buffer.subarray(0, length));
  if (!cut) return text;
  const nl = text.indexOf("\n");
  return nl >= 0 ? text.slice(nl + 1) : text;
}

/**
 * Reads a small text file at once (an option file, the FrameworkID): a regular file (after
 * symbolic links) of at most `maxBytes`, else {@linkcode TooLargeError} or a plain `Error` saying
 * what it is. Errors of the file system (not found, permission) pass through.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => readSmallFileSync("/dev/zero", 1024 * 1024), {
 *   message: "not a regular file",
 * });
 * ```
 */
export function readSmallFileSync(path: string, maxBytes: number): string {
  using file = Deno.openSync(path, { read: true });
  const info = file.statSync();
  if (!info.isFile) throw new Error("not a regular file");
  if (info.size > maxBytes) {
    throw new TooLargeError(`${info.size} bytes, more than the ${maxBytes} allowed`);
  }
  const buffer = new Uint8Array(maxBytes + 1);
  let length = 0;
  while (length <= maxBytes) {
    const n = file.readSync(buffer.subarray(length));
    if (n === null) break;
    length += n;
  }
  if (length > maxBytes) throw new TooLargeError(`more than the ${maxBytes} bytes allowed`);
  return new TextDecoder().decode(buffer.subarray(0, length));
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
