import assert from "node:assert/strict";
import {
  parseSignalSpec,
  type ScheduleSpec,
  type SineSpec,
  type SquareSpec,
} from "../lib/signals/spec.ts";
import { scheduleAt, sineAt, squareAt } from "../lib/signals/waveforms.ts";

const S = 1000;

function schedule(spec: string): ScheduleSpec {
  const parsed = parseSignalSpec(spec);
  assert.equal(parsed.kind, "schedule");
  return parsed as ScheduleSpec;
}

function near(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} is not ${expected}`);
}

Deno.test("sine: mid-range at t=0, max at a quarter period, min at three quarters", () => {
  const sine: SineSpec = { kind: "sine", period: 60, min: 0, max: 10, phase: 0 };
  near(sineAt(sine, 0), 5, "t=0");
  near(sineAt(sine, 15 * S), 10, "t=15");
  near(sineAt(sine, 30 * S), 5, "t=30");
  near(sineAt(sine, 45 * S), 0, "t=45");
  near(sineAt(sine, 60 * S), 5, "t=60");
  near(sineAt(sine, 7.5 * S), 5 + 5 * Math.SQRT1_2, "t=7.5");
});

Deno.test("sine: phase shifts the wave earlier by that many seconds", () => {
  const sine: SineSpec = { kind: "sine", period: 600, min: 10, max: 30, phase: 150 };
  near(sineAt(sine, 0), 30, "a quarter period ahead");
  near(sineAt(sine, 300 * S), 10, "three quarters ahead");
});

Deno.test("sine: stays within [min, max] at wall-clock times, and is flat when min = max", () => {
  const sine: SineSpec = { kind: "sine", period: 600, min: -4, max: 40, phase: 0 };
  const start = Date.UTC(2026, 10, 28, 12);
  for (let t = start; t < start + 3_600_000; t += 7_919) {
    const v = sineAt(sine, t);
    assert.ok(v >= -4 && v <= 40, `${v} at ${t}`);
  }
  const flat: SineSpec = { kind: "sine", period: 60, min: 3, max: 3, phase: 0 };
  assert.equal(sineAt(flat, start), 3);
});

Deno.test("square: high for the first duty fraction of each period, low for the rest", () => {
  const sq: SquareSpec = { kind: "square", period: 60, low: 1, high: 4, duty: 0.25, phase: 0 };
  assert.equal(squareAt(sq, 0), 4);
  assert.equal(squareAt(sq, 14_999), 4);
  assert.equal(squareAt(sq, 15 * S), 1);
  assert.equal(squareAt(sq, 59_999), 1);
  assert.equal(squareAt(sq, 60 * S), 4);
  assert.equal(squareAt(sq, 75 * S), 1);
});

Deno.test("square: phase shifts it, and times before the epoch still cycle", () => {
  const sq: SquareSpec = { kind: "square", period: 60, low: 1, high: 4, duty: 0.5, phase: 30 };
  assert.equal(squareAt(sq, 0), 1); // at position 30 of 60
  assert.equal(squareAt(sq, 30 * S), 4); // back to position 0
  const plain: SquareSpec = { ...sq, phase: 0 };
  assert.equal(squareAt(plain, -1 * S), 1); // position 59
  assert.equal(squareAt(plain, -50 * S), 4); // position 10
});

Deno.test("schedule (UTC): the latest entry at or before the time of day applies", () => {
  const spec = schedule("schedule:tz=UTC,00:00=40,08:00=5,20:00=40");
  const at = (h: number, m = 0, s = 0) => scheduleAt(spec, Date.UTC(2026, 0, 15, h, m, s));
  assert.equal(at(0), 40);
  assert.equal(at(7, 59, 59), 40);
  assert.equal(at(8), 5);
  assert.equal(at(12, 30), 5);
  assert.equal(at(19, 59, 59), 5);
  assert.equal(at(20), 40);
  assert.equal(at(23, 59, 59), 40);
});

Deno.test("schedule (UTC): before the first entry, the last entry of the day still applies", () => {
  const spec = schedule("schedule:tz=UTC,08:00=5,20:00=40");
  assert.equal(scheduleAt(spec, Date.UTC(2026, 0, 15, 0, 0)), 40);
  assert.equal(scheduleAt(spec, Date.UTC(2026, 0, 15, 7, 59)), 40);
  assert.equal(scheduleAt(spec, Date.UTC(2026, 0, 15, 8, 0)), 5);
  const single = schedule("schedule:tz=UTC,12:00=9");
  assert.equal(scheduleAt(single, Date.UTC(2026, 0, 15, 3)), 9);
  assert.equal(scheduleAt(single, Date.UTC(2026, 0, 15, 13)), 9);
});

Deno.test("schedule: entries with seconds switch on the exact second", () => {
  const spec = schedule("schedule:tz=UTC,08:30:15=2,09:00=3");
  assert.equal(scheduleAt(spec, Date.UTC(2026, 0, 15, 8, 30, 14, 999)), 3);
  assert.equal(scheduleAt(spec, Date.UTC(2026, 0, 15, 8, 30, 15)), 2);
});

Deno.test("schedule: a named time zone follows its offset, including daylight saving", () => {
  const paris = schedule("schedule:tz=Europe/Paris,08:00=5,20:00=40");
  // January: Paris is UTC+1, so 08:00 there is 07:00 UTC.
  assert.equal(scheduleAt(paris, Date.UTC(2026, 0, 15, 6, 59)), 40);
  assert.equal(scheduleAt(paris, Date.UTC(2026, 0, 15, 7, 0)), 5);
  // July: UTC+2, so 08:00 there is 06:00 UTC.
  assert.equal(scheduleAt(paris, Date.UTC(2026, 6, 15, 5, 59)), 40);
  assert.equal(scheduleAt(paris, Date.UTC(2026, 6, 15, 6, 0)), 5);
  const kolkata = schedule("schedule:tz=Asia/Kolkata,00:00=1,12:00=2");
  // UTC+5:30: 18:29 UTC is 23:59 there, 18:30 UTC is midnight.
  assert.equal(scheduleAt(kolkata, Date.UTC(2026, 0, 15, 18, 29)), 2);
  assert.equal(scheduleAt(kolkata, Date.UTC(2026, 0, 15, 18, 30)), 1);
});

Deno.test("schedule without tz uses the local time of day", () => {
  const spec = schedule("schedule:08:00=5,20:00=40");
  assert.equal(scheduleAt(spec, new Date(2026, 0, 15, 7, 59).getTime()), 40);
  assert.equal(scheduleAt(spec, new Date(2026, 0, 15, 8, 0).getTime()), 5);
  assert.equal(scheduleAt(spec, new Date(2026, 0, 15, 20, 0).getTime()), 40);
});

Deno.test("schedule without tz follows the process's TZ (checked in a TZ=Asia/Tokyo child)", async () => {
  const module = new URL("../lib/signals/waveforms.ts", import.meta.url).href;
  const code = `import { scheduleAt } from ${JSON.stringify(module)};
    const entries = [{ secondOfDay: 8 * 3600, value: 5 }, { secondOfDay: 20 * 3600, value: 40 }];
    console.log(scheduleAt({ kind: "schedule", entries }, Date.UTC(2026, 0, 15, 0, 0)));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    env: { TZ: "Asia/Tokyo", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  // 00:00 UTC is 09:00 in Tokyo: the 08:00 entry (in UTC it would still be the 20:00 one).
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "5");
});
