/**
 * Bounds on what a task's output may cost: lines are cut at {@linkcode OutputLimits.maxLineBytes},
 * a task logs at most {@linkcode OutputLimits.linesPerSecond} lines a second (with a burst) and
 * {@linkcode OutputLimits.maxTaskBytes} in all; the rest is dropped and counted, and a note says
 * how much was dropped. A task printing flat out (`yes`) then costs a few log lines a second,
 * never the loop's time. Pure: time comes from the `now` given.
 * @module
 */

/** The limits on one task's logged output. */
export interface OutputLimits {
  /** Longest line logged; the rest of a longer line is cut (and counted). */
  readonly maxLineBytes: number;
  /** Lines per second a task logs once its burst is spent. */
  readonly linesPerSecond: number;
  /** Lines a task may log at once before the rate applies. */
  readonly burstLines: number;
  /** Bytes a task logs in its whole life; after that its output is only counted. */
  readonly maxTaskBytes: number;
}

/**
 * Defaults: a line of 4 KiB holds any sane message; 20 lines/s after a burst of 100 keep a
 * chatty task readable and a flood cheap; 1 MiB per task bounds what a long-lived one logs.
 */
export const DEFAULT_OUTPUT_LIMITS: OutputLimits = {
  maxLineBytes: 4096,
  linesPerSecond: 20,
  burstLines: 100,
  maxTaskBytes: 1024 * 1024,
};

const NEWLINE = 10;

/** One line as logged: at most `maxLineBytes` of it, and how many bytes were cut off. */
export interface Line {
  readonly bytes: Uint8Array;
  readonly cut: number;
}

/**
 * Splits a byte stream into lines, holding at most `maxLineBytes` of an unfinished line: the
 * rest of a longer line is counted in `cut`, never kept. Lines nobody wants are only counted,
 * never copied, so a flood of short lines costs a scan for newlines and nothing more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const split = new LineSplitter(4);
 * const got: string[] = [];
 * const take = (l: Line) => (got.push(`${new TextDecoder().decode(l.bytes)}+${l.cut}`), true);
 * split.push(new TextEncoder().encode("ab\nlonger line\n"), take);
 * assert.deepEqual(got, ["ab+0", "long+7"]);
 * ```
 */
export class LineSplitter {
  readonly #max: number;
  #carry: Uint8Array[] = [];
  #carried = 0;
  #cut = 0;

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
  }

  /**
   * Feeds `chunk`: each line it completes goes to `take` until `take` returns false; the
   * chunk's later complete lines are skipped and counted (`take` would refuse them too).
   */
  push(chunk: Uint8Array, take: (line: Line) => boolean): { lines: number; bytes: number } {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      this.#keep(chunk.subarray(start, nl));
      start = nl + 1;
      if (!take(this.#take())) return this.#skip(chunk, start);
    }
    this.#keep(chunk.subarray(start));
    return { lines: 0, bytes: 0 };
  }

  /** The unfinished last line, if any (at the end of the stream). */
  flush(): Line | undefined {
    return this.#carried > 0 || this.#cut > 0 ? this.#take() : undefined;
  }

  /** Counts the complete lines of `chunk` from `start`; keeps what follows the last one. */
  #skip(chunk: Uint8Array, start: number): { lines: number; bytes: number } {
    let lines = 0;
    let last = -1;
    for (let i = chunk.indexOf(NEWLINE, start); i >= 0; i = chunk.indexOf(NEWLINE, i + 1)) {
      lines++;
      last = i;
    }
    const end = last >= 0 ? last + 1 : start;
    this.#keep(chunk.subarray(end));
    return { lines, bytes: Math.max(0, end - start - lines) };
  }

  #keep(part: Uint8Array): void {
    const room = this.#max - this.#carried;
    if (part.length > room) {
      this.#cut += part.length - Math.max(0, room);
      part = part.subarray(0, Math.max(0, room));
    }
    if (part.length > 0) {
      // A copy: the reader may reuse its buffer.
      this.#carry.push(part.slice());
      this.#carried += part.length;
    }
  }

  #take(): Line {
    const bytes = this.#carry.length === 1 ? this.#carry[0] : new Uint8Array(this.#carried);
    if (this.#carry.length > 1) {
      let at = 0;
      for (const p of this.#carry) {
        bytes.set(p, at);
        at += p.length;
      }
    }
    const line = { bytes, cut: this.#cut };
    this.#carry = [];
    this.#carried = 0;
    this.#cut = 0;
    return line;
  }
}

/**
 * One task's output budget (both streams). {@linkcode TaskOutputBudget.admit} says whether a
 * line is logged; {@linkcode TaskOutputBudget.dropNote} reports what was dropped since the last
 * note.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const budget = new TaskOutputBudget(DEFAULT_OUTPUT_LIMITS, () => 0); // time stands still
 * const logged = Array.from({ length: 3000 }, () => budget.admit(2)).filter(Boolean).length;
 * assert.equal(logged, 100); // the burst
 * assert.equal(budget.dropNote(), "dropped 2900 lines (5.7 KB) of output (over 20 lines/s)");
 * ```
 */
export class TaskOutputBudget {
  readonly #limits: OutputLimits;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;
  #logged = 0;
  #droppedLines = 0;
  #droppedBytes = 0;
  #why: "rate" | "total" | undefined;

  constructor(limits: OutputLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
    this.#tokens = limits.burstLines;
    this.#refilledAt = now();
  }

  /** True once the task's lifetime budget is spent: what it prints now is only counted. */
  get exhausted(): boolean {
    return this.#logged >= this.#limits.maxTaskBytes;
  }

  /** Whether a line of `bytes` is logged (false: dropped and counted). */
  admit(bytes: number): boolean {
    if (this.#logged + bytes > this.#limits.maxTaskBytes) {
      this.#logged = this.#limits.maxTaskBytes;
      return this.#drop(bytes, "total");
    }
    const now = this.#now();
    const l = this.#limits;
    this.#tokens = Math.min(
      l.burstLines,
      this.#tokens + (now - this.#refilledAt) * l.linesPerSecond / 1000,
    );
    this.#refilledAt = now;
    if (this.#tokens < 1) return this.#drop(bytes, "rate");
    this.#tokens -= 1;
    this.#logged += bytes;
    return true;
  }

  /** Counts lines dropped without looking at them (bytes read while over budget). */
  dropped(lines: number, bytes: number): void {
    if (lines === 0 && bytes === 0) return;
    this.#droppedLines += lines;
    this.#droppedBytes += bytes;
    this.#why ??= this.exhausted ? "total" : "rate";
  }

  /** What was dropped since the last note, or undefined when nothing was. */
  dropNote(): string | undefined {
    if (this.#droppedLines === 0 && this.#droppedBytes === 0) return undefined;
    const l = this.#limits;
    const why = this.#why === "total"
      ? `over ${formatBytes(l.maxTaskBytes)} per task`
      : `over ${l.linesPerSecond} lines/s`;
    const note = `dropped ${this.#droppedLines} line${this.#droppedLines === 1 ? "" : "s"} ` +
      `(${formatBytes(this.#droppedBytes)}) of output (${why})`;
    this.#droppedLines = 0;
    this.#droppedBytes = 0;
    this.#why = undefined;
    return note;
  }

  #drop(bytes: number, why: "rate" | "total"): false {
    this.#droppedLines++;
    this.#droppedBytes += bytes;
    this.#why ??= why;
    return false;
  }
}

/** `1536` → `1.5 KB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
