/**
 * A small SVG line chart for the benchmark: the target and every controller's metric over time,
 * one file per scenario, readable in a browser or on GitHub without any library.
 * @module
 */

/** One line of the chart. */
export interface Line {
  readonly label: string;
  readonly color: string;
  readonly points: readonly { t: number; v: number }[];
  readonly dashed?: boolean;
}

const W = 760;
const H = 320;
const PAD = { left: 56, right: 130, top: 28, bottom: 36 };

/**
 * Renders `lines` as an SVG document.
 *
 * @example
 * ```ts
 * Deno.writeTextFileSync("q.svg", lineChart("queue", [{ label: "target", color: "#000", points }]));
 * ```
 */
export function lineChart(title: string, lines: readonly Line[]): string {
  const all = lines.flatMap((l) => l.points);
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  let v0 = Math.min(...all.map((p) => p.v));
  let v1 = Math.max(...all.map((p) => p.v));
  if (v0 === v1) [v0, v1] = [v0 - 1, v1 + 1];
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0 || 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - ((v - v0) / (v1 - v0)) * (H - PAD.top - PAD.bottom);
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${PAD.left}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = v0 + ((v1 - v0) * k) / 4;
    out.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${
        Number(v.toPrecision(3))
      }</text>`,
    );
  }
  out.push(
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 8}" text-anchor="middle">time (s)</text>`,
  );
  lines.forEach((line, i) => {
    const path = line.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    out.push(
      `<polyline fill="none" stroke="${line.color}" stroke-width="1.3"${
        line.dashed ? ' stroke-dasharray="4 3"' : ""
      } points="${path}"/>`,
      `<line x1="${W - PAD.right + 10}" x2="${W - PAD.right + 30}" y1="${PAD.top + 14 * i}" y2="${
        PAD.top + 14 * i
      }" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="4 3"' : ""}/>`,
      `<text x="${W - PAD.right + 34}" y="${PAD.top + 14 * i + 4}">${esc(line.label)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
