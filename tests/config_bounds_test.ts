import assert from "node:assert/strict";
import {
  MAX_RUN_SECONDS,
  MAX_STARTS_PER_TICK,
  MAX_TIMER_SECONDS,
  OPTIONS,
  type OptionSpec,
} from "../lib/config/options.ts";
import { ConfigError, parseConfig } from "../lib/config/parse.ts";
import { HARD_MAX_STARTS_PER_TICK } from "../lib/control/loop.ts";

const base = ["--metric", "1", "--target", "1", "--warmer", "true"];
const parse = (...argv: string[]) =>
  parseConfig({ argv: [...base, ...argv], env: {}, readTextFile: () => "" });

Deno.test("every option in seconds has an upper bound a timer can hold", () => {
  for (const opt of OPTIONS as readonly OptionSpec[]) {
    if (opt.arg !== "SECONDS") continue;
    assert.ok(opt.max !== undefined, `--${opt.name} has no max`);
    assert.ok(opt.max <= MAX_RUN_SECONDS, `--${opt.name}`);
  }
  // 2^31 - 1 ms is the longest setTimeout; the bound stays under it.
  assert.ok(MAX_TIMER_SECONDS * 1000 <= 2 ** 31 - 1);
  assert.equal(MAX_STARTS_PER_TICK, HARD_MAX_STARTS_PER_TICK);
});

Deno.test("values past a bound are refused naming the option (exit 2), the bound accepted", () => {
  for (
    const [flag, bad, good] of [
      ["--task-timeout", "2592000", String(MAX_TIMER_SECONDS)], // 30 days
      ["--delay", "2200000", "86400"],
      ["--signal-timeout", "1e9", "60"],
      ["--grace", "3e6", "30"],
      ["--duration", "1e12", String(MAX_RUN_SECONDS)],
      ["--mesos-max-frame-bytes", "1e16", "268435456"],
      ["--history-points", "1000000000", "100000"],
      ["--max-tasks-per-tick", "1000000", "1000"],
      ["--signal-max-bytes", "1e9", "1024"],
    ]
  ) {
    assert.throws(() => parse(flag, bad), (err: Error) => {
      assert.ok(err instanceof ConfigError, flag);
      assert.match(err.message, new RegExp(`^${flag}: must be <= \\d+, got "${bad}"$`));
      return true;
    });
    assert.equal(parse(flag, good).kind, "run", `${flag} ${good}`);
  }
});
