import assert from "node:assert/strict";
import { MasterList, parseMasters } from "../lib/mesos/masters.ts";

Deno.test("--mesos-master: URL lists and ZooKeeper specs", () => {
  assert.deepEqual(parseMasters("http://m1:5050"), { kind: "urls", urls: ["http://m1:5050"] });
  assert.deepEqual(parseMasters("http://m1:5050/, https://m2:5050"), {
    kind: "urls",
    urls: ["http://m1:5050", "https://m2:5050"],
  });
  assert.deepEqual(parseMasters("zk://10.0.0.1:2181,zk2:2181/mesos/"), {
    kind: "zk",
    hosts: ["10.0.0.1:2181", "zk2:2181"],
    path: "/mesos",
  });
});

Deno.test("--mesos-master: bad specs say what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["m1:5050", /unsupported scheme|not a URL/],
    ["ftp://m1", /unsupported scheme "ftp:"/],
    ["http://m1:5050/api", /without a path/],
    ["zk://zk1:2181", /expected zk:\/\/host:port/],
    ["zk://zk1/mesos", /bad ZooKeeper address "zk1"/],
    ["zk://zk1:99999/mesos", /bad ZooKeeper address/],
    ["zk://u:p@zk1:2181/mesos", /credentials/],
    ["zk://zk1:2181/", /bad ZooKeeper path/],
  ];
  for (const [spec, pattern] of cases) assert.throws(() => parseMasters(spec), pattern, spec);
});

Deno.test("a master list moves on after a failure and wraps around", () => {
  const list = new MasterList(["http://a:1", "http://b:2"]);
  assert.equal(list.current(), "http://a:1");
  list.next();
  assert.equal(list.current(), "http://b:2");
  list.next();
  assert.equal(list.current(), "http://a:1");
});
