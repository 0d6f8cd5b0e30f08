/**
 * ZooKeeper connect strings (`host:port[,host:port...]`), as `--mesos-master zk://...` and
 * `--ha-zk` name them. Pure: no I/O; a bad string is one Error line saying which entry is wrong.
 * @module
 */

/** A `host:port` of a ZooKeeper server. */
export interface ZkServerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port[,host:port...]` (IPv6 hosts in brackets). The port is required, as the
 * ZooKeeper C client that Mesos uses requires it. Throws a one-line Error for anything else.
 */
export function parseConnectString(connectString: string): ZkServerAddress[] {
  const out: ZkServerAddress[] = [];
  if (connectString.includes("/")) {
    throw new Error(`bad ZooKeeper address list "${connectString}": no path allowed here`);
  }
  for (const raw of connectString.split(",")) {
    const entry = raw.trim();
    const bad = (why: string) => new Error(`bad ZooKeeper address "${entry}": ${why}`);
    if (entry === "") {
      throw new Error(`bad ZooKeeper address list "${connectString}": empty entry`);
    }
    let host: string;
    let portText: string | undefined;
    const v6 = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(entry);
    if (v6) {
      host = v6[1];
      portText = v6[2];
    } else {
      const parts = entry.split(":");
      if (parts.length > 2) throw bad("put IPv6 addresses in brackets ([::1]:2181)");
      host = parts[0];
      portText = parts[1];
    }
    if (host === "" || !/^[A-Za-z0-9._:-]+$/.test(host)) throw bad("bad host name");
    if (portText === undefined) throw bad("expected host:port");
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw bad("port must be a number from 1 to 65535");
    out.push({ host, port });
  }
  return out;
}
