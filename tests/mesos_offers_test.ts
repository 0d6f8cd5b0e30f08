import assert from "node:assert/strict";
import type { Offer, Resource } from "../lib/mesos/messages.ts";
import { offerTotals, packOffers } from "../lib/mesos/offers.ts";
import { parseTaskResources } from "../lib/specs/resources.ts";

function scalar(name: string, value: number, role = "*", alloc?: string): Resource {
  return {
    name,
    type: "SCALAR",
    scalar: { value },
    role,
    ...(alloc ? { allocation_info: { role: alloc } } : {}),
  };
}

function offer(id: string, resources: Resource[]): Offer {
  return {
    id: { value: id },
    framework_id: { value: "fw" },
    agent_id: { value: `agent-${id}` },
    hostname: `host-${id}`,
    resources,
  };
}

const NEED = { cpus: 1, mem: 128, disk: 0, gpus: 0 };

Deno.test("an offer too small for one task is declined", () => {
  const small = offer("a", [scalar("cpus", 0.5), scalar("mem", 1024)]);
  const r = packOffers([small], 3, NEED);
  assert.equal(r.accept.length, 0);
  assert.deepEqual(r.decline, [small]);
});

Deno.test("one offer takes as many tasks as fit, and no more than wanted", () => {
  const big = offer("a", [scalar("cpus", 4.5), scalar("mem", 1000)]);
  assert.equal(packOffers([big], 10, NEED).accept[0].tasks.length, 4);
  assert.equal(packOffers([big], 2, NEED).accept[0].tasks.length, 2);
  const memBound = offer("b", [scalar("cpus", 8), scalar("mem", 300)]);
  assert.equal(packOffers([memBound], 10, NEED).accept[0].tasks.length, 2);
});

Deno.test("tasks spread over offers in order; the rest are declined", () => {
  const offers = [
    offer("a", [scalar("cpus", 2), scalar("mem", 256)]),
    offer("b", [scalar("cpus", 2), scalar("mem", 256)]),
    offer("c", [scalar("cpus", 2), scalar("mem", 256)]),
  ];
  const r = packOffers(offers, 3, NEED);
  assert.deepEqual(r.accept.map((p) => [p.offer.id.value, p.tasks.length]), [["a", 2], ["b", 1]]);
  assert.deepEqual(r.decline.map((o) => o.id.value), ["c"]);
});

Deno.test("same-named resources of several roles are summed and echoed with their roles", () => {
  const multi = offer("a", [
    scalar("cpus", 0.5, "prod", "prod"),
    scalar("cpus", 0.75, "*", "prod"),
    scalar("mem", 64, "prod", "prod"),
    scalar("mem", 64, "*", "prod"),
  ]);
  assert.deepEqual(offerTotals(multi), { cpus: 1.25, mem: 128 });
  const r = packOffers([multi], 5, NEED);
  assert.equal(r.accept[0].tasks.length, 1);
  const task = r.accept[0].tasks[0];
  assert.deepEqual(task, [
    scalar("cpus", 0.5, "prod", "prod"),
    scalar("cpus", 0.5, "*", "prod"),
    scalar("mem", 64, "prod", "prod"),
    scalar("mem", 64, "*", "prod"),
  ]);
});

Deno.test("fractions are kept to three decimals, as Mesos does", () => {
  const o = offer("a", [scalar("cpus", 0.3), scalar("mem", 30)]);
  const r = packOffers([o], 5, { cpus: 0.1, mem: 10, disk: 0, gpus: 0 });
  assert.equal(r.accept[0].tasks.length, 3);
  assert.equal(r.accept[0].tasks[2][0].scalar!.value, 0.1);
});

Deno.test("gpus and disk are only taken when asked for", () => {
  const o = offer("a", [
    scalar("cpus", 4),
    scalar("mem", 512),
    scalar("gpus", 1),
    scalar("disk", 10),
  ]);
  const plain = packOffers([o], 1, NEED).accept[0].tasks[0];
  assert.deepEqual(plain.map((r) => r.name), ["cpus", "mem"]);
  const gpu = packOffers([o], 3, { ...NEED, gpus: 1 }).accept[0].tasks;
  assert.equal(gpu.length, 1);
});

Deno.test("--mesos-task-resources parsing", () => {
  assert.deepEqual(parseTaskResources("cpus=0.5,mem=128"), {
    cpus: 0.5,
    mem: 128,
    disk: 0,
    gpus: 0,
  });
  assert.throws(() => parseTaskResources("cpus=1,ram=3"), /unknown resource "ram"/);
  assert.throws(() => parseTaskResources("cpus=-1"), /expected NAME=NUMBER/);
  assert.throws(() => parseTaskResources("disk=5"), /needs cpus or mem/);
  assert.throws(() => parseTaskResources("cpus=1,cpus=2"), /given twice/);
});

Deno.test("disks: volumes, shared and RAW disks are never taken; a MOUNT disk only whole", () => {
  const disk = (value: number, extra: Partial<Resource>): Resource => ({
    ...scalar("disk", value),
    ...extra,
  });
  const volume = disk(900, {
    disk: { persistence: { id: "v1" }, volume: { mode: "RW", container_path: "data" } },
  });
  const shared = disk(900, { shared: {} });
  const raw = disk(900, { disk: { source: { type: "RAW", id: "r1" } } });
  const mount = disk(300, { disk: { source: { type: "MOUNT", mount: { root: "/m" } } } });
  const need = { cpus: 1, mem: 128, disk: 100, gpus: 0 };
  const o = offer("a", [scalar("cpus", 4), scalar("mem", 1024), volume, shared, raw, mount]);
  const { accept } = packOffers([o], 3, need);
  // One task: it takes the MOUNT disk (all 300 of it); nothing else can hold 100 of disk.
  assert.equal(accept[0].tasks.length, 1);
  assert.deepEqual(accept[0].tasks[0].map((r) => [r.name, r.scalar!.value]), [
    ["cpus", 1],
    ["mem", 128],
    ["disk", 300],
  ]);
  assert.deepEqual(accept[0].tasks[0][2].disk, mount.disk);
  // Without the MOUNT disk, no task fits at all.
  const none = offer("b", [scalar("cpus", 4), scalar("mem", 1024), volume, shared, raw]);
  assert.equal(packOffers([none], 3, need).accept.length, 0);
});

Deno.test("a task's share repeats every field of the offered resource but the scalar", () => {
  const reserved: Resource = {
    ...scalar("cpus", 2, "relay", "relay"),
    reservation: { principal: "ops", labels: { labels: [{ key: "k", value: "v" }] } },
    reservations: [{ type: "DYNAMIC", role: "relay", principal: "ops" }],
    revocable: {},
    provider_id: { value: "rp" },
  };
  const path: Resource = {
    ...scalar("disk", 50, "*", "relay"),
    disk: { source: { type: "PATH", path: { root: "/p" } } },
  };
  const o = offer("a", [reserved, scalar("mem", 256, "*", "relay"), path]);
  const [[cpus, , disk]] = packOffers([o], 1, { cpus: 0.5, mem: 64, disk: 10, gpus: 0 }).accept[0]
    .tasks;
  assert.deepEqual(cpus, { ...reserved, scalar: { value: 0.5 } });
  assert.deepEqual(disk, { ...path, scalar: { value: 10 } });
});
