// The web UI's script: loads the kept history, then follows the server's event stream; polls the
// state for the header; draws the chart with uPlot (loaded before this script). Plain browser
// JavaScript, served as is by lib/web/server.ts. The access token, when there is one, comes
// from the page's own address (?token=) and is passed on to every request.
(function () {
  "use strict";

  const token = new URLSearchParams(location.search).get("token");
  const withToken = (path) => token ? `${path}?token=${encodeURIComponent(token)}` : path;
  const $ = (id) => document.getElementById(id);

  // Drawn in this order, later on top: the bars first, so that no bar hides a line (the pending
  // line under a cooler bar); the legend shows target and metric first all the same (page CSS).
  const SERIES = ["warmers", "coolers", "kills", "running", "pending", "target", "metric"];
  const data = {
    t: [],
    target: [],
    metric: [],
    running: [],
    pending: [],
    warmers: [],
    coolers: [],
    kills: [],
  };
  let capacity = 3600;
  let lastT = -Infinity;
  /** @type {Map<number, object>} */
  const decisions = new Map();
  let windowSec = 300;
  let chart = null;
  let drawPending = false;
  let listPending = false;

  // ---- chart ------------------------------------------------------------------------------

  function chartSize() {
    const el = $("chart");
    return { width: Math.max(300, el.clientWidth), height: Math.max(260, innerHeight - 190) };
  }

  function makeChart() {
    const paths = globalThis.uPlot.paths || {};
    const bars = paths.bars ? paths.bars({ size: [0.7, 14], align: 0 }) : undefined;
    const steps = paths.stepped ? paths.stepped({ align: 1 }) : undefined;
    const opts = {
      ...chartSize(),
      scales: {
        x: { time: true },
        // Room below the lowest value and above the highest, so that a target at 0 (or any
        // line at the edge of the data) is drawn inside the plot, not under the axis.
        y: { range: paddedRange },
        tasks: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil((max || 0) * 1.15))] },
      },
      series: [
        { value: (_u, v) => (v == null ? "–" : clock(v * 1000)) },
        {
          label: "warmers started",
          stroke: "#d64545",
          fill: "rgba(214,69,69,0.45)",
          scale: "tasks",
          paths: bars,
          points: { show: !bars },
        },
        {
          label: "coolers started",
          stroke: "#2f80ed",
          fill: "rgba(47,128,237,0.45)",
          scale: "tasks",
          paths: bars,
          points: { show: !bars },
        },
        {
          label: "warmers stopped",
          stroke: "#7b8794",
          fill: "rgba(123,135,148,0.45)",
          scale: "tasks",
          paths: bars,
          points: { show: !bars },
        },
        { label: "running", stroke: "#27ab83", width: 1.5, scale: "tasks", paths: steps },
        { label: "pending", stroke: "#de911d", width: 1.5, scale: "tasks", paths: steps },
        { label: "target", stroke: "#1f2933", width: 2, dash: [8, 5], scale: "y" },
        { label: "metric", stroke: "#e8590c", width: 2, scale: "y" },
      ],
      axes: [
        { stroke: "#616e7c", grid: { stroke: "#eef0f3" } },
        { scale: "y", label: "target / metric", stroke: "#616e7c", grid: { stroke: "#eef0f3" } },
        {
          scale: "tasks",
          side: 1,
          label: "tasks",
          stroke: "#616e7c",
          grid: { show: false },
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
        },
      ],
      cursor: { drag: { x: true, y: false } },
    };
    chart = new globalThis.uPlot(opts, windowed(), $("chart"));
    new ResizeObserver(() => chart.setSize(chartSize())).observe($("chart-panel"));
    addEventListener("resize", () => chart.setSize(chartSize()));
  }

  /** [min, max] widened by 8 % of the span on each side (by 1 when the span is 0). */
  function paddedRange(_u, min, max) {
    if (min == null || max == null || !isFinite(min) || !isFinite(max)) return [0, 1];
    const pad = (max - min) * 0.08 || Math.max(1, Math.abs(max) * 0.08);
    return [min - pad, max + pad];
  }

  /** First index with t >= min (binary search; t is increasing). */
  function firstFrom(min) {
    let lo = 0;
    let hi = data.t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (data.t[mid] < min) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function windowed() {
    const from = windowSec > 0 && data.t.length > 0
      ? firstFrom(data.t[data.t.length - 1] - windowSec)
      : 0;
    return [data.t.slice(from), ...SERIES.map((s) => data[s].slice(from))];
  }

  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      if (chart) chart.setData(windowed());
      $("chart").dataset.points = String(data.t.length);
      if (chart && chart.scales.y.min != null) {
        $("chart").dataset.yMin = String(chart.scales.y.min);
        $("chart").dataset.yMax = String(chart.scales.y.max);
      }
    });
  }

  function addPoint(p) {
    if (!(p.t > lastT)) return; // Already seen (history and stream overlap).
    lastT = p.t;
    data.t.push(p.t / 1000);
    data.target.push(p.target);
    data.metric.push(p.metric);
    data.running.push(p.running);
    data.pending.push(p.pending);
    data.warmers.push(p.warmers > 0 ? p.warmers : null);
    data.coolers.push(p.coolers > 0 ? p.coolers : null);
    data.kills.push(p.kills > 0 ? p.kills : null);
    if (data.t.length > capacity) { for (const k in data) data[k].shift(); }
    if (p.target !== null) {
      $("now").textContent = `target ${num(p.target)} · metric ${num(p.metric)} · running ` +
        `${p.running} · pending ${p.pending} · tick ${p.tick}`;
    } else {
      $("now").textContent = `tick ${p.tick}: no ${p.missing} sample`;
    }
    scheduleDraw();
  }

  // ---- decisions and warnings -------------------------------------------------------------

  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }

  function actionText(d) {
    switch (d.action) {
      case "warm":
        return `start ${plural(d.count, "warmer")}`;
      case "cool":
        return `start ${plural(d.count, "cooler")}`;
      case "kill":
        return `stop ${plural(d.count, "warmer")}`;
      case "cancel":
        return `cancel ${d.count} waiting`;
      default:
        return "wait";
    }
  }

  function addDecision(d) {
    decisions.set(d.id, d);
    if (decisions.size > 50) decisions.delete(Math.min(...decisions.keys()));
    if (listPending) return;
    listPending = true;
    requestAnimationFrame(renderDecisions);
  }

  function renderDecisions() {
    listPending = false;
    const list = $("decisions");
    const items = [...decisions.values()].sort((a, b) => b.id - a.id).map((d) => {
      const li = el("li", { "data-action": d.action, "data-id": String(d.id) });
      const head = el("div", { class: "d-head" });
      let act = actionText(d);
      if (d.dryRun && d.action !== "wait") act += " (dry run)";
      else if (d.action !== "wait" && d.launched + d.killed < d.count) {
        act += ` (${d.launched + d.killed} done)`;
      }
      head.append(el("span", { class: "d-act" }, act), el("time", {}, clock(d.t)));
      const meta = [`tick ${d.tick}`];
      if (d.repeat > 1) meta.push(`×${d.repeat} since ${clock(d.since)}`);
      for (const [k, v] of Object.entries(d.detail).slice(0, 4)) meta.push(`${k}=${num(v)}`);
      li.append(
        head,
        el("div", { class: "d-reason" }, d.reason),
        el("div", { class: "d-meta" }, meta.join(" · ")),
      );
      return li;
    });
    list.replaceChildren(...items);
  }

  function addWarning(text, at) {
    const list = $("warnings");
    list.prepend(el("li", {}, `${clock(at)} ${text}`));
    while (list.children.length > 8) list.lastChild.remove();
  }

  // ---- header -----------------------------------------------------------------------------

  let optionsShown = "";

  function showState(s) {
    const status = $("status");
    status.textContent = s.status;
    status.className = `pill status-${s.status}`;
    status.title = s.statusDetail || "";
    $("pause").disabled = s.paused || s.status === "stopped";
    $("resume").disabled = !s.paused || s.status === "stopped";
    const b = s.backend;
    let text;
    if (!b) {
      text = `${s.executor} executor`;
    } else {
      const parts = [
        `Mesos ${b.connected ? "connected" : "disconnected"}`,
        b.leader ? `leader ${b.leader}` : "no leader",
        b.frameworkId ? `framework ${b.frameworkId}` : "no framework id",
        `offers ${b.offersReceived} seen / ${b.offersUsed} used / ${b.offersDeclined} declined`,
      ];
      text = parts.join(" · ");
    }
    if (s.dryRun) text += " · dry run";
    if (s.law) text += ` · law ${s.law}`;
    $("backend").textContent = text;
    showBackoff(s.launchBackoff || {});
    const opts = JSON.stringify(s.options);
    if (opts !== optionsShown) {
      optionsShown = opts;
      $("options").replaceChildren(
        ...Object.entries(s.options || {}).map(([k, v]) =>
          el(
            "tr",
            {},
            el("td", {}, k),
            el("td", {}, typeof v === "string" ? v : JSON.stringify(v)),
          )
        ),
      );
    }
  }

  /** Kinds whose tasks failed in a row: how many, and how long their launches are held. */
  function showBackoff(kinds) {
    const parts = [];
    for (const kind of ["warmer", "cooler"]) {
      const b = kinds[kind];
      if (!b || !(b.failures > 0)) continue;
      let text = `${kind}s: ${plural(b.failures, "failure")} in a row`;
      text += b.heldSeconds > 0
        ? `, launches held ${Math.ceil(b.heldSeconds)} s`
        : ", launches resumed";
      parts.push(text);
    }
    $("backoff").textContent = parts.join(" · ");
    $("backoff").hidden = parts.length === 0;
  }

  function banner(text) {
    $("banner").textContent = text;
    $("banner").classList.toggle("show", Boolean(text));
  }

  async function getJson(path) {
    const res = await fetch(withToken(path), { cache: "no-store" });
    if (res.status === 401) throw new Error("unauthorized: open this page with ?token=…");
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  async function refreshState() {
    try {
      showState(await getJson("api/state"));
      if ($("banner").dataset.kind === "state") banner("");
    } catch (err) {
      $("banner").dataset.kind = "state";
      banner(String(err.message || err));
    }
  }

  async function post(path) {
    try {
      const res = await fetch(withToken(path), { method: "POST" });
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
      showState(await res.json());
    } catch (err) {
      banner(String(err.message || err));
    }
  }

  // ---- stream -----------------------------------------------------------------------------

  let loaded = false;
  let buffered = [];

  function handle(kind, payload) {
    if (!loaded) {
      buffered.push([kind, payload]);
      return;
    }
    if (kind === "tick") addPoint(payload);
    else if (kind === "decision") addDecision(payload);
    else if (kind === "warning") addWarning(payload.message, payload.at);
    else if (kind === "task") addWarning(taskText(payload), payload.at);
    else if (kind === "status") refreshState();
  }

  function taskText(e) {
    const t = e.task;
    return `task ${t.id} ${t.state}${t.reason ? `: ${t.reason}` : ""}`;
  }

  async function loadHistory() {
    loaded = false;
    const h = await getJson("api/history");
    capacity = h.capacity || capacity;
    for (const k in data) data[k].length = 0;
    lastT = -Infinity;
    decisions.clear();
    for (const p of h.points) addPoint(p);
    for (const d of h.decisions) addDecision(d);
    loaded = true;
    const pending = buffered;
    buffered = [];
    for (const [kind, payload] of pending) handle(kind, payload);
  }

  function connect() {
    const es = new EventSource(withToken("events"));
    let opened = false;
    es.addEventListener("open", () => {
      if ($("banner").dataset.kind === "stream") banner("");
      if (opened) loadHistory().catch((err) => banner(String(err.message || err)));
      opened = true;
    });
    es.addEventListener("error", () => {
      $("banner").dataset.kind = "stream";
      banner("live updates interrupted; reconnecting…");
    });
    for (const kind of ["tick", "decision", "warning", "status"]) {
      es.addEventListener(kind, (e) => handle(kind, JSON.parse(e.data)));
    }
    es.addEventListener("task", (e) => {
      const payload = JSON.parse(e.data);
      if (payload.task.state === "failed" || payload.task.state === "lost") {
        handle("task", payload);
      }
    });
  }

  // ---- helpers ----------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    node.append(...children);
    return node;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour12: false });
  }

  function num(v) {
    if (typeof v !== "number") return String(v);
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  }

  // ---- start ------------------------------------------------------------------------------

  $("window").addEventListener("change", (e) => {
    windowSec = Number(e.target.value);
    scheduleDraw();
  });
  $("pause").addEventListener("click", () => post("api/pause"));
  $("resume").addEventListener("click", () => post("api/resume"));

  makeChart();
  connect();
  refreshState();
  setInterval(refreshState, 2000);
  loadHistory().catch((err) => banner(String(err.message || err)));
})();
