/**
 * A figure of a label image and its RW maps side by side, like figure 1 of the RW paper (labels, active-contour
 * map, boundary map, rectified map): one panel per map for one class, each with a color bar below it on a
 * diverging scale (blue negative, white 0, red positive) symmetric about 0 at that panel's max |z|.
 * Each panel is titled; each color bar shows its values. 3D label maps show their middle slice along the first
 * axis. Returns the PNG bytes, the layout and each panel's range.
 */
import { lineHeight, Raster, textWidth } from '../plots/raster.js';

const LABEL_COLORS: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [255, 215, 0],
  [0, 170, 255],
  [60, 200, 90],
  [230, 60, 160],
  [250, 130, 40],
  [150, 90, 255],
];

export interface MapFigurePanel {
  readonly name: string;
  /** Channels-last map [...shape, numClasses]. */
  readonly map: Float32Array;
}

export interface MapFigure {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  /** y of the panels' top row, their width (a panel may be wider than the image) and the pixel scale. */
  readonly panelTop: number;
  readonly panelWidth: number;
  readonly scale: number;
  /** Panels left to right after the label panel, with the color-scale limit (+-limit) and the data range. */
  readonly panels: { name: string; limit: number; min: number; max: number }[];
}

/** Diverging color of t in [-1, 1]. */
function diverging(t: number): [number, number, number] {
  const a = Math.min(1, Math.abs(t));
  const fade = Math.round(255 * (1 - a));
  return t < 0 ? [fade, fade, 255] : [255, fade, fade];
}

const GAP = 8;
const BAR_GAP = 4;
const BAR_HEIGHT = 12;

/**
 * Layout, top to bottom: panel titles ("labels", "<map> (class k)"), the panels, each map's color bar with its
 * values (-limit, 0, +limit) under it, and the labels panel's class key.
 */
export function mapFigurePng(
  labels: ArrayLike<number>,
  shape: readonly number[],
  numClasses: number,
  classIndex: number,
  panels: readonly MapFigurePanel[],
): MapFigure {
  const [height, width] = shape.slice(-2) as [number, number];
  const plane = height * width;
  const offset = shape.length >= 3 ? Math.floor(shape[0]! / 2) * plane : 0;
  const scale = Math.max(
    1,
    Math.min(Math.floor(512 / Math.max(height, width)), Math.ceil(128 / Math.min(height, width))),
  );
  // Panels are at least wide enough for their title and the color bar's three values.
  const titles = ['labels', ...panels.map((p) => `${p.name} (class ${classIndex})`)];
  const pw = Math.max(width * scale, ...titles.map((t) => textWidth(t)), textWidth('-0.000 0 +0.000') + 8);
  const ph = height * scale;
  const count = panels.length + 1;
  const panelTop = GAP + lineHeight() + 4;
  const barTop = panelTop + ph + BAR_GAP;
  const keyRows = Math.min(numClasses, LABEL_COLORS.length);
  const below = Math.max(BAR_HEIGHT + 2 + lineHeight(), keyRows * (lineHeight() + 1));
  const figWidth = count * pw + (count + 1) * GAP;
  const figHeight = barTop + below + GAP;
  const canvas = new Raster(figWidth, figHeight);
  const drawPanel = (column: number, color: (i: number) => readonly [number, number, number]) => {
    const x0 = GAP + column * (pw + GAP);
    // A panel wider than the image (a long title) centers it.
    const inset = Math.floor((pw - width * scale) / 2);
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < width * scale; x++) {
        const voxel = offset + Math.floor(y / scale) * width + Math.floor(x / scale);
        canvas.set(x0 + inset + x, panelTop + y, color(voxel));
      }
    }
    canvas.text(x0, GAP, titles[column]!);
    return x0;
  };
  drawPanel(0, (i) => LABEL_COLORS[labels[i]! % LABEL_COLORS.length]!);
  for (let k = 0; k < keyRows; k++) {
    const y = barTop + k * (lineHeight() + 1);
    canvas.fillRect(GAP, y + 2, 9, 9, [120, 120, 120]);
    canvas.fillRect(GAP + 1, y + 3, 7, 7, LABEL_COLORS[k]!);
    canvas.text(GAP + 14, y, `${k}`);
  }
  const ranges = panels.map((panel, index) => {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < plane; i++) {
      const v = panel.map[(offset + i) * numClasses + classIndex]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const limit = Math.max(Math.abs(min), Math.abs(max));
    const x0 = drawPanel(index + 1, (i) => diverging(limit > 0 ? panel.map[i * numClasses + classIndex]! / limit : 0));
    for (let x = 0; x < pw; x++) {
      const c = diverging((2 * x) / Math.max(1, pw - 1) - 1);
      for (let y = 0; y < BAR_HEIGHT; y++) canvas.set(x0 + x, barTop + y, c);
    }
    // The bar's values at its ends and center: what blue and red mean in this panel.
    const valuesTop = barTop + BAR_HEIGHT + 2;
    const low = `-${formatLimit(limit)}`;
    const high = `+${formatLimit(limit)}`;
    canvas.text(x0, valuesTop, low);
    canvas.text(x0 + Math.floor((pw - textWidth('0')) / 2), valuesTop, '0');
    canvas.text(x0 + pw - textWidth(high), valuesTop, high);
    return { name: panel.name, limit, min, max };
  });
  return { png: canvas.toPng(), width: figWidth, height: figHeight, panelTop, panelWidth: pw, scale, panels: ranges };
}

/** Three significant digits, without an exponent for the ranges maps have. */
function formatLimit(limit: number): string {
  return limit >= 100 ? limit.toFixed(0) : limit.toPrecision(3);
}
