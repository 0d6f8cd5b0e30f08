/**
 * Server-Sent Events: the framing of messages (`event:`, `id:`, `retry:`, one `data:` line per
 * line of data, a blank line to end the message, `:` comments) and one bounded stream per client.
 * A client that does not read fast enough is dropped: its stream is ended with an error once the
 * bytes waiting for it pass a limit, rather than buffered without bound. A browser's EventSource
 * then reconnects on its own.
 * @module
 */

/** One message. */
export interface SseMessage {
  /** Event name; the client's `message` handler gets messages without one. */
  readonly event?: string;
  /** Payload; line breaks (LF, CR or CRLF) split it into several `data:` lines. */
  readonly data: string;
  readonly id?: string | number;
  /** Reconnection delay the client should use, in milliseconds. */
  readonly retry?: number;
}

/**
 * Frames one message.
 *
 * @example
 * ```ts
 * sseFrame({ event: "tick", data: "a\nb", id: 7 }); // "event: tick\nid: 7\ndata: a\ndata: b\n\n"
 * ```
 */
export function sseFrame(msg: SseMessage): string {
  let out = "";
  if (msg.event !== undefined) out += `event: ${singleLine("event", msg.event)}\n`;
  if (msg.id !== undefined) {
    const id = singleLine("id", String(msg.id));
    if (id.includes("\0")) throw new TypeError("SSE id must not contain NUL");
    out += `id: ${id}\n`;
  }
  if (msg.retry !== undefined) {
    if (!Number.isInteger(msg.retry) || msg.retry < 0) {
      throw new TypeError(`SSE retry must be a non-negative integer, got ${msg.retry}`);
    }
    out += `retry: ${msg.retry}\n`;
  }
  for (const line of msg.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** Frames and encodes one message, for {@linkcode SseClient.sendFrame}. */
export function encodeFrame(msg: SseMessage): Uint8Array {
  return encoder.encode(sseFrame(msg));
}

/** Frames a comment (ignored by clients; used as keep-alive). */
export function sseComment(text = ""): string {
  return text.split(/\r\n|\r|\n/).map((line) => `: ${line}`.trimEnd() + "\n").join("") + "\n";
}

function singleLine(field: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new TypeError(`SSE ${field} must be a single line`);
  return value;
}

/** Why a client's stream ended. */
export type SseCloseReason = "closed" | "cancelled" | "slow";

/** Options of {@linkcode SseClient}. */
export interface SseClientOptions {
  /** Interval of keep-alive comments (default 15 s; 0 = none). */
  readonly keepAliveMs?: number;
  /** Bytes allowed to wait for the client before it is dropped (default 64 KiB). */
  readonly maxBufferedBytes?: number;
  /** Called once when the stream ends, with why. */
  readonly onClose?: (reason: SseCloseReason) => void;
}

const encoder = new TextEncoder();

/**
 * Bytes that may wait for one client before it is dropped: some seconds of ticks for a reader
 * that is only slow, while 300 clients that never read hold a few MB (broadcasts share bytes).
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024;

/**
 * One client's stream. Hand {@linkcode SseClient.body} to a `Response` (see
 * {@linkcode sseResponse}) and {@linkcode SseClient.send} messages to it.
 *
 * @example
 * ```ts
 * const clients = new Set<SseClient>();
 * function subscribe(point: unknown): Response {
 *   const client = new SseClient({ onClose: () => clients.delete(client) });
 *   clients.add(client);
 *   client.send({ event: "tick", data: JSON.stringify(point) });
 *   return sseResponse(client);
 * }
 * ```
 */
export class SseClient {
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #timer?: ReturnType<typeof setInterval>;
  #closed = false;
  readonly #max: number;
  readonly #onClose?: (reason: SseCloseReason) => void;

  constructor(opts: SseClientOptions = {}) {
    this.#max = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#onClose = opts.onClose;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => this.#end("cancelled"),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: this.#max }),
    );
    const keepAliveMs = opts.keepAliveMs ?? 15_000;
    if (keepAliveMs > 0) {
      this.#timer = setInterval(() => this.#write(sseComment("keep-alive")), keepAliveMs);
    }
  }

  /** True once the stream has ended (closed, cancelled by the client, or dropped as slow). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues a message; false when the client is gone (or was just dropped as too slow). */
  send(msg: SseMessage): boolean {
    return this.#write(sseFrame(msg));
  }

  /**
   * Queues an already framed message ({@linkcode encodeFrame}): a broadcast frames and encodes
   * once, and every client queues the same bytes rather than a copy of its own.
   */
  sendFrame(frame: Uint8Array): boolean {
    return this.#enqueue(frame);
  }

  /** Queues a comment; false when the client is gone. */
  comment(text: string): boolean {
    return this.#write(sseComment(text));
  }

  /** Ends the stream normally (what was queued is still delivered). */
  close(): void {
    if (this.#closed) return;
    try {
      this.#controller.close();
    } catch {
      // Already errored or closed by the other side.
    }
    this.#end("closed");
  }

  /**
   * Ends the stream at once with an error, dropping what is still queued (the connection is cut):
   * for shutting down when a client does not read what {@linkcode SseClient.close} left.
   */
  abort(reason = "stream aborted"): void {
    try {
      this.#controller.error(new Error(reason));
    } catch {
      // Already errored.
    }
    this.#end("closed");
  }

  #write(text: string): boolean {
    if (this.#closed) return false;
    return this.#enqueue(encoder.encode(text));
  }

  #enqueue(chunk: Uint8Array): boolean {
    if (this.#closed) return false;
    const room = this.#controller.desiredSize ?? 0;
    if (chunk.byteLength > room) {
      try {
        this.#controller.error(new Error("client too slow: dropped"));
      } catch {
        // Nothing left to error.
      }
      this.#end("slow");
      return false;
    }
    this.#controller.enqueue(chunk);
    return true;
  }

  #end(reason: SseCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#onClose?.(reason);
  }
}

/** A streaming response for `client`, with the headers an event stream needs. */
export function sseResponse(client: SseClient, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "text/event-stream; charset=utf-8");
  h.set("cache-control", "no-store");
  h.set("x-accel-buffering", "no");
  return new Response(client.body, { status: 200, headers: h });
}
