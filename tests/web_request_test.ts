import assert from "node:assert/strict";
import { EventBus } from "../lib/events.ts";
import { startWebServer } from "../lib/web/server.ts";

/** Sends raw request bytes; returns the status line. */
async function raw(port: number, request: string): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(4096);
    const n = await c.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
  } finally {
    c.close();
  }
}

Deno.test("a malformed Host is a 400, and neither the token nor the junk reaches the log", async () => {
  const logged: string[] = [];
  const web = await startWebServer({
    listen: { hostname: "127.0.0.1", port: 0 },
    token: "hunter22-token",
    bus: new EventBus(),
    control: { paused: false },
    historyPoints: 100,
    log: (_level, msg) => logged.push(msg),
    state: () => ({ startedAt: 0, executor: "local", dryRun: false, options: {} }),
  });
  const port = Number(new URL(web.url).port);
  try {
    const junk = "q".repeat(60_000);
    for (const host of ["a b", "[::1", `x${junk}`, "exa mple:80", "%zz"]) {
      const status = await raw(
        port,
        `GET /api/state?token=hunter22-token HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      assert.match(status, /^HTTP\/1\.1 4\d\d /, `Host ${host.slice(0, 20)}: ${status}`);
      assert.doesNotMatch(status, / 500 /);
    }
    const all = logged.join("\n");
    assert.ok(!all.includes("hunter22"), all.slice(0, 300));
    assert.ok(all.length < 2000, `${all.length} characters logged`);
  } finally {
    await web.close();
  }
});
