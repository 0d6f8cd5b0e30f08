import assert from "node:assert/strict";
import { main } from "../main.ts";
import { capLine, MAX_LINE_CHARS, Redactor, secretsInEnv } from "../lib/redact.ts";
import { forLog } from "../lib/web/server.ts";

Deno.test("Redactor replaces secrets as is, JSON-escaped and URL-encoded; short ones are kept", () => {
  const r = new Redactor(['pa"ss word', "abc"]);
  assert.equal(r.redact('x pa"ss word y'), "x [redacted] y");
  assert.equal(r.redact(JSON.stringify({ m: 'pa"ss word' })), '{"m":"[redacted]"}');
  assert.equal(r.redact("?t=pa%22ss%20word&u=pa%22ss+word"), "?t=[redacted]&u=[redacted]");
  assert.equal(r.redact("abc stays"), "abc stays", "3 characters: too short to redact");
  assert.deepEqual(secretsInEnv({ RELAY_MESOS_SECRET: "s1", DB_PASSWORD: "s2", HOME: "/h" }), [
    "s1",
    "s2",
  ]);
});

Deno.test("lines are capped, saying how much was cut", () => {
  const long = "y".repeat(MAX_LINE_CHARS + 10);
  assert.equal(capLine(long), `${"y".repeat(MAX_LINE_CHARS)}… (10 more characters cut)`);
  assert.equal(new Redactor().line("short"), "short");
});

Deno.test("request data in the log: tokens removed, control characters escaped, capped", () => {
  const logged = forLog(
    `Invalid URL: 'http://a b/?x=1&token=hunter22\x1b[31m${"z".repeat(60_000)}'`,
  );
  assert.ok(!logged.includes("hunter22"));
  assert.ok(logged.includes("token=(redacted)"));
  assert.ok(!logged.includes("\x1b"));
  assert.ok(logged.length < 300);
});

Deno.test("a secret a failing cmd: signal prints is in no log line and no API answer", async () => {
  const dir = await Deno.makeTempDir();
  const token = "tok-s3cret-4242";
  const secret = "db-s3cret-777"; // in a secret-looking variable of our environment
  await Deno.writeTextFile(`${dir}/leak`, `${token} ${secret}\n`);
  const out: string[] = [];
  const stop = new AbortController();
  const running = main(
    [
      "--metric",
      `cmd:cat ${dir}/leak >&2; exit 1`,
      "--target",
      "1",
      "--warmer",
      "true",
      "--delay",
      "0.1",
      "--web",
      "--web-listen",
      "127.0.0.1:0",
    ],
    stop.signal,
    { out: (l) => out.push(l), err: (l) => out.push(l) },
    { PATH: Deno.env.get("PATH"), RELAY_WEB_TOKEN: token, DB_PASSWORD: secret },
  );
  try {
    const deadline = Date.now() + 10_000;
    while (!out.some((l) => l.includes("missing metric")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const url = /web UI on (\S+)/.exec(out.join("\n"))?.[1];
    assert.ok(url, out.join("\n"));
    const res = await fetch(`${url}api/state`, { headers: { authorization: `Bearer ${token}` } });
    const state = await res.text();
    assert.match(state, /"reason":"exit code 1: \[redacted\] \[redacted\]"/);
    assert.ok(!state.includes(token) && !state.includes(secret));
  } finally {
    stop.abort();
    await running;
    await Deno.remove(dir, { recursive: true });
  }
  const all = out.join("\n");
  assert.match(all, /missing metric sample: exit code 1: \[redacted\] \[redacted\]/);
  assert.ok(!all.includes(token) && !all.includes(secret), "no secret in the log");
});
