/**
 * A dependency-free SVG line chart: one or more series over a shared x axis (epochs), with axes, ticks, a
 * legend to the right of the data area (never over a curve), optional vertical markers (the best epoch), and
 * gaps where a value is NaN. Enough for training curves that open in any browser.
 */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** Drawn dashed (a second kind of the same quantity, e.g. validation beside training loss). */
  readonly dashed?: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  /** Ticks on x at whole numbers only (epochs). */
  readonly integerX?: boolean;
  /** A y range always shown (widened to fit the data), e.g. [0, 1] for Dice. */
  readonly yDomain?: readonly [number, number];
  /** Vertical lines with a label above the data area, e.g. { x: bestEpoch, label: 'best epoch 7' }. */
  readonly markers?: readonly { x: number; label: string }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
/** Average advance of the 11 px sans-serif legend text, a little generous so names never spill. */
const CHAR_WIDTH = 6.6;
const LEGEND_ROW = 16;

const escapeXml = (s: string) =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** "Nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const rough = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Whole-number ticks covering [lo, hi] (epochs: a 2-epoch run gets 1 and 2, not 1.2, 1.4, ...). */
export function integerTicks(lo: number, hi: number, count = 5): number[] {
  const first = Math.ceil(lo);
  const last = Math.floor(hi);
  if (last < first) return [];
  // niceTicks steps of 1 or more are whole numbers already; below that, every integer fits.
  if (last - first <= count) return Array.from({ length: last - first + 1 }, (_, i) => first + i);
  return niceTicks(first, last, count).filter(Number.isInteger);
}

export function lineChartSvg(series: readonly Series[], options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const legendWidth = Math.ceil(Math.max(0, ...series.map((s) => s.name.length)) * CHAR_WIDTH) + 36;
  const top = options.markers?.length ? 48 : 36;
  const margin = { left: 64, right: legendWidth + 16, top, bottom: 48 };
  const finite = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = finite.map((p) => p[0]);
  const ys = finite.map((p) => p[1]);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (options.yDomain) [y0, y1] = [Math.min(y0, options.yDomain[0]), Math.max(y1, options.yDomain[1])];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const bottom = height - margin.bottom;
  const right = width - margin.right;
  const px = (x: number) => margin.left + ((x - x0) / (x1 - x0)) * plotWidth;
  const py = (y: number) => bottom - ((y - y0) / (y1 - y0)) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<rect class="plot-area" x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" ` +
      `fill="none" stroke="none"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
    `<line x1="${margin.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${bottom}" stroke="black"/>`,
  ];
  const xTicks = options.integerX ? integerTicks(x0, x1) : niceTicks(x0, x1);
  for (const t of xTicks) {
    parts.push(
      `<line x1="${px(t).toFixed(1)}" y1="${bottom}" x2="${px(t).toFixed(1)}" y2="${bottom + 4}" stroke="black"/>`,
    );
    parts.push(`<text class="x-tick" x="${px(t).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    const y = py(t).toFixed(1);
    parts.push(`<line x1="${margin.left}" y1="${y}" x2="${right}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  if (options.xLabel) {
    parts.push(
      `<text x="${margin.left + plotWidth / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel) {
    const label = escapeXml(options.yLabel);
    parts.push(
      `<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${label}</text>`,
    );
  }
  for (const marker of options.markers ?? []) {
    const x = px(marker.x).toFixed(1);
    parts.push(
      `<line class="marker" x1="${x}" y1="${margin.top}" x2="${x}" y2="${bottom}" stroke="#555" stroke-dasharray="4 3"/>`,
    );
    // Anchored towards the middle, so a marker at either end keeps its label over the data area.
    const anchor =
      px(marker.x) > margin.left + (plotWidth * 2) / 3
        ? 'end'
        : px(marker.x) < margin.left + plotWidth / 3
          ? 'start'
          : 'middle';
    parts.push(
      `<text x="${x}" y="${margin.top - 6}" text-anchor="${anchor}" fill="#333">${escapeXml(marker.label)}</text>`,
    );
  }
  const legendX = right + 12;
  const legendHeight = series.length * LEGEND_ROW + 8;
  parts.push(
    `<g class="legend"><rect class="legend-box" x="${legendX}" y="${margin.top}" width="${legendWidth}" ` +
      `height="${legendHeight}" fill="white" stroke="#ccc"/>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const y = margin.top + 4 + LEGEND_ROW * i + LEGEND_ROW / 2;
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    parts.push(
      `<line x1="${legendX + 6}" y1="${y}" x2="${legendX + 24}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${legendX + 30}" y="${y + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</g>');
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    // NaN values break the line into segments instead of being drawn at zero.
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`;
      pen = true;
    }
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    // A lone point (one validated epoch) is invisible as a path: give it a dot.
    const drawn = s.points.filter(([, y]) => Number.isFinite(y));
    parts.push(
      `<path class="series" data-name="${escapeXml(s.name)}" d="${d}" fill="none" stroke="${color}" ` +
        `stroke-width="1.5"${dash}/>`,
    );
    if (drawn.length === 1) {
      const [x, y] = drawn[0]!;
      parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}
