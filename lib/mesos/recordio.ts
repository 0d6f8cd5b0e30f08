/**
 * RecordIO framing as used by the Mesos v1 HTTP APIs: every record is its length in bytes as
 * decimal ASCII digits, a line feed, then exactly that many bytes (`record = 1*DIGIT LF data`).
 * Chunk boundaries of the transport mean nothing; the decoder reassembles records from any
 * split. Pure code: no I/O, no timers.
 *
 * @example Decoding a stream
 * ```ts
 * const decoder = new RecordIODecoder(1 << 20);
 * const text = new TextEncoder();
 * decoder.push(text.encode("5\nhel"));          // => []
 * decoder.push(text.encode("lo2\nhi0\n"));      // => [bytes "hello", bytes "hi", empty record]
 * ```
 *
 * @example Encoding
 * ```ts
 * encodeRecord(new TextEncoder().encode("hi")); // => bytes "2\nhi"
 * ```
 * @module
 */

/** The stream is not valid RecordIO (or breaks a limit); the decoder that threw stays failed. */
export class RecordIOError extends Error {
  override name = "RecordIOError";
}

const LF = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;
/** A length line longer than this (without its LF) cannot be a sane length. */
const MAX_LENGTH_DIGITS = 20;

/**
 * Incremental RecordIO decoder. Feed it the chunks of a response body in order; it returns the
 * records completed by each chunk (possibly none, possibly many, zero-length records included).
 *
 * @example
 * ```ts
 * const decoder = new RecordIODecoder(4);
 * decoder.push(new TextEncoder().encode("3\nabc")); // => [bytes "abc"]
 * decoder.push(new TextEncoder().encode("9\n"));    // throws RecordIOError (9 > 4)
 * decoder.push(new Uint8Array());                    // throws again: the decoder stays failed
 * ```
 */
export class RecordIODecoder {
  readonly #maxFrameBytes: number;
  /** Digits of the length line read so far (only while reading a length line). */
  #digits = "";
  /** The record being filled, once its length line is complete. */
  #record: Uint8Array | undefined;
  #filled = 0;
  #failure: RecordIOError | undefined;

  /** @param maxFrameBytes the largest record accepted, in bytes (`--mesos-max-frame-bytes`). */
  constructor(maxFrameBytes: number) {
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 0) {
      throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${maxFrameBytes}`);
    }
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** True when the decoder sits between records (nothing partial buffered). */
  get idle(): boolean {
    return this.#failure === undefined && this.#record === undefined && this.#digits === "";
  }

  /**
   * Consumes one chunk and returns every record it completes, in order. The returned arrays are
   * owned by the caller (they never alias `chunk`).
   * @throws RecordIOError on a malformed length line or a record over the size limit, and on
   * every later call. Records completed earlier in the same chunk are not returned then: the
   * stream is broken and the caller starts over (re-subscribes).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure) throw this.#failure;
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#record) {
        const want = this.#record.length - this.#filled;
        const take = Math.min(want, chunk.length - i);
        this.#record.set(chunk.subarray(i, i + take), this.#filled);
        this.#filled += take;
        i += take;
        if (this.#filled === this.#record.length) {
          out.push(this.#record);
          this.#record = undefined;
          this.#filled = 0;
        }
        continue;
      }
      const byte = chunk[i++];
      if (byte === LF) {
        this.#startRecord(out);
      } else if (byte >= ZERO && byte <= NINE) {
        if (this.#digits.length >= MAX_LENGTH_DIGITS) {
          this.#fail(`length line longer than ${MAX_LENGTH_DIGITS} digits without a newline`);
        }
        this.#digits += String.fromCharCode(byte);
      } else {
        this.#fail(`length line contains ${describeByte(byte)}; expected decimal digits`);
      }
    }
    return out;
  }

  #startRecord(out: Uint8Array[]): void {
    if (this.#digits === "") this.#fail("empty length line; expected decimal digits");
    const size = Number(this.#digits);
    this.#digits = "";
    if (size > this.#maxFrameBytes) {
      this.#fail(`frame of ${size} bytes exceeds --mesos-max-frame-bytes ${this.#maxFrameBytes}`);
    }
    if (size === 0) out.push(new Uint8Array(0));
    else {
      this.#record = new Uint8Array(size);
      this.#filled = 0;
    }
  }

  #fail(message: string): never {
    this.#failure = new RecordIOError(`recordio: ${message}`);
    this.#digits = "";
    this.#record = undefined;
    throw this.#failure;
  }
}

function describeByte(byte: number): string {
  if (byte >= 0x20 && byte < 0x7f) return `"${String.fromCharCode(byte)}"`;
  return `byte 0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Frames one record: its decimal length, a line feed, then the bytes.
 * @example
 * ```ts
 * encodeRecord(new Uint8Array([1, 2, 3])); // => Uint8Array [0x33, 0x0a, 1, 2, 3]
 * ```
 */
export function encodeRecord(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const header = new TextEncoder().encode(`${bytes.length}\n`);
  const out = new Uint8Array(header.length + bytes.length);
  out.set(header, 0);
  out.set(bytes, header.length);
  return out;
}
