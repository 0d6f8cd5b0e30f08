/**
 * Small-multiple SVG charts for the benchmark: one small panel per controller, all sharing the
 * time axis and the metric axis, each with the target drawn on top (black, dashed) and the
 * controller's metric under it. Axes carry numbers, "time (s)" and the metric's name and unit.
 * One file per scenario, readable in a browser or on GitHub without any library. Pure (returns
 * the document as a string).
 *
 * A line far above the others (a law that ran away) would flatten every panel; the shared metric
 * axis therefore stops at a few times the highest of the target and the reference lines, and a
 * panel whose line leaves it says so with its peak.
 * @module
 */

/** One controller's panel. */
export interface Panel {
  readonly label: string;
  readonly color: string;
  readonly points: readonly { t: number; v: number }[];
  /** The target over the same times. */
  readonly target: readonly { t: number; v: number }[];
  /** Numbers shown after the label (IAE, task-seconds). */
  readonly note?: string;
  /** The axis is fitted to this panel's line (the references and the target). */
  readonly reference?: boolean;
}

/** Panels per row. */
const COLUMNS = 3;
const PANEL_W = 290;
const PANEL_H = 150;
/** Space around the grid: the y label and numbers left, the x numbers and label below. */
const MARGIN = { left: 70, right: 16, top: 40, bottom: 44 };
/** Gaps between panels: room for a panel's title above it. */
const GAP = { x: 24, y: 40 };
/** The shared axis stops at this multiple of the highest reference or target value. */
const CLIP = 3;

/** Round tick values covering [lo, hi], about `count` of them. */
export function ticks(lo: number, hi: number, count = 4): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (
  v: number,
) => (Math.abs(v) >= 1e4 ? v.toExponential(0) : String(Number(v.toPrecision(4))));

/**
 * Renders the panels as an SVG document.
 *
 * @example
 * ```ts
 * const svg = smallMultiples("queue", "queue length (items)", [
 *   { label: "adaptive", color: "#1f77b4", points, target },
 * ]);
 * ```
 */
export function smallMultiples(title: string, yLabel: string, panels: readonly Panel[]): string {
  const all = panels.flatMap((p) => [...p.points, ...p.target]);
  const t0 = Math.min(...all.map((p) => p.t));
  let t1 = Math.max(...all.map((p) => p.t));
  const tTicks = ticks(t0, t1, 5);
  // The last tick is one sample interval short of a round duration: end the axis on a number.
  const tStep = tTicks.length > 1 ? tTicks[1] - tTicks[0] : 1;
  if (tTicks.at(-1)! < t1) tTicks.push(Number((tTicks.at(-1)! + tStep).toPrecision(12)));
  t1 = tTicks.at(-1)!;
  const fitted = panels.filter((p) => p.reference).flatMap((p) => [...p.points, ...p.target]);
  const base = fitted.length ? fitted : all;
  let v0 = Math.min(0, ...all.map((p) => p.v));
  const refTop = Math.max(...base.map((p) => p.v));
  const top = Math.max(...all.map((p) => p.v));
  let v1 = top > CLIP * Math.max(refTop, 1) ? CLIP * Math.max(refTop, 1) : top;
  if (v0 === v1) [v0, v1] = [v0 - 1, v1 + 1];
  const yTicks = ticks(v0, v1);
  v1 = Math.max(v1, yTicks.at(-1)!);
  v0 = Math.min(v0, yTicks[0]);
  const rows = Math.ceil(panels.length / COLUMNS);
  const W = MARGIN.left + COLUMNS * PANEL_W + (COLUMNS - 1) * GAP.x + MARGIN.right;
  const H = MARGIN.top + rows * PANEL_H + (rows - 1) * GAP.y + MARGIN.bottom;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${
      W - MARGIN.right
    }" y="18" text-anchor="end" fill="#333">target: black dashed</text>`,
    `<text transform="translate(16 ${
      MARGIN.top + (H - MARGIN.top - MARGIN.bottom) / 2
    }) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    `<text x="${MARGIN.left + (W - MARGIN.left - MARGIN.right) / 2}" y="${
      H - 8
    }" text-anchor="middle">time (s)</text>`,
  ];
  panels.forEach((panel, i) => {
    const col = i % COLUMNS;
    const row = Math.floor(i / COLUMNS);
    const left = MARGIN.left + col * (PANEL_W + GAP.x);
    const topY = MARGIN.top + row * (PANEL_H + GAP.y);
    const x = (t: number) => left + ((t - t0) / (t1 - t0 || 1)) * PANEL_W;
    const y = (v: number) =>
      topY + PANEL_H - ((Math.min(Math.max(v, v0), v1) - v0) / (v1 - v0)) * PANEL_H;
    const path = (pts: readonly { t: number; v: number }[]) =>
      pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    const peak = Math.max(...panel.points.map((p) => p.v));
    const clipped = peak > v1 ? ` (off scale, peak ${fmt(peak)})` : "";
    out.push(
      `<text x="${left}" y="${topY - 6}"><tspan font-weight="bold" fill="${panel.color}">${
        esc(panel.label)
      }</tspan> ${esc(panel.note ?? "")}${esc(clipped)}</text>`,
      `<rect x="${left}" y="${topY}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#bbb"/>`,
    );
    for (const v of yTicks) {
      out.push(
        `<line x1="${left}" x2="${left + PANEL_W}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      );
      if (col === 0) {
        out.push(`<text x="${left - 5}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
      }
    }
    for (const t of tTicks) {
      out.push(
        `<line x1="${x(t)}" x2="${x(t)}" y1="${topY}" y2="${topY + PANEL_H}" stroke="#f2f2f2"/>`,
        `<text x="${x(t)}" y="${topY + PANEL_H + 13}" text-anchor="middle" fill="#555">${
          fmt(t)
        }</text>`,
      );
    }
    out.push(
      `<polyline fill="none" stroke="${panel.color}" stroke-width="1.4" points="${
        path(panel.points)
      }"/>`,
      `<polyline fill="none" stroke="#000" stroke-width="1.2" stroke-dasharray="5 3" points="${
        path(panel.target)
      }"/>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
