import assert from "node:assert/strict";
import { backoffDelay, resolveLocation } from "../lib/mesos/client.ts";

Deno.test("307 Location without a scheme resolves against the master in use", () => {
  assert.equal(
    resolveLocation("//10.0.0.2:5050/api/v1/scheduler", "http://m1:5050"),
    "http://10.0.0.2:5050",
  );
  assert.equal(resolveLocation("10.0.0.2:5050", "https://m1:5050"), "https://10.0.0.2:5050");
  assert.equal(
    resolveLocation("http://m3:5050/api/v1/scheduler", "http://m1:5050"),
    "http://m3:5050",
  );
  assert.equal(resolveLocation("/api/v1/scheduler", "http://m1:5050"), "http://m1:5050");
});

Deno.test("backoff grows exponentially, is capped, and is jittered", () => {
  const low = () => 0;
  const high = () => 0.999;
  assert.equal(backoffDelay(0, 500, 15_000, low), 250);
  assert.equal(backoffDelay(3, 500, 15_000, low), 2000);
  assert.equal(backoffDelay(10, 500, 15_000, low), 7500);
  assert.ok(backoffDelay(10, 500, 15_000, high) <= 15_000);
  assert.ok(backoffDelay(50, 500, 15_000, high) <= 15_000);
});
