/**
 * The last line of defence for secrets: every log line, error message and web answer passes
 * through a {@linkcode Redactor} that replaces each known secret value (the Mesos secret, the web
 * token, secret-looking variables of Relay's environment) with `[redacted]`, in the forms it may
 * take there (as is, JSON-escaped, URL-encoded, inside a Basic authorization). It also caps how
 * long a line may be. Pure.
 * @module
 */

/** What replaces a secret. */
export const REDACTED = "[redacted]";
/**
 * Shortest value redacted: a secret of 1-3 characters would blank out ordinary words; such a
 * secret is too weak to protect anyway.
 */
export const MIN_SECRET_CHARS = 4;
/** Longest line written (characters); the rest is cut, saying how much. */
export const MAX_LINE_CHARS = 16 * 1024;
/** Names of environment variables whose values are taken as secrets. */
const SECRET_NAME = /SECRET|TOKEN|PASSW|CREDENTIAL|API_?KEY|PRIVATE/i;

/**
 * Replaces known secret values in text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const redactor = new Redactor(["hunter22"]);
 * assert.equal(redactor.redact('{"reason":"exit code 1: hunter22"}'), '{"reason":"exit code 1: [redacted]"}');
 * ```
 */
export class Redactor {
  #needles: string[] = [];

  constructor(secrets: Iterable<string | undefined> = []) {
    this.add(secrets);
  }

  /** Adds secret values (undefined and too-short ones are ignored). */
  add(secrets: Iterable<string | undefined>): void {
    const set = new Set(this.#needles);
    for (const s of secrets) {
      if (s === undefined || s.length < MIN_SECRET_CHARS) continue;
      for (const form of formsOf(s)) if (form.length >= MIN_SECRET_CHARS) set.add(form);
    }
    // Longest first, so that a secret containing another is replaced whole.
    this.#needles = [...set].sort((a, b) => b.length - a.length);
  }

  /** `text` with every known secret replaced by {@linkcode REDACTED}. */
  redact(text: string): string {
    for (const n of this.#needles) {
      if (text.includes(n)) text = text.replaceAll(n, REDACTED);
    }
    return text;
  }

  /** A line fit to write: redacted and cut at {@linkcode MAX_LINE_CHARS}. */
  line(text: string): string {
    return capLine(this.redact(text));
  }
}

/**
 * Values of `env` that look like secrets by their variable's name (`RELAY_MESOS_SECRET`,
 * `GITHUB_TOKEN`, `DB_PASSWORD`...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(secretsInEnv({ DB_PASSWORD: "hunter22", HOME: "/root" }), ["hunter22"]);
 * ```
 */
export function secretsInEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v !== undefined && SECRET_NAME.test(k))
    .map(([, v]) => v!);
}

/**
 * `text` cut at `max` characters, saying how many were cut.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(capLine("abcdef", 3), "abc… (3 more characters cut)");
 * ```
 */
export function capLine(text: string, max = MAX_LINE_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters cut)`;
}

function formsOf(secret: string): string[] {
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    // The query form a browser sends (`+` for a space).
    new URLSearchParams({ s: secret }).toString().slice(2),
  ];
}
