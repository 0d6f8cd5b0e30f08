/**
 * Waiting in a test for something to hold, with a deadline that names what was awaited.
 * @module
 */

/**
 * An `until(what, ok, ms?)` that polls `ok` every `pollMs` until it holds, and throws
 * `timed out waiting for WHAT` after `ms` (default `defaultMs`).
 *
 * @example
 * ```ts
 * const until = untilWithin(1000);
 * let n = 0;
 * await until("three polls", () => ++n >= 3);
 * ```
 */
export function untilWithin(defaultMs: number, pollMs = 20) {
  return async (
    what: string,
    ok: () => boolean | Promise<boolean>,
    ms = defaultMs,
  ): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
}
