/**
 * relay.mesos as a subprocess under hostile tasks: a warmer that prints flat out (`yes`). The
 * goals of issue 14: ticks within 2x --delay, /healthz within 1 s, SIGTERM acted on within 2 s,
 * a second SIGTERM during --on-exit wait kills at once, and a log that stays small.
 */
import assert from "node:assert/strict";
import { spawnRelay } from "./support/relay_process.ts";
import { untilWithin } from "./support/until.ts";

const until = untilWithin(15_000);

const lines = (text: string) =>
  text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));

Deno.test("--warmer yes: ticks on time, /healthz fast, SIGTERM acted on, second one kills", async () => {
  const relay = spawnRelay([
    "--metric=tasks:running",
    "--target=2",
    "--warmer=yes",
    "--delay=0.5",
    "--web",
    "--web-listen=127.0.0.1:0",
    "--log-format=json",
    "--on-exit=wait",
    "--grace=60",
  ]);
  try {
    await until("the web UI", () => /web UI on http/.test(relay.stdout()));
    const url = /web UI on (http:\/\/[^ "]+)/.exec(relay.stdout())![1];
    await until(
      "two warmers running",
      () => lines(relay.stdout()).some((e) => e.event === "tick" && e.running === 2),
    );
    const floodFrom = Date.now();
    const bytesBefore = relay.stdout().length;
    let worstHealth = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await fetch(`${url}healthz`, { signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      worstHealth = Math.max(worstHealth, performance.now() - t0);
      assert.equal(res.status, 200);
      await new Promise((r) => setTimeout(r, 200));
    }
    const floodSeconds = (Date.now() - floodFrom) / 1000;
    const logRate = (relay.stdout().length - bytesBefore) / floodSeconds;
    assert.ok(worstHealth < 1000, `/healthz took ${worstHealth.toFixed(0)} ms`);
    assert.ok(logRate < 50_000, `log grew ${(logRate / 1000).toFixed(0)} KB/s`);
    const ticks = lines(relay.stdout()).filter((e) => e.event === "tick")
      .map((e) => Date.parse(e.time));
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
    assert.ok(Math.max(...gaps.slice(2)) <= 1000, `tick gaps ${gaps.join(",")}`);
    // The note comes at most every 5 s per task (DROP_NOTE_EVERY_MS): wait for it that long.
    await until(
      "the log saying how much output was dropped",
      () => lines(relay.stdout()).some((e) => String(e.msg).startsWith("task output dropped ")),
      6000,
    );

    const termAt = Date.now();
    relay.child.kill("SIGTERM");
    await until("the stop", () => /"on exit: wait \(2 tasks running\)"/.test(relay.stdout()), 2000);
    assert.ok(Date.now() - termAt < 2000);
    relay.child.kill("SIGTERM");
    const secondAt = Date.now();
    const { status, stdout } = await relay.done();
    assert.ok(Date.now() - secondAt < 2000, `exited ${Date.now() - secondAt} ms after the second`);
    assert.equal(status.code, 0);
    assert.match(stdout, /second stop signal: killing the tasks now/);
  } finally {
    try {
      relay.child.kill("SIGKILL");
    } catch { /* gone */ }
    await relay.done();
  }
});
