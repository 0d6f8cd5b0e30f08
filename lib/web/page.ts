/**
 * The web UI's one page and its assets. The chart library (uPlot) is not copied into this
 * repository: its dist files are imported from the npm package as text (`with { type: "text" }`,
 * stable since Deno 2.8), so they are part of the module graph, are cached with the other npm
 * packages, and are embedded by `deno compile` like any other module. Our own client script lives
 * next to this file (`client.js`) and is imported the same way.
 *
 * The page itself holds no secret: a small inline script (allowed by its hash in the
 * Content-Security-Policy) reads `?token=` from the address bar and passes it on to the asset,
 * API and event-stream requests.
 * @module
 */

import { createHash } from "node:crypto";
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import clientJs from "./client.js" with { type: "text" };

/** A static file served under `/assets/`. */
export interface Asset {
  readonly body: string;
  readonly type: string;
}

/** The assets by path. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/assets/uplot.min.css", { body: uplotCss, type: "text/css; charset=utf-8" }],
  ["/assets/uplot.iife.min.js", { body: uplotJs, type: "text/javascript; charset=utf-8" }],
  ["/assets/app.js", { body: clientJs, type: "text/javascript; charset=utf-8" }],
]);

const BOOT = `(function () {
  var token = new URLSearchParams(location.search).get("token");
  var q = token ? "?token=" + encodeURIComponent(token) : "";
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = "assets/uplot.min.css" + q;
  document.head.appendChild(css);
  ["assets/uplot.iife.min.js", "assets/app.js"].forEach(function (src) {
    var s = document.createElement("script");
    s.src = src + q;
    s.async = false;
    document.head.appendChild(s);
  });
})();`;

const CSS = `
:root {
  --bg: #f5f7fa; --panel: #ffffff; --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb;
  --bar: #1f2933; --warm: #d64545; --cool: #2f80ed; --ok: #27ab83; --warn: #de911d;
  --dry: #8662c7; --stop: #9aa5b1;
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body {
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
  background: var(--bg); color: var(--ink); display: flex; flex-direction: column;
}
header {
  background: var(--bar); color: #fff; padding: 10px 16px; display: flex; flex-wrap: wrap;
  align-items: center; gap: 8px 16px;
}
header h1 { font-size: 16px; margin: 0; font-weight: 600; letter-spacing: .02em; }
.pill {
  display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600;
  font-size: 12px; text-transform: uppercase; letter-spacing: .05em; background: var(--stop);
}
.status-running { background: var(--ok); }
.status-starved { background: var(--warn); }
.status-dry-run { background: var(--dry); }
.status-paused { background: #f0b429; color: #1f2933; }
.status-stopped { background: var(--warm); }
.status-standby { background: var(--dry); }
.hdr-item { color: #cbd2d9; font-size: 13px; }
#backoff { background: var(--warn); color: #1f2933; border-radius: 6px; padding: 2px 8px;
  font-size: 13px; font-weight: 600; }
#backoff[hidden] { display: none; }
.hdr-item b { color: #fff; font-weight: 600; }
.spacer { flex: 1; }
header select, header button {
  font: inherit; font-size: 13px; border-radius: 6px; border: 1px solid #52606d;
  background: #323f4b; color: #fff; padding: 4px 10px;
}
header button { cursor: pointer; }
header button:disabled { opacity: .4; cursor: default; }
#banner { display: none; background: #fff3c4; color: #8d2b0b; padding: 6px 16px; }
#banner.show { display: block; }
main { flex: 1; display: flex; gap: 12px; padding: 12px; min-height: 0; }
.panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px;
}
#chart-panel { flex: 1; min-width: 0; display: flex; flex-direction: column; }
#chart { flex: 1; min-height: 280px; }
aside { width: 380px; display: flex; flex-direction: column; gap: 12px; min-height: 0; }
aside h2 {
  font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
  margin: 0 0 8px;
}
#decisions-panel { flex: 1 1 auto; overflow: auto; min-height: 200px; }
#warnings-panel { flex: none; max-height: 16vh; overflow: auto; }
#options-panel { flex: none; max-height: 24vh; overflow: auto; }
#decisions { list-style: none; margin: 0; padding: 0; }
#decisions li { border-left: 3px solid var(--line); padding: 2px 8px; margin-bottom: 4px;
  line-height: 1.3; }
#decisions li[data-action="warm"] { border-color: var(--warm); }
#decisions li[data-action="cool"], #decisions li[data-action="kill"] { border-color: var(--cool); }
#decisions li[data-action="cancel"] { border-color: var(--warn); }
.d-head { display: flex; justify-content: space-between; gap: 8px; font-weight: 600; }
.d-head time, .d-meta { color: var(--muted); font-weight: 400; font-size: 12px; }
.d-reason { color: var(--ink); font-size: 13px; }
#warnings { list-style: none; margin: 0; padding: 0; font-size: 12px; color: #8d2b0b; }
#warnings li { margin-bottom: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
td { padding: 2px 4px; border-bottom: 1px solid var(--line); vertical-align: top; }
td:first-child { color: var(--muted); white-space: nowrap; }
td:last-child { word-break: break-all; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
details summary { cursor: pointer; color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .06em; }
.u-legend.u-inline tbody { display: flex; flex-wrap: wrap; justify-content: center; }
.u-legend.u-inline tr.u-series:nth-child(1) { order: -3; }
.u-legend.u-inline tr.u-series:nth-child(7), .u-legend.u-inline tr.u-series:nth-child(8) {
  order: -2; }
@media (max-width: 900px) { main { flex-direction: column; } aside { width: auto; } }
`;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Relay.Mesos</title>
<style>${CSS}</style>
<script>${BOOT}</script>
</head>
<body>
<header>
  <h1>Relay.Mesos</h1>
  <span id="status" class="pill">loading</span>
  <span id="backend" class="hdr-item"></span>
  <span id="now" class="hdr-item"></span>
  <span id="backoff" role="status" hidden></span>
  <span class="spacer"></span>
  <label class="hdr-item" for="window">Window</label>
  <select id="window">
    <option value="300">5 min</option>
    <option value="3600">1 h</option>
    <option value="0">all kept</option>
  </select>
  <button id="pause" type="button" disabled>Pause</button>
  <button id="resume" type="button" disabled>Resume</button>
</header>
<div id="banner" role="status"></div>
<main>
  <section id="chart-panel" class="panel">
    <div id="chart" data-points="0"></div>
  </section>
  <aside>
    <section id="decisions-panel" class="panel">
      <h2>Decisions</h2>
      <ol id="decisions"></ol>
    </section>
    <section id="warnings-panel" class="panel">
      <h2>Warnings</h2>
      <ul id="warnings"></ul>
    </section>
    <section id="options-panel" class="panel">
      <details>
        <summary>Options</summary>
        <table id="options"></table>
      </details>
    </section>
  </aside>
</main>
</body>
</html>
`;

function cspHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** The page's Content-Security-Policy: nothing from outside, only our own inline blocks. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src 'self' ${cspHash(BOOT)}`,
  `style-src 'self' ${cspHash(CSS)}`,
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The page's HTML. It contains no state and no secret. */
export function pageHtml(): string {
  return HTML;
}
