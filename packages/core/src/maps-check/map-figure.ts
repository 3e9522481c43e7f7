/**
 * A figure of a label image and its RW maps side by side, like figure 1 of the RW paper (labels, active-contour
 * map, boundary map, rectified map): one panel per map for one class, each with a colour bar below it on a
 * diverging scale (blue negative, white 0, red positive) symmetric about 0 at that panel's max |z|.
 * 3D label maps show their middle slice along the first axis. Returns the PNG bytes and each panel's range.
 */
import { PNG } from 'pngjs';

const LABEL_COLOURS: readonly (readonly [number, number, number])[] = [
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
  /** Panels left to right after the label panel, with the colour-scale limit (+-limit) and the data range. */
  readonly panels: { name: string; limit: number; min: number; max: number }[];
}

/** Diverging colour of t in [-1, 1]. */
function diverging(t: number): [number, number, number] {
  const a = Math.min(1, Math.abs(t));
  const fade = Math.round(255 * (1 - a));
  return t < 0 ? [fade, fade, 255] : [255, fade, fade];
}

export function mapFigurePng(labels: ArrayLike<number>, shape: readonly number[], numClasses: number, classIndex: number, panels: readonly MapFigurePanel[]): MapFigure {
  const [height, width] = shape.slice(-2) as [number, number];
  const plane = height * width;
  const offset = shape.length >= 3 ? Math.floor(shape[0]! / 2) * plane : 0;
  const scale = Math.max(1, Math.min(Math.floor(512 / Math.max(height, width)), Math.ceil(128 / Math.min(height, width))));
  const pw = width * scale;
  const ph = height * scale;
  const gap = 8;
  const barGap = 4;
  const barHeight = 12;
  const count = panels.length + 1;
  const figWidth = count * pw + (count + 1) * gap;
  const figHeight = ph + barGap + barHeight + 2 * gap;
  const png = new PNG({ width: figWidth, height: figHeight });
  png.data.fill(255);
  const put = (x: number, y: number, [r, g, b]: readonly [number, number, number]) => {
    const p = (y * figWidth + x) * 4;
    png.data[p] = r;
    png.data[p + 1] = g;
    png.data[p + 2] = b;
    png.data[p + 3] = 255;
  };
  const drawPanel = (column: number, colour: (i: number) => readonly [number, number, number]) => {
    const x0 = gap + column * (pw + gap);
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) put(x0 + x, gap + y, colour(offset + Math.floor(y / scale) * width + Math.floor(x / scale)));
    }
    return x0;
  };
  drawPanel(0, (i) => LABEL_COLOURS[labels[i]! % LABEL_COLOURS.length]!);
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
      for (let y = 0; y < barHeight; y++) put(x0 + x, gap + ph + barGap + y, c);
    }
    return { name: panel.name, limit, min, max };
  });
  return { png: PNG.sync.write(png), width: figWidth, height: figHeight, panels: ranges };
}
