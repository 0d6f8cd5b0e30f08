/**
 * The text of `--ha-zk zk://host:port[,host:port]/path`: where instances of one framework elect
 * their leader. Pure: no I/O; a bad spec is one Error line.
 * @module
 */

import { parseConnectString } from "./zk_servers.ts";

/** Where the election runs. */
export interface HaSpec {
  /** `host:port[,host:port]`. */
  readonly servers: string;
  /** The znode under which instances of this framework meet, e.g. `/relay-mesos`. */
  readonly path: string;
}

/**
 * Parses `zk://host:port[,host:port]/path`.
 * @throws Error saying what is wrong
 */
export function parseHaSpec(text: string): HaSpec {
  const m = /^zk:\/\/([^/]+)(\/.*)$/.exec(text);
  if (!m) throw new Error(`expected zk://host:port[,host:port]/path, got "${text}"`);
  const [, servers, path] = m;
  if (servers.includes("@")) {
    throw new Error(`"${text}": ZooKeeper authentication is not supported`);
  }
  parseConnectString(servers);
  if (path === "/" || path.endsWith("/") || path.includes("//") || /[?#]/.test(path)) {
    throw new Error(`"${text}": bad znode path "${path}"`);
  }
  return { servers, path };
}
