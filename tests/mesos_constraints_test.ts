import assert from "node:assert/strict";
import { admits, fieldValue, place, type PlacementCounts } from "../lib/mesos/constraints.ts";
import { parseConstraint } from "../lib/specs/constraint.ts";
import type { Attribute, Offer } from "../lib/mesos/messages.ts";
import { packOffers } from "../lib/mesos/offers.ts";
import { startTestMaster, type TestAgent } from "./support/mesos_master.ts";
import { startFramework } from "./support/mesos_harness.ts";

function offer(host: string, attributes: Attribute[] = [], cpus = 4): Offer {
  return {
    id: { value: `o-${host}` },
    framework_id: { value: "fw" },
    agent_id: { value: `a-${host}` },
    hostname: host,
    resources: [
      { name: "cpus", type: "SCALAR", scalar: { value: cpus }, role: "*" },
      { name: "mem", type: "SCALAR", scalar: { value: 4096 }, role: "*" },
    ],
    attributes,
  };
}
const text = (name: string, value: string): Attribute => ({ name, type: "TEXT", text: { value } });

Deno.test("constraints parse in Marathon's vocabulary; bad ones say what is wrong", () => {
  assert.deepEqual(parseConstraint("hostname:UNIQUE"), {
    field: "hostname",
    op: "UNIQUE",
    text: "hostname:UNIQUE",
  });
  assert.equal(parseConstraint("rack:max_per:2").n, 2);
  assert.equal(parseConstraint("rack:GROUP_BY").n, undefined);
  assert.equal(parseConstraint("rack:GROUP_BY:3").n, 3);
  assert.equal(parseConstraint("zone:CLUSTER:eu-1").value, "eu-1");
  assert.ok(
    parseConstraint("host:LIKE:web-[0-9]+:8080").regex!.test("web-12:8080"),
    "ARG keeps colons",
  );
  for (
    const [bad, why] of [
      ["hostname", /expected FIELD:OPERATOR/],
      [":UNIQUE", /expected FIELD:OPERATOR/],
      ["rack:SPREAD", /unknown operator "SPREAD"/],
      ["rack:MAX_PER", /MAX_PER needs N/],
      ["rack:MAX_PER:0", /MAX_PER needs N/],
      ["rack:MAX_PER:x", /MAX_PER needs N/],
      ["rack:GROUP_BY:-1", /GROUP_BY needs N/],
      ["rack:LIKE", /LIKE needs a regex/],
      ["rack:UNLIKE:(", /bad regex/],
      ["hostname:UNIQUE:1", /UNIQUE takes no argument/],
    ] as const
  ) {
    assert.throws(() => parseConstraint(bad), why, bad);
  }
});

Deno.test("fields: hostname, and attributes of every type", () => {
  const o = offer("h1", [
    text("rack", "r1"),
    { name: "weight", type: "SCALAR", scalar: { value: 2.5 } },
    { name: "disks", type: "SET", set: { item: ["ssd", "hdd"] } },
    { name: "ports", type: "RANGES", ranges: { range: [{ begin: 1, end: 2 }] } },
  ]);
  assert.equal(fieldValue(o, "hostname"), "h1");
  assert.equal(fieldValue(o, "rack"), "r1");
  assert.equal(fieldValue(o, "weight"), "2.5");
  assert.equal(fieldValue(o, "disks"), "{ssd,hdd}");
  assert.equal(fieldValue(o, "ports"), "[1-2]");
  assert.equal(fieldValue(o, "zone"), undefined);
});

Deno.test("each operator admits or refuses one more task", () => {
  const c = (s: string) => [parseConstraint(s)];
  const counts = (field: string, entries: [string, number][]): PlacementCounts =>
    new Map([[field, new Map(entries)]]);
  const r1 = offer("h1", [text("rack", "r1")]);
  const bare = offer("h9");
  assert.equal(admits(c("hostname:UNIQUE"), r1, counts("hostname", [])), true);
  assert.equal(admits(c("hostname:UNIQUE"), r1, counts("hostname", [["h1", 1]])), false);
  assert.equal(admits(c("rack:MAX_PER:2"), r1, counts("rack", [["r1", 1]])), true);
  assert.equal(admits(c("rack:MAX_PER:2"), r1, counts("rack", [["r1", 2]])), false);
  assert.equal(admits(c("rack:LIKE:r[12]"), r1, new Map()), true);
  assert.equal(admits(c("rack:LIKE:r"), r1, new Map()), false, "the whole value must match");
  assert.equal(admits(c("rack:UNLIKE:r1"), r1, new Map()), false);
  assert.equal(admits(c("rack:UNLIKE:r1"), bare, new Map()), true, "no attribute: not like it");
  assert.equal(admits(c("rack:LIKE:.*"), bare, new Map()), false, "no attribute: nothing else");
  assert.equal(admits(c("rack:CLUSTER:r1"), r1, new Map()), true);
  assert.equal(admits(c("rack:CLUSTER:r2"), r1, new Map()), false);
  assert.equal(admits(c("rack:CLUSTER"), r1, new Map()), true, "the first task picks");
  assert.equal(admits(c("rack:CLUSTER"), r1, counts("rack", [["r2", 1]])), false);
  // GROUP_BY: only where the fewest are; with N, unseen values count as empty groups.
  assert.equal(admits(c("rack:GROUP_BY"), r1, counts("rack", [["r1", 1], ["r2", 1]])), true);
  assert.equal(admits(c("rack:GROUP_BY"), r1, counts("rack", [["r1", 2], ["r2", 1]])), false);
  assert.equal(admits(c("rack:GROUP_BY"), r1, counts("rack", [["r1", 1]])), true, "N unknown");
  assert.equal(admits(c("rack:GROUP_BY:2"), r1, counts("rack", [["r1", 1]])), false);
  assert.equal(admits(c("rack:GROUP_BY:2"), r1, counts("rack", [["r1", 1], ["r2", 1]])), true);
  // Several constraints: all must admit.
  const both = [parseConstraint("hostname:UNIQUE"), parseConstraint("rack:LIKE:r2")];
  assert.equal(admits(both, r1, new Map()), false);
});

Deno.test("packing with placement rules: a task an offer refuses waits for a later offer", () => {
  const constraints = [parseConstraint("hostname:UNIQUE")];
  const counts: PlacementCounts = new Map();
  const hook = {
    admits: (o: Offer) => admits(constraints, o, counts),
    placed: (o: Offer) => place(constraints, o, counts),
  };
  const offers = [offer("h1"), offer("h2"), offer("h3")];
  const { accept, decline } = packOffers(offers, 2, { cpus: 1, mem: 64, disk: 0, gpus: 0 }, hook);
  // Big offers, one task each: two hosts used, the third declined.
  assert.deepEqual(accept.map((p) => [p.offer.hostname, p.indices]), [["h1", [0]], ["h2", [1]]]);
  assert.deepEqual(decline.map((o) => o.hostname), ["h3"]);
  // Without rules the first offer takes both.
  const free = packOffers(offers, 2, { cpus: 1, mem: 64, disk: 0, gpus: 0 });
  assert.deepEqual(free.accept.map((p) => [p.offer.hostname, p.indices]), [["h1", [0, 1]]]);
});

Deno.test("through the test master: hostname:UNIQUE and rack:GROUP_BY:2 spread the tasks", async () => {
  const agent = (id: string, rack: string): TestAgent => ({
    id,
    hostname: id,
    resources: { cpus: 4, mem: 1024, disk: 0 },
    attributes: [text("rack", rack)],
  });
  const master = await startTestMaster({
    agents: [agent("h1", "r1"), agent("h2", "r1"), agent("h3", "r2"), agent("h4", "r2")],
    heartbeatSeconds: 1,
  });
  const h = await startFramework({
    leader: () => master.url,
    constraints: [parseConstraint("hostname:UNIQUE"), parseConstraint("rack:GROUP_BY:2")],
    refuseSeconds: 0.2,
  });
  try {
    const deadline = Date.now() + 8000;
    while (!h.executor.connected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Two first: one per rack (not both on rack r1, although h1 and h2 come first).
    h.executor.launch("warmer", 2);
    await master.waitFor(() => master.launchedTasks.length === 2, "two launched", 8000);
    const rackOf = (agentId: string) => agentId === "h1" || agentId === "h2" ? "r1" : "r2";
    const racks = () => master.launchedTasks.map((t) => rackOf(t.agent_id.value)).sort();
    assert.deepEqual(racks(), ["r1", "r2"]);
    // Two more: the other host of each rack; a fifth has nowhere to go and waits.
    h.executor.launch("warmer", 3);
    await master.waitFor(() => master.launchedTasks.length === 4, "four launched", 8000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(master.launchedTasks.length, 4);
    assert.deepEqual(master.launchedTasks.map((t) => t.agent_id.value).sort(), [
      "h1",
      "h2",
      "h3",
      "h4",
    ]);
    assert.equal(h.executor.tasks().filter((t) => t.state === "pending").length, 1);
  } finally {
    await h.executor.shutdown("kill", 0);
    await master.close();
    await Deno.remove(h.stateDir, { recursive: true });
  }
});
