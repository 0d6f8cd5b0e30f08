/**
 * The text of `--mesos-master`: a list of `http(s)://host:port` masters, or `zk://servers/path`
 * where the masters elect their leader in ZooKeeper. Pure: no I/O; every bad spec is one
 * {@linkcode MasterSpecError} line without the option's name (the option parser adds it).
 * @module
 */

import { parseConnectString } from "./zk_servers.ts";

/** A parsed `--mesos-master`. */
export type MasterSpec =
  | { readonly kind: "http"; readonly urls: readonly string[] }
  | {
    readonly kind: "zk";
    /** `host:port,host:port` as ZooKeeper clients take it. */
    readonly connectString: string;
    /** The znode under which masters register, e.g. `/mesos`. */
    readonly path: string;
  };

/**
 * A bad `--mesos-master`. The message is one line and leaves the option name out, because the
 * option parser puts it in front (`--mesos-master: <message>`); `option` names it for others.
 */
export class MasterSpecError extends Error {
  readonly option = "--mesos-master";
  constructor(message: string) {
    super(message);
    this.name = "MasterSpecError";
  }
}

const FORMS = "expected http(s)://host:port[,http(s)://host:port...] or " +
  "zk://host:port[,host:port...]/path";

/**
 * Parses `--mesos-master`. Pure; throws a {@linkcode MasterSpecError} with a one-line message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseMasterSpec("zk://10.0.0.1:2181,10.0.0.2:2181/mesos"), {
 *   kind: "zk",
 *   connectString: "10.0.0.1:2181,10.0.0.2:2181",
 *   path: "/mesos",
 * });
 * assert.deepEqual(parseMasterSpec("http://m1:5050,http://m2:5050"), {
 *   kind: "http",
 *   urls: ["http://m1:5050", "http://m2:5050"],
 * });
 * ```
 */
export function parseMasterSpec(spec: string): MasterSpec {
  const text = spec.trim();
  if (text === "") throw new MasterSpecError(`empty; ${FORMS}`);
  if (/\s/.test(text)) throw new MasterSpecError(`"${spec}" contains white space; ${FORMS}`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)?.[1].toLowerCase();
  if (scheme === "zk") return parseZkSpec(text);
  if (scheme === "http" || scheme === "https") return parseHttpSpec(text);
  if (scheme === "file") {
    throw new MasterSpecError(`"${text}": file:// specs are not supported; ${FORMS}`);
  }
  if (scheme !== undefined) {
    throw new MasterSpecError(`"${text}": unsupported scheme "${scheme}://"; ${FORMS}`);
  }
  throw new MasterSpecError(`"${text}" has no scheme; ${FORMS}`);
}

function parseZkSpec(text: string): MasterSpec {
  const rest = text.slice("zk://".length);
  const slash = rest.indexOf("/");
  const hosts = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash);
  if (hosts.includes("@")) {
    throw new MasterSpecError(
      `"${redact(text)}": ZooKeeper authentication (zk://user:pass@...) is not supported`,
    );
  }
  if (/[?#]/.test(rest)) {
    throw new MasterSpecError(`"${text}": a zk:// spec has no query or fragment`);
  }
  if (hosts === "") throw new MasterSpecError(`"${text}": no ZooKeeper servers; ${FORMS}`);
  let servers;
  try {
    servers = parseConnectString(hosts);
  } catch (err) {
    throw new MasterSpecError((err as Error).message);
  }
  if (path === "" || path === "/") {
    throw new MasterSpecError(`"${text}": missing the znode path (e.g. zk://host:2181/mesos)`);
  }
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  for (const part of trimmed.split("/").slice(1)) {
    if (part === "" || part === "." || part === "..") {
      throw new MasterSpecError(`"${text}": bad znode path "${path}"`);
    }
  }
  const connectString = servers
    .map((s) => (s.host.includes(":") ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`))
    .join(",");
  return { kind: "zk", connectString, path: trimmed };
}

function parseHttpSpec(text: string): MasterSpec {
  const urls: string[] = [];
  for (const raw of text.split(",")) {
    if (raw === "") throw new MasterSpecError(`"${text}" has an empty entry`);
    if (!/^https?:\/\//i.test(raw)) {
      throw new MasterSpecError(
        `"${raw}" in "${text}": every master needs http:// or https://`,
      );
    }
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new MasterSpecError(`"${raw}" is not a valid URL`);
    }
    if (url.hostname === "") throw new MasterSpecError(`"${raw}" has no host`);
    if (url.username !== "" || url.password !== "") {
      throw new MasterSpecError(
        `"${redact(raw)}": put credentials in --mesos-principal/--mesos-secret, not in the URL`,
      );
    }
    if (url.pathname !== "/" || url.search !== "" || url.hash !== "") {
      throw new MasterSpecError(`"${raw}": a master URL is scheme://host:port with no path`);
    }
    const base = `${url.protocol}//${url.host}`;
    if (!urls.includes(base)) urls.push(base);
  }
  return { kind: "http", urls };
}

/** Hides `user:pass@` in messages. */
function redact(text: string): string {
  return text.replace(/\/\/[^/@]*@/, "//***@");
}
