import assert from "node:assert/strict";
import { LeaderDetector, leaderFromMasterInfo, pickLeaderZnode } from "../lib/mesos/leader.ts";
import { MasterSpecError, parseMasterSpec } from "../lib/specs/master.ts";
import { parseConnectString } from "../lib/specs/zk_servers.ts";

// --- parseMasterSpec ------------------------------------------------------------------------

Deno.test("parseMasterSpec: one http master", () => {
  assert.deepEqual(parseMasterSpec("http://m1:5050"), { kind: "http", urls: ["http://m1:5050"] });
});

Deno.test("parseMasterSpec: http list, https, default ports, trailing slash, duplicates", () => {
  assert.deepEqual(parseMasterSpec("http://m1:5050,https://m2:5443/,http://m1:5050"), {
    kind: "http",
    urls: ["http://m1:5050", "https://m2:5443"],
  });
  assert.deepEqual(parseMasterSpec("  HTTP://10.0.0.1  "), {
    kind: "http",
    urls: ["http://10.0.0.1"],
  });
  assert.deepEqual(parseMasterSpec("https://[::1]:5050"), {
    kind: "http",
    urls: ["https://[::1]:5050"],
  });
});

Deno.test("parseMasterSpec: zk with one or more servers, default port, trailing slash", () => {
  assert.deepEqual(parseMasterSpec("zk://127.0.0.1:2181/mesos"), {
    kind: "zk",
    connectString: "127.0.0.1:2181",
    path: "/mesos",
  });
  assert.deepEqual(parseMasterSpec("zk://z1:2181,z2:2182,[::1]:2183/a/b/"), {
    kind: "zk",
    connectString: "z1:2181,z2:2182,[::1]:2183",
    path: "/a/b",
  });
  assert.deepEqual(parseMasterSpec("ZK://z1:2181/mesos"), {
    kind: "zk",
    connectString: "z1:2181",
    path: "/mesos",
  });
});

const BAD_SPECS: [string, RegExp][] = [
  ["", /empty/],
  ["   ", /empty/],
  ["m1:5050", /no scheme/],
  ["localhost", /no scheme/],
  ["ftp://m1:5050", /unsupported scheme "ftp:\/\/"/],
  ["file:///etc/mesos/zk", /file:\/\/ specs are not supported/],
  ["http://", /not a valid URL|no host/],
  ["http://m1:5050,", /empty entry/],
  ["http://m1:5050,,http://m2:5050", /empty entry/],
  ["http://m1:5050,m2:5050", /every master needs http:\/\/ or https:\/\//],
  ["http://m1:5050/api/v1/scheduler", /no path/],
  ["http://m1:5050?x=1", /no path/],
  ["http://m1:99999", /not a valid URL/],
  ["http://user:s3cr3tpw@m1:5050", /credentials in --mesos-principal/],
  ["http://m1:5050, http://m2:5050", /white space/],
  ["zk://", /no ZooKeeper servers/],
  ["zk:///mesos", /no ZooKeeper servers/],
  ["zk://z1:2181", /missing the znode path/],
  ["zk://z1:2181/", /missing the znode path/],
  ["zk://z1:2181//mesos", /bad znode path/],
  ["zk://z1:2181/mesos/../x", /bad znode path/],
  ["zk://z1:2181/mesos?x", /no query or fragment/],
  ["zk://zk1/mesos", /^bad ZooKeeper address "zk1": expected host:port$/],
  ["zk://z1:2181,z2/mesos", /^bad ZooKeeper address "z2": expected host:port$/],
  ["zk://z1:abc/mesos", /port must be a number/],
  ["zk://z1:0/mesos", /port must be a number/],
  ["zk://z1:70000/mesos", /port must be a number/],
  ["zk://z1:2181,,z2:2181/mesos", /^bad ZooKeeper address list "z1:2181,,z2:2181": empty entry$/],
  ["zk://z1:2181,/mesos", /empty entry/],
  ["zk://::1:2181/mesos", /IPv6 addresses in brackets/],
  ["zk://bad_host!:2181/mesos", /bad host name/],
  ["zk://user:s3cr3tpw@z1:2181/mesos", /authentication .* is not supported/],
];

for (const [spec, pattern] of BAD_SPECS) {
  Deno.test(`parseMasterSpec rejects ${JSON.stringify(spec)}`, () => {
    let caught: unknown;
    try {
      parseMasterSpec(spec);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof MasterSpecError, `expected a MasterSpecError for ${spec}`);
    assert.equal(caught.option, "--mesos-master");
    assert.match(caught.message, pattern);
    assert.doesNotMatch(caught.message, /^--mesos-master/, "the option parser adds the name");
    assert.equal(caught.message.includes("\n"), false, "one line");
    assert.equal(caught.message.includes("s3cr3tpw"), false, "never shows a password");
  });
}

Deno.test("the detector refuses a bad spec in its constructor", () => {
  assert.throws(() => new LeaderDetector("m1:5050"), MasterSpecError);
});

Deno.test("parseConnectString: hosts, ports, IPv6", () => {
  assert.deepEqual(parseConnectString("a:1, b:2181,[::1]:3"), [
    { host: "a", port: 1 },
    { host: "b", port: 2181 },
    { host: "::1", port: 3 },
  ]);
  assert.throws(() => parseConnectString("a:1/chroot"), /no path allowed/);
  assert.throws(() => parseConnectString("[::1]"), /expected host:port/);
});

// --- pickLeaderZnode ------------------------------------------------------------------------

Deno.test("pickLeaderZnode: lowest json.info_ sequence wins, whatever the order", () => {
  assert.equal(
    pickLeaderZnode([
      "json.info_0000000012",
      "log_replicas",
      "json.info_0000000007",
      "info_0000000003",
      "json.info_0000000010",
    ]),
    "json.info_0000000007",
  );
});

Deno.test("pickLeaderZnode: compares numbers, not strings", () => {
  assert.equal(pickLeaderZnode(["json.info_10", "json.info_9"]), "json.info_9");
  assert.equal(
    pickLeaderZnode(["json.info_0000000100", "json.info_0000000099"]),
    "json.info_0000000099",
  );
  assert.equal(
    pickLeaderZnode(["json.info_99999999999999999999", "json.info_99999999999999999998"]),
    "json.info_99999999999999999998",
  );
});

Deno.test("pickLeaderZnode: ignores look-alikes and finds nothing in their absence", () => {
  assert.equal(pickLeaderZnode([]), undefined);
  assert.equal(
    pickLeaderZnode([
      "log_replicas",
      "info_0000000001",
      "json.info_",
      "json.info_12a",
      "json.info_-1",
      "xjson.info_0000000001",
      "json.info_0000000001.bak",
      "JSON.INFO_0000000001",
    ]),
    undefined,
  );
  assert.equal(
    pickLeaderZnode(["json.info_0000000005", "info_0000000001"]),
    "json.info_0000000005",
  );
});

// --- leaderFromMasterInfo -------------------------------------------------------------------

/** 127.0.0.1 as Mesos stores it: network byte order read as a little-endian uint32. */
const IP_127_0_0_1 = 16777343;
const IP_10_1_2_3 = 10 | (1 << 8) | (2 << 16) | (3 << 24);

Deno.test("leaderFromMasterInfo: a full MasterInfo as written by a Mesos master", () => {
  const info = {
    address: { hostname: "master-1.example", ip: "10.1.2.3", port: 5050 },
    hostname: "master-1.example",
    id: "2b1fa0bc-7d3f-4ef4-8b3f-0123456789ab",
    ip: IP_10_1_2_3,
    pid: "master@10.1.2.3:5050",
    port: 5050,
    version: "1.11.0",
  };
  assert.equal(leaderFromMasterInfo(info), "http://master-1.example:5050");
  assert.equal(leaderFromMasterInfo(JSON.stringify(info)), "http://master-1.example:5050");
  assert.equal(leaderFromMasterInfo(info, "https"), "https://master-1.example:5050");
});

Deno.test("leaderFromMasterInfo: falls back to hostname, address.ip, uint32 ip; port too", () => {
  assert.equal(
    leaderFromMasterInfo({ address: { ip: "10.1.2.3", port: 5051 }, hostname: "h", port: 1 }),
    "http://h:5051",
  );
  assert.equal(
    leaderFromMasterInfo({ address: { ip: "10.1.2.3", port: 5051 }, ip: IP_127_0_0_1, port: 1 }),
    "http://10.1.2.3:5051",
  );
  assert.equal(leaderFromMasterInfo({ ip: IP_127_0_0_1, port: 5050 }), "http://127.0.0.1:5050");
  assert.equal(leaderFromMasterInfo({ ip: IP_10_1_2_3, port: 5050 }), "http://10.1.2.3:5050");
  assert.equal(
    leaderFromMasterInfo({ address: { hostname: "", port: 0 }, hostname: "h2", port: 5050 }),
    "http://h2:5050",
  );
  assert.equal(leaderFromMasterInfo({ address: { ip: "::1", port: 5050 } }), "http://[::1]:5050");
});

Deno.test("leaderFromMasterInfo: rejects what cannot name a master", () => {
  const cases: [unknown, RegExp][] = [
    ["{not json", /not valid JSON/],
    [null, /not a JSON object/],
    [[1, 2], /not a JSON object/],
    [42, /not a JSON object/],
    [{ port: 5050 }, /no address.hostname, hostname, address.ip or ip/],
    [{ ip: 0, port: 5050 }, /no address.hostname/],
    [{ ip: -5, port: 5050 }, /no address.hostname/],
    [{ hostname: "h" }, /no valid port .*got null/],
    [{ hostname: "h", port: "5050" }, /no valid port .*got "5050"/],
    [{ hostname: "h", port: 70000 }, /no valid port/],
    [{ hostname: "h", port: 50.5 }, /no valid port/],
    [{ hostname: "h/x", port: 5050 }, /bad host "h\/x"/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(() => leaderFromMasterInfo(input), pattern, JSON.stringify(input));
  }
});

// --- LeaderDetector with http lists ---------------------------------------------------------

Deno.test("detector (http): current is the first master at once; next() rotates and wraps", () => {
  const logs: string[] = [];
  const d = new LeaderDetector("http://m1:5050,http://m2:5050,http://m3:5050", {
    log: (_level, msg) => logs.push(msg),
  });
  const changes: [string | undefined, string | undefined][] = [];
  d.onChange((now, before) => changes.push([now, before]));
  assert.equal(d.current(), "http://m1:5050");
  d.start();
  assert.equal(d.next(), "http://m2:5050");
  assert.equal(d.next(), "http://m3:5050");
  assert.equal(d.next(), "http://m1:5050");
  assert.equal(d.current(), "http://m1:5050");
  assert.deepEqual(changes, [
    ["http://m2:5050", "http://m1:5050"],
    ["http://m3:5050", "http://m2:5050"],
    ["http://m1:5050", "http://m3:5050"],
  ]);
  assert.ok(logs.some((l) => l.includes("trying master http://m2:5050")));
  return d.close();
});

Deno.test("detector (http): one master stays put; waitForLeader resolves at once", async () => {
  const d = new LeaderDetector("http://m1:5050");
  let calls = 0;
  const off = d.onChange(() => calls++);
  assert.equal(d.next(), "http://m1:5050");
  assert.equal(calls, 0);
  off();
  assert.equal(await d.waitForLeader(10), "http://m1:5050");
  await d.close();
  await d.close();
});

Deno.test("detector (http): a throwing listener is logged, others still run", async () => {
  const logs: string[] = [];
  const d = new LeaderDetector("http://a:1,http://b:2", { log: (_l, m) => logs.push(m) });
  const seen: (string | undefined)[] = [];
  d.onChange(() => {
    throw new Error("boom");
  });
  d.onChange((l) => seen.push(l));
  d.next();
  assert.deepEqual(seen, ["http://b:2"]);
  assert.ok(logs.some((l) => l.includes("leader listener failed: boom")));
  await d.close();
});
