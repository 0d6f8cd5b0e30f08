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
 * import assert from "node:assert/strict";
 * const decoder = new RecordIODecoder(4);
 * const [record] = decoder.push(new TextEncoder().encode("3\nabc"));
 * assert.equal(new TextDecoder().decode(record), "abc");
 * assert.throws(() => decoder.push(new TextEncoder().encode("9\n")), RecordIOError); // 9 > 4
 * assert.throws(() => decoder.push(new Uint8Array()), RecordIOError); // it stays failed
 * ```
 */
export class RecordIODecoder {
  readonly #maxFrameBytes: number;
  /** How many digits of the length line were read so far (only while reading one). */
  #digitCount = 0;
  /** Their value, while it is exact (at most 15 digits). */
  #length = 0;
  /** Past 15 digits, the digits as text (Number() of it is the length, rounded as Number does). */
  #longDigits: string | undefined;
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
    return this.#failure === undefined && this.#record === undefined && this.#digitCount === 0;
  }

  /**
   * Consumes one chunk and returns every record it completes, in order. The returned arrays are
   * owned by the caller (they never alias `chunk`). Records that lie wholly inside one chunk are
   * views into a single copy of that chunk (one copy per chunk instead of one allocation per
   * record), so a record kept alive keeps that copy alive.
   * @throws RecordIOError on a malformed length line or a record over the size limit, and on
   * every later call. Records completed earlier in the same chunk are not returned then: the
   * stream is broken and the caller starts over (re-subscribes).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure) throw this.#failure;
    const out: Uint8Array[] = [];
    const end = chunk.length;
    /** The copy of `chunk` from `base` on, made for the first record wholly inside it. */
    let copy: Uint8Array | undefined;
    let base = 0;
    let i = 0;
    while (i < end) {
      const record = this.#record;
      if (record !== undefined) {
        const take = Math.min(record.length - this.#filled, end - i);
        record.set(chunk.subarray(i, i + take), this.#filled);
        this.#filled += take;
        i += take;
        if (this.#filled === record.length) {
          out.push(record);
          this.#record = undefined;
          this.#filled = 0;
        }
        continue;
      }
      const byte = chunk[i++];
      if (byte >= ZERO && byte <= NINE) {
        this.#digit(byte);
        continue;
      }
      if (byte !== LF) {
        this.#fail(`length line contains ${describeByte(byte)}; expected decimal digits`);
      }
      const size = this.#endLengthLine();
      if (size === 0) out.push(new Uint8Array(0));
      else if (end - i >= size) {
        if (copy === undefined) {
          copy = chunk.slice(i);
          base = i;
        }
        out.push(copy.subarray(i - base, i - base + size));
        i += size;
      } else {
        this.#record = new Uint8Array(size);
        this.#filled = 0;
      }
    }
    return out;
  }

  #digit(byte: number): void {
    if (this.#digitCount >= MAX_LENGTH_DIGITS) {
      this.#fail(`length line longer than ${MAX_LENGTH_DIGITS} digits without a newline`);
    }
    this.#digitCount++;
    if (this.#longDigits !== undefined) this.#longDigits += String.fromCharCode(byte);
    else if (this.#digitCount <= 15) this.#length = this.#length * 10 + (byte - ZERO);
    else this.#longDigits = String(this.#length) + String.fromCharCode(byte);
  }

  /** The length line is complete: its value, checked against the limit. */
  #endLengthLine(): number {
    if (this.#digitCount === 0) this.#fail("empty length line; expected decimal digits");
    const size = this.#longDigits !== undefined ? Number(this.#longDigits) : this.#length;
    this.#digitCount = 0;
    this.#length = 0;
    this.#longDigits = undefined;
    if (size > this.#maxFrameBytes) {
      this.#fail(`frame of ${size} bytes exceeds --mesos-max-frame-bytes ${this.#maxFrameBytes}`);
    }
    return size;
  }

  #fail(message: string): never {
    this.#failure = new RecordIOError(`recordio: ${message}`);
    this.#digitCount = 0;
    this.#length = 0;
    this.#longDigits = undefined;
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
