/**
 * The web UI in a real browser: a demo-like loop runs in this process on the real clock (a sine
 * target, the metric = tasks running, the adaptive law, an in-memory executor), the web server
 * serves it with a token, and headless Chromium opens the page. Checks that the chart gets new
 * points, that decisions are listed, that Pause stops launches and Resume brings them back, that
 * the hover time has seconds, that bars are drawn under the lines, that the lowest line is inside
 * the plot, that opening Options leaves the decisions their room, and that a kind's launch backoff
 * is shown; then saves a screenshot to tests/artifacts/web.png.
 */

import assert from "node:assert/strict";
import { systemClock } from "../lib/clock.ts";
import { AdaptiveLaw } from "../lib/control/adaptive.ts";
import { runLoop } from "../lib/control/loop.ts";
import { EventBus } from "../lib/events.ts";
import { parseConfig } from "../lib/config/parse.ts";
import { createSignal } from "../lib/signals/sources.ts";
import { startWebServer } from "../lib/web/server.ts";
import { BrowserSession, ensureChromium } from "./support/browser.ts";
import { FakeExecutor } from "./support/fake_executor.ts";

const chromium = await ensureChromium();
if (!chromium.ok) {
  console.log(
    `\n${"!".repeat(72)}\nSKIPPED: chromium unavailable: ${chromium.reason}\n${"!".repeat(72)}\n`,
  );
}

const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const TOKEN = "browser-test-token";

/** Ids of decisions that launched or stopped tasks, as listed in the page. */
const ACTION_IDS = `[...document.querySelectorAll('#decisions li:not([data-action="wait"])')]
  .map((li) => Number(li.dataset.id))`;
const TOP_REASON = `document.querySelector("#decisions li .d-reason")?.textContent`;
const POINTS = `Number(document.getElementById("chart").dataset.points)`;
/** The lowest value of the chart's y axis. */
const Y_MIN = `Number(document.getElementById("chart").dataset.yMin)`;
/** Decisions whose whole box is inside the decisions panel's visible area. */
const VISIBLE_DECISIONS = `(() => {
  const panel = document.getElementById("decisions-panel").getBoundingClientRect();
  return [...document.querySelectorAll("#decisions li")].filter((li) => {
    const r = li.getBoundingClientRect();
    return r.top >= panel.top && r.bottom <= panel.bottom;
  }).length;
})()`;
/** The chart's legend labels in the order they are drawn (series order), and as shown. */
const DRAW_ORDER = `[...document.querySelectorAll(".u-legend .u-series .u-label")]
  .map((e) => e.textContent)`;
const SHOWN_ORDER = `[...document.querySelectorAll(".u-legend .u-series .u-label")]
  .map((e) => [e, e.getBoundingClientRect()])
  .sort(([, a], [, b]) => Math.round(a.top - b.top) || a.left - b.left)
  .map(([e]) => e)
  .map((e) => e.textContent)`;
/** The options of a real run, as main.ts shows them: enough rows to fill the panel. */
function realOptions(): Record<string, unknown> {
  const parsed = parseConfig({
    argv: ["--metric", "tasks:running", "--target", "sine:period=6,min=2,max=8", "--warmer", "w"],
    env: {},
    readTextFile: () => "",
  });
  if (parsed.kind !== "run") throw new Error("options did not parse");
  return parsed.settings.shownOptions;
}

Deno.test({
  name: "web UI in headless Chromium: live chart, decisions, pause and resume, screenshot",
  ignore: !chromium.ok,
  async fn() {
    const started = Date.now();
    const bus = new EventBus();
    const control = { paused: false };
    const executor = new FakeExecutor(systemClock);
    executor.onTaskEvent((e) => bus.emit({ type: "task", at: systemClock.now(), ...e }));
    const law = new AdaptiveLaw({
      maxPerTick: 0,
      maxRunning: 30,
      cooldownUp: 0,
      cooldownDown: 0,
      deadband: 0.5,
      coolerMode: "kill",
      hasWarmer: true,
      hasCooler: false,
    }, { initialEffect: 1, response: "level" });
    const logged: string[] = [];
    const options = realOptions();
    let launchBackoff = {};
    const web = await startWebServer({
      listen: { hostname: "127.0.0.1", port: 0 },
      token: TOKEN,
      bus,
      control,
      historyPoints: 600,
      log: (_level, message) => logged.push(message),
      state: () => ({
        startedAt: started,
        executor: executor.name,
        dryRun: false,
        options,
        launchBackoff,
      }),
    });
    const stop = new AbortController();
    const loop = runLoop({
      clock: systemClock,
      metric: createSignal("tasks:running"),
      target: createSignal("sine:period=6,min=2,max=8"),
      executor,
      law,
      bus,
    }, {
      delayMs: 200,
      durationMs: 25_000, // A bound in case the test itself hangs.
      maxTicks: 0,
      maxMissing: 0,
      signalTimeoutMs: 1_000,
      dryRun: false,
      control,
    }, stop.signal);

    let browser: BrowserSession | undefined;
    try {
      browser = await BrowserSession.open(chromium.ok ? chromium.path : "");
      await browser.goto(`${web.url}?token=${TOKEN}`);

      // The kept history loads, then live points keep coming.
      await browser.waitFor(`${POINTS} >= 5`);
      assert(await browser.evaluate<boolean>(`!!document.querySelector("#chart canvas")`));
      const before = await browser.evaluate<number>(POINTS);
      await browser.waitFor(`${POINTS} >= ${before + 4}`, 5_000);

      // Decisions are listed, some of them with launches.
      await browser.waitFor(`document.querySelectorAll("#decisions li").length >= 3`);
      await browser.waitFor(`${ACTION_IDS}.length >= 1`, 8_000);
      await browser.waitFor(`document.getElementById("status").textContent === "running"`);

      // Pause: the status says so, ticks go on, no decision launches anything.
      await browser.click("#pause");
      await browser.waitFor(`document.getElementById("status").textContent === "paused"`);
      assert.deepEqual(control.paused, true);
      await browser.waitFor(`${TOP_REASON} === "paused"`, 5_000);
      const launches = executor.launches.length;
      const kills = executor.kills.length;
      const lastAction = Math.max(0, ...await browser.evaluate<number[]>(ACTION_IDS));
      const pausedPoints = await browser.evaluate<number>(POINTS);
      await new Promise((r) => setTimeout(r, 1_500));
      assert.deepEqual(executor.launches.length, launches, "no launch while paused");
      assert.deepEqual(executor.kills.length, kills, "no kill while paused");
      assert.deepEqual(Math.max(0, ...await browser.evaluate<number[]>(ACTION_IDS)), lastAction);
      assert.deepEqual(await browser.evaluate<string>(TOP_REASON), "paused");
      assert(await browser.evaluate<number>(POINTS) > pausedPoints, "ticks go on while paused");
      assert(
        await browser.evaluate<boolean>(`document.getElementById("resume").disabled === false`),
      );

      // Resume: running again, and new decisions launch or stop tasks.
      await browser.click("#resume");
      await browser.waitFor(`document.getElementById("status").textContent === "running"`);
      assert.deepEqual(control.paused, false);
      await browser.waitFor(`Math.max(0, ...${ACTION_IDS}) > ${lastAction}`, 8_000);
      assert(logged.includes("paused from the web UI"));
      assert(logged.includes("resumed from the web UI"));

      // The header shows the backend and the options.
      const header = await browser.evaluate<string>(
        `document.getElementById("backend").textContent`,
      );
      assert(header.includes("fake executor"), header);
      const rows = await browser.evaluate<number>(
        `document.querySelectorAll("#options tr").length`,
      );
      assert.equal(rows, Object.keys(options).length);
      assert.ok(rows >= 25, `${rows} options`);

      // Opening Options leaves the decisions most of the column.
      await browser.waitFor(`document.querySelectorAll("#decisions li").length >= 8`, 10_000);
      const closed = await browser.evaluate<number>(VISIBLE_DECISIONS);
      await browser.click("#options-panel summary");
      await browser.waitFor(`document.querySelector("#options-panel details").open`);
      const open = await browser.evaluate<number>(VISIBLE_DECISIONS);
      assert.ok(open >= 5, `${open} decisions visible with Options open (${closed} closed)`);
      assert.ok(
        await browser.evaluate<boolean>(`(() => {
          const aside = document.querySelector("aside").getBoundingClientRect();
          const opts = document.getElementById("options-panel").getBoundingClientRect();
          return opts.height <= innerHeight * 0.25 && opts.bottom <= aside.bottom + 1;
        })()`),
        "the options scroll in their own panel",
      );

      // Hovering the chart shows the tick's time to the second.
      await browser.hover("#chart .u-over", 300, 120);
      const hovered = await browser.evaluate<string>(
        `document.querySelector(".u-legend .u-series:first-child .u-value").textContent`,
      );
      assert.match(hovered, /^\d{2}:\d{2}:\d{2}$/);

      // Bars are drawn first, so no bar hides a line; the legend still leads with target, metric.
      const drawn = await browser.evaluate<string[]>(DRAW_ORDER);
      for (const bar of ["warmers started", "coolers started", "warmers stopped"]) {
        for (const line of ["running", "pending", "target", "metric"]) {
          assert.ok(drawn.indexOf(bar) < drawn.indexOf(line), `${bar} under ${line}: ${drawn}`);
        }
      }
      const shown = await browser.evaluate<string[]>(SHOWN_ORDER);
      assert.deepEqual(shown.slice(1, 3), ["target", "metric"], shown.join(", "));

      // The lowest line (no task running at first: 0) is inside the plot, not on its edge.
      assert.ok(await browser.evaluate<number>(Y_MIN) < 0, "y axis starts below 0");

      // A kind's launch backoff is shown, and gone when there is none.
      assert.equal(
        await browser.evaluate<boolean>(`document.getElementById("backoff").hidden`),
        true,
      );
      launchBackoff = { warmer: { failures: 2, heldSeconds: 3.2 } };
      await browser.waitFor(
        `document.getElementById("backoff").textContent === ` +
          `"warmers: 2 failures in a row, launches held 4 s"`,
        5_000,
      );
      assert.equal(
        await browser.evaluate<boolean>(`document.getElementById("backoff").hidden`),
        false,
      );
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await browser.screenshot(new URL("web-options.png", ARTIFACTS).pathname);
      assert((await Deno.stat(new URL("web-options.png", ARTIFACTS))).size > 10_000);
      launchBackoff = {};
      await browser.waitFor(`document.getElementById("backoff").hidden`, 5_000);

      assert.equal(
        await browser.evaluate<string>(`document.getElementById("banner").textContent`),
        "",
        "no error banner",
      );

      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await browser.screenshot(new URL("web.png", ARTIFACTS).pathname);
      const png = await Deno.stat(new URL("web.png", ARTIFACTS));
      assert(png.size > 10_000, `screenshot too small: ${png.size} bytes`);

      assert.deepEqual(browser.problems, [], "no console errors, CSP violations or page errors");
      assert(Date.now() - started < 30_000, "the test stays within 30 s");
    } catch (err) {
      if (browser?.problems.length) console.error("browser problems:", browser.problems);
      throw err;
    } finally {
      await browser?.close();
      stop.abort();
      await loop;
      await web.close();
    }
  },
});

const DEMO = new URL("../scripts/demo.ts", import.meta.url).pathname;
/** The permissions `deno task demo` grants, read from deno.json so the test cannot drift. */
const DEMO_PERMISSIONS = (JSON.parse(
  Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
).tasks.demo as string).split(/\s+/).filter((arg) => arg.startsWith("--allow-"));
/** How long the demo runs before the screenshot (`WEB_DEMO_SECONDS`, for the README picture). */
const DEMO_SECONDS = Number(Deno.env.get("WEB_DEMO_SECONDS") ?? "12");

Deno.test({
  name: "the demo's web UI in headless Chromium: chart and decisions fill, screenshot",
  ignore: !chromium.ok,
  async fn() {
    // `deno task demo` as a subprocess, with its own permissions, on a free port and a token.
    const demo = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...DEMO_PERMISSIONS,
        DEMO,
        "--web-listen",
        "127.0.0.1:0",
        "--duration",
        String(DEMO_SECONDS + 30),
      ],
      cwd: new URL("..", import.meta.url).pathname,
      env: { RELAY_WEB_TOKEN: TOKEN },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output: string[] = [];
    const { promise: url, resolve: found } = Promise.withResolvers<string>();
    const reading = (async () => {
      const lines = demo.stdout.pipeThrough(new TextDecoderStream());
      for await (const chunk of lines) {
        output.push(chunk);
        const m = /web UI on (http:\/\/\S+)/.exec(output.join(""));
        if (m) found(m[1]);
      }
    })();
    const stderr = new Response(demo.stderr).text();
    let browser: BrowserSession | undefined;
    try {
      const base = await Promise.race([
        url,
        demo.status.then(async (s) => {
          throw new Error(`demo exited (${s.code}): ${await stderr}`);
        }),
      ]);
      browser = await BrowserSession.open(chromium.ok ? chromium.path : "");
      await browser.goto(`${base}?token=${TOKEN}`);
      await browser.waitFor(`${POINTS} >= 3`);
      await browser.waitFor(`${ACTION_IDS}.length >= 1`, 10_000);
      await new Promise((r) => setTimeout(r, DEMO_SECONDS * 1000));
      assert(await browser.evaluate<number>(POINTS) >= DEMO_SECONDS, "a point per second");
      const header = await browser.evaluate<string>(
        `document.getElementById("backend").textContent`,
      );
      assert.match(header, /local/);
      // The demo's target is 0: its line is drawn inside the plot, above the axis.
      assert.ok(await browser.evaluate<number>(Y_MIN) < 0, "y axis starts below the target 0");
      assert.equal(
        await browser.evaluate<string>(`document.getElementById("status").textContent`),
        "running",
      );
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await browser.screenshot(new URL("demo.png", ARTIFACTS).pathname);
      assert((await Deno.stat(new URL("demo.png", ARTIFACTS))).size > 10_000);
      assert.deepEqual(browser.problems, [], "no console errors, CSP violations or page errors");
    } finally {
      await browser?.close();
      try {
        demo.kill("SIGINT");
      } catch {
        // Already gone.
      }
      const status = await demo.status;
      await reading;
      assert.equal(status.code, 0, `demo exit: ${await stderr}`);
      assert.match(output.join(""), /demo: \d+ items arrived/);
    }
  },
});
