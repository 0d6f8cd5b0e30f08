/**
 * Types shared by every signal source (metric and target).
 * @module
 */

/** What a signal may look at when it is read: the loop's time and this Relay's task counts. */
export interface ReadContext {
  /** Epoch milliseconds from the loop's clock. */
  readonly now: number;
  /** Number of this Relay's tasks per state (`running`, `pending` = pending + starting). */
  readonly tasks: { readonly running: number; readonly pending: number };
  /** Aborts when the read's timeout expires or the loop stops. */
  readonly signal: AbortSignal;
}

/** A source of numbers, read once per tick. */
export interface Signal {
  /** The spec string it was built from, for logs. */
  readonly spec: string;
  /**
   * Reads the current value. Throws {@linkcode SignalReadError} (or any error) when no valid
   * sample can be produced; the loop then treats the tick as a missing sample.
   */
  read(ctx: ReadContext): Promise<number>;
  /** Releases resources (module generators, timers). */
  close?(): Promise<void> | void;
}

/** A failed read: the reason says why, in a few words (e.g. `exit code 2`, `not a number: "abc"`). */
export class SignalReadError extends Error {
  /**
   * True when no later read can succeed as the signal is given: its command is not found or not
   * executable (exit 127 or 126), or its module or export does not load. At start this is a
   * usage error; later it is one more missing sample.
   */
  readonly permanent: boolean;
  constructor(message: string, options: { permanent?: boolean } = {}) {
    super(message);
    this.name = "SignalReadError";
    this.permanent = options.permanent ?? false;
  }
}

/** A spec string that cannot be turned into a signal. The message names what is wrong. */
export class SignalSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignalSpecError";
  }
}
