/**
 * What `--mesos-master` names: one or more masters by URL, or a ZooKeeper ensemble and path
 * where the masters elect a leader. Parsing is pure; {@linkcode MasterList} is the simple leader
 * source for URL lists (the ZooKeeper one lives in `leader.ts`).
 * @module
 */

/** A parsed `--mesos-master`. */
export type MasterSpec =
  | { readonly kind: "urls"; readonly urls: readonly string[] }
  | { readonly kind: "zk"; readonly hosts: readonly string[]; readonly path: string };

/**
 * Parses `http(s)://host:port[,http(s)://host:port...]` or `zk://host:port[,host:port]/path`.
 * Throws an Error whose message says what is wrong.
 *
 * @example
 * ```ts
 * parseMasters("zk://10.0.0.1:2181,10.0.0.2:2181/mesos");
 * // { kind: "zk", hosts: ["10.0.0.1:2181", "10.0.0.2:2181"], path: "/mesos" }
 * ```
 */
export function parseMasters(spec: string): MasterSpec {
  const text = spec.trim();
  if (text.startsWith("zk://")) {
    const rest = text.slice(5);
    const slash = rest.indexOf("/");
    if (slash === -1) throw new Error(`expected zk://host:port[,host:port]/path, got "${text}"`);
    const hostPart = rest.slice(0, slash);
    if (hostPart.includes("@")) {
      throw new Error("ZooKeeper credentials in the URL are not supported");
    }
    const hosts = hostPart.split(",").map((h) => h.trim());
    for (const host of hosts) {
      if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(host) || Number(host.split(":")[1]) > 65535) {
        throw new Error(`bad ZooKeeper address "${host}" (expected host:port)`);
      }
    }
    const path = rest.slice(slash).replace(/\/+$/, "");
    if (path === "" || !/^(\/[^/\s]+)+$/.test(path)) {
      throw new Error(`bad ZooKeeper path "${rest.slice(slash)}"`);
    }
    return { kind: "zk", hosts, path };
  }
  const urls = text.split(",").map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0) throw new Error("empty");
  return {
    kind: "urls",
    urls: urls.map((u) => {
      let url: URL;
      try {
        url = new URL(u);
      } catch {
        throw new Error(`not a URL: "${u}" (expected http(s)://host:port or zk://...)`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new Error(`unsupported scheme "${url.protocol}" in "${u}" (http, https or zk)`);
      }
      if (url.pathname !== "/" || url.search || url.hash) {
        throw new Error(`"${u}": give the master's base URL, without a path`);
      }
      return `${url.protocol}//${url.host}`;
    }),
  };
}

/**
 * The leader source for a list of master URLs: the current one until it fails, then the next.
 *
 * @example
 * ```ts
 * const list = new MasterList(["http://m1:5050", "http://m2:5050"]);
 * list.current(); // "http://m1:5050"
 * list.next();
 * list.current(); // "http://m2:5050"
 * ```
 */
export class MasterList {
  #index = 0;
  constructor(readonly urls: readonly string[]) {}
  current(): string {
    return this.urls[this.#index];
  }
  next(): void {
    this.#index = (this.#index + 1) % this.urls.length;
  }
}
