/**
 * The web server's listen address, parsed on its own so that option checking can refuse a bad
 * `--web-listen` before anything starts, without loading the server.
 * @module
 */

/** Where the web server listens: a host name or address, and a port (0: any free one). */
export interface ListenAddress {
  readonly hostname: string;
  readonly port: number;
}

/**
 * Splits `host:port` (or `[v6]:port`). Throws, naming `--web-listen`, on a malformed address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseListen("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
 * assert.deepEqual(parseListen("[::1]:0"), { hostname: "::1", port: 0 });
 * ```
 */
export function parseListen(listen: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new Error(`--web-listen: expected HOST:PORT, got ${JSON.stringify(listen)}`);
  }
  return { hostname: m[1] ?? m[2], port };
}

const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** True for a loopback host name or address (`localhost`, `127.x.y.z`, `::1`). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOST.test(host);
}
