import assert from "node:assert/strict";
import { startQueueSim, steppingRate } from "../scripts/queue_sim.ts";
import { ArrivalAccumulator } from "../sim/plants.ts";
import { untilWithin } from "./support/until.ts";

const CONSUMER = new URL("../scripts/queue_consumer.ts", import.meta.url).pathname;

async function get(url: string): Promise<string> {
  const res = await fetch(url);
  return (await res.text()).trim();
}

async function post(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: "POST" });
  return { status: res.status, body: (await res.text()).trim() };
}

const until = untilWithin(2000, 10);

function consumer(env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", "--allow-env", CONSUMER],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("arrivals accumulate rate * dt with fractional carry", () => {
  const half = new ArrivalAccumulator(() => 2.5);
  assert.deepEqual([half.step(1), half.step(1), half.step(1), half.step(1)], [2, 3, 2, 3]);

  const slow = new ArrivalAccumulator(() => 3);
  let total = 0;
  for (let i = 0; i < 100; i++) total += slow.step(0.1);
  assert.equal(total, 30);
  assert.ok(Math.abs(slow.time - 10) < 1e-9);

  // The rate is read at the start of each step, in simulated seconds.
  const stepped = new ArrivalAccumulator((t) => (t < 1 ? 10 : 0));
  assert.equal(stepped.step(1), 10);
  assert.equal(stepped.step(1), 0);

  const seeded = (seed: number) => {
    const a = new ArrivalAccumulator(() => 10, seed);
    return Array.from({ length: 200 }, () => a.step(0.1));
  };
  assert.deepEqual(seeded(42), seeded(42), "same seed, same arrivals");
  assert.notDeepEqual(seeded(42), seeded(43));
  const sum = seeded(42).reduce((a, b) => a + b, 0);
  assert.ok(sum > 160 && sum < 240, `about 200 items, got ${sum}`);
});

Deno.test("steppingRate steps through its phases and repeats", () => {
  assert.deepEqual([0, 59, 60, 119, 120, 179, 180].map(steppingRate), [2, 2, 8, 8, 0.5, 0.5, 2]);
});

Deno.test("the queue fills at the arrival rate", async () => {
  const sim = await startQueueSim({ rate: () => 200, tickMs: 10 });
  try {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await until("10 items queued", () => sim.length() >= 10);
    const s = sim.stats();
    assert.equal(s.arrived, s.length);
    assert.equal(s.length % 2, 0, "whole ticks of 2 items each");
    assert.ok(Number(await get(`${sim.url}/length`)) >= s.length);
  } finally {
    await sim.close();
  }
});

Deno.test("take removes up to what is there; length and stats report it", async () => {
  const sim = await startQueueSim({ rate: () => 0, tickMs: 10, initial: 5 });
  try {
    assert.equal(await get(`${sim.url}/length`), "5");
    assert.deepEqual(await post(`${sim.url}/take?n=3`), { status: 200, body: "3" });
    assert.deepEqual(await post(`${sim.url}/take?n=10`), { status: 200, body: "2" });
    assert.deepEqual(await post(`${sim.url}/take?n=1`), { status: 200, body: "0" });
    assert.equal(await get(`${sim.url}/length`), "0");
    assert.equal((await post(`${sim.url}/take?n=-1`)).status, 400);
    assert.equal((await post(`${sim.url}/take?n=abc`)).status, 400);

    await post(`${sim.url}/hello`);
    await post(`${sim.url}/hello`);
    await post(`${sim.url}/bye`);
    const stats = JSON.parse(await get(`${sim.url}/stats`));
    assert.deepEqual(stats, { length: 0, arrived: 5, taken: 5, consumers: 1 });
    assert.deepEqual(sim.stats(), stats);

    assert.equal((await post(`${sim.url}/nowhere`)).status, 404);
    assert.equal((await post(`${sim.url}/length`)).status, 405);
  } finally {
    await sim.close();
  }
});

Deno.test("a consumer process drains the queue at its rate and exits 0", async () => {
  const sim = await startQueueSim({ rate: () => 0, tickMs: 50, initial: 100 });
  try {
    const child = consumer({ QUEUE_URL: sim.url, CONSUMER_LIFE: "1", CONSUMER_RATE: "20" });
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const m = stdout.match(/^consumed (\d+) items in (\d+\.\d) s$/);
    assert.ok(m, `unexpected output: ${stdout}`);
    const consumed = Number(m[1]);
    assert.equal(consumed, 20);
    assert.ok(Number(m[2]) >= 1 && Number(m[2]) < 2);
    assert.deepEqual(sim.stats(), { length: 80, arrived: 100, taken: 20, consumers: 0 });
  } finally {
    await sim.close();
  }
});

Deno.test("a consumer exits 0 early on SIGTERM", async () => {
  const sim = await startQueueSim({ rate: () => 0, tickMs: 50, initial: 1000 });
  try {
    const child = consumer({ QUEUE_URL: sim.url, CONSUMER_LIFE: "30", CONSUMER_RATE: "10" });
    await until(
      "a consumer taking items",
      () => sim.stats().consumers === 1 && sim.stats().taken > 0,
    );
    child.kill("SIGTERM");
    const out = await child.output();
    assert.equal(out.code, 0);
    assert.match(new TextDecoder().decode(out.stdout), /^consumed \d+ items in \d+\.\d s$/m);
    assert.equal(sim.stats().consumers, 0, "said bye");
  } finally {
    await sim.close();
  }
});

Deno.test("a consumer exits 1 when the queue is unreachable", async () => {
  const sim = await startQueueSim({ rate: () => 0 });
  const url = sim.url;
  await sim.close();
  const out = await consumer({ QUEUE_URL: url, CONSUMER_LIFE: "1" }).output();
  assert.equal(out.code, 1);
  assert.match(new TextDecoder().decode(out.stderr), /queue unreachable/);
});
