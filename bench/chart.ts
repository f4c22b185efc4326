import type { SeriesResult } from "./results.ts";

/** A log10 scale from [lo, hi] (ms) onto [left, right] pixels; values outside are clamped. Pure. */
export function logScale(lo: number, hi: number, left: number, right: number): (ms: number) => number {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return (ms: number) => {
    const v = Math.min(Math.max(Math.log10(Math.max(ms, lo)), a), b);
    return left + ((v - a) / (b - a)) * (right - left);
  };
}

/** Powers of ten from lo to hi, with 2 and 5 between them: the axis ticks. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let decade = 10 ** Math.floor(Math.log10(lo)); decade <= hi && ticks.length < 40; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const tick = decade * m;
      if (tick >= lo && tick <= hi) ticks.push(tick);
    }
  }
  return ticks;
}

const COLORS = ["#1b7837", "#c51b7d", "#2166ac", "#b35806", "#542788"];

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] ?? c);
}

/**
 * The failover times of every run, one row per system, replication and fault: a dot per run
 * (hollow when it timed out), a bar at the median and a thin one at p95, on a log axis in
 * seconds. Hand-written SVG: no fonts or scripts fetched. Pure.
 */
export function failoverChart(series: readonly SeriesResult[], title: string): string {
  const rows = series.filter((s) => s.runs > 0);
  const width = 860;
  const labelWidth = 300;
  const rowHeight = 28;
  const top = 48;
  const height = top + rows.length * rowHeight + 66;
  const all = rows.flatMap((s) => s.samples.map((x) => x.writableMs));
  const lo = 100;
  const hi = Math.max(10_000, 10 ** Math.ceil(Math.log10(Math.max(...all, 1))));
  const x = logScale(lo, hi, labelWidth, width - 20);
  const systems = [...new Set(rows.map((s) => s.system))];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const axisY = top + rows.length * rowHeight + 6;
  for (const tick of logTicks(lo, hi)) {
    const px = x(tick).toFixed(1);
    out.push(`<line x1="${px}" y1="${top - 6}" x2="${px}" y2="${axisY}" stroke="#ddd"/>`);
    out.push(`<text x="${px}" y="${axisY + 14}" text-anchor="middle">${tick / 1000}</text>`);
  }
  out.push(
    `<text x="${(labelWidth + width) / 2}" y="${axisY + 32}" text-anchor="middle">seconds from the fault to the first acknowledged write through the VIP (log scale)</text>`,
  );
  rows.forEach((s, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    const color = COLORS[systems.indexOf(s.system) % COLORS.length] ?? "#000";
    out.push(`<text x="10" y="${cy + 4}">${escapeXml(`${s.system} (${s.replication}) ${s.fault}`)}</text>`);
    out.push(`<line x1="${labelWidth}" y1="${cy}" x2="${width - 20}" y2="${cy}" stroke="#f0f0f0"/>`);
    for (const sample of s.samples) {
      const fill = sample.timedOut ? "none" : color;
      out.push(
        `<circle cx="${x(sample.writableMs).toFixed(1)}" cy="${cy}" r="4" fill="${fill}" fill-opacity="0.6" stroke="${color}"/>`,
      );
    }
    const p50 = x(s.p50).toFixed(1);
    const p95 = x(s.p95).toFixed(1);
    out.push(
      `<line x1="${p50}" y1="${cy - 10}" x2="${p50}" y2="${cy + 10}" stroke="#000" stroke-width="2"/>`,
    );
    out.push(`<line x1="${p95}" y1="${cy - 7}" x2="${p95}" y2="${cy + 7}" stroke="#000" stroke-width="1"/>`);
  });
  out.push(
    `<text x="${(labelWidth + width) / 2}" y="${axisY + 50}" text-anchor="middle" fill="#555">a dot per run; thick bar p50, thin bar p95; hollow dot: no write within the time limit</text>`,
  );
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
