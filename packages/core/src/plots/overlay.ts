/**
 * Prediction overlays as PNG: a gray image with the reference contour and the predicted labels blended on top,
 * so a reader sees at a glance where a model is wrong. 3D volumes show their middle slice along the first axis.
 * `overlayPng` is the bare layer at the image's size; `overlayFigurePng` enlarges it and adds a title, a class key
 * with each class's Dice for the case, and the contour's meaning (what training writes to plots/overlays/).
 */
import { PNG } from 'pngjs';
import { lineHeight, Raster, textWidth, type Rgb } from './raster.js';

/** Prediction tints, class k >= 1 takes entry k - 1. */
export const CLASS_COLORS: readonly Rgb[] = [
  [230, 25, 75],
  [60, 180, 75],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
];

const CONTOUR: Rgb = [255, 255, 0];

export interface OverlayInput {
  /** Image [...spatial] (first channel only is drawn), any range: it is min-max scaled. */
  readonly image: ArrayLike<number>;
  readonly channels?: number;
  readonly prediction: ArrayLike<number>;
  readonly reference?: ArrayLike<number>;
  /** Spatial shape: [H, W] or [D, H, W]. */
  readonly shape: readonly number[];
}

export interface OverlayFigureInput extends OverlayInput {
  /** First line of the figure, e.g. the case id and the epoch. */
  readonly title: string;
  /** Names by class index (index 0 is the background, not drawn); 'class k' where missing. */
  readonly classNames?: readonly string[];
  /** This case's Dice by class index (NaN: the class is in neither mask). */
  readonly dice?: readonly number[];
}

/** The overlay as RGB bytes (3 a pixel) at the image's own size. */
function overlayRgb(input: OverlayInput): { rgb: Uint8Array; width: number; height: number } {
  const [height, width] = input.shape.slice(-2) as [number, number];
  const sliceOffset = input.shape.length === 3 ? Math.floor(input.shape[0]! / 2) * height * width : 0;
  const channels = input.channels ?? 1;
  const gray = new Float32Array(height * width);
  for (let i = 0; i < gray.length; i++) gray[i] = input.image[(sliceOffset + i) * channels]!;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of gray) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const out = new Uint8Array(width * height * 3);
  const inside = (y: number, x: number) => y >= 0 && x >= 0 && y < height && x < width;
  const at = (a: ArrayLike<number> | undefined, y: number, x: number) =>
    a && inside(y, x) ? a[sliceOffset + y * width + x]! : -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const g = hi > lo ? ((gray[i]! - lo) / (hi - lo)) * 255 : 0;
      let rgb = [g, g, g];
      const predicted = at(input.prediction, y, x);
      if (predicted > 0) {
        const c = CLASS_COLORS[(predicted - 1) % CLASS_COLORS.length]!;
        rgb = rgb.map((v, j) => 0.55 * v + 0.45 * c[j]!);
      }
      const ref = at(input.reference, y, x);
      const neighbors = [
        at(input.reference, y - 1, x),
        at(input.reference, y + 1, x),
        at(input.reference, y, x - 1),
        at(input.reference, y, x + 1),
      ];
      if (input.reference && ref > 0 && neighbors.some((n) => n !== ref)) rgb = [...CONTOUR];
      out.set(rgb.map(Math.round), i * 3);
    }
  }
  return { rgb: out, width, height };
}

export function overlayPng(input: OverlayInput): Buffer {
  const { rgb, width, height } = overlayRgb(input);
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set([rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!, 255], i * 4);
  return PNG.sync.write(png);
}

/** Layout of an overlay figure, for callers and tests that look at its parts. */
export interface OverlayFigureLayout {
  /** Where the enlarged image sits, and its scale. */
  readonly image: { x: number; y: number; width: number; height: number; scale: number };
  readonly width: number;
  readonly height: number;
}

const PAD = 8;
const MIN_WIDTH = 280;

/** The overlay enlarged to at least 256 px, with a title above and the class key below. */
export function overlayFigurePng(input: OverlayFigureInput): { png: Buffer; layout: OverlayFigureLayout } {
  const layer = overlayRgb(input);
  const scale = Math.max(1, Math.floor(256 / Math.max(layer.width, layer.height)));
  const numClasses = Math.max(input.classNames?.length ?? 0, input.dice?.length ?? 0, maxLabel(input) + 1, 2);
  const name = (k: number) => input.classNames?.[k] ?? `class ${k}`;
  const diceText = (k: number) => {
    const d = input.dice?.[k];
    return d === undefined ? '' : `  Dice ${Number.isFinite(d) ? d.toFixed(3) : 'n/a (absent)'}`;
  };
  const keyLines = Array.from({ length: numClasses - 1 }, (_, i) => `${name(i + 1)}${diceText(i + 1)}`);
  const legend = input.reference ? [...keyLines, 'reference contour'] : keyLines;
  const swatch = lineHeight() - 3;
  const textColumn = Math.max(textWidth(input.title), ...legend.map((l) => textWidth(l) + swatch + 6));
  const width = Math.max(MIN_WIDTH, layer.width * scale, textColumn) + 2 * PAD;
  const imageTop = PAD + lineHeight() + PAD;
  const keyTop = imageTop + layer.height * scale + PAD;
  const height = keyTop + legend.length * (lineHeight() + 2) + PAD;
  const canvas = new Raster(width, height);
  canvas.text(PAD, PAD, input.title);
  const imageX = Math.floor((width - layer.width * scale) / 2);
  canvas.blit(layer.rgb, layer.width, layer.height, imageX, imageTop, scale);
  legend.forEach((line, i) => {
    const y = keyTop + i * (lineHeight() + 2);
    const color = i < keyLines.length ? CLASS_COLORS[i % CLASS_COLORS.length]! : CONTOUR;
    canvas.fillRect(PAD, y + 1, swatch, swatch, [60, 60, 60]);
    canvas.fillRect(PAD + 1, y + 2, swatch - 2, swatch - 2, color);
    canvas.text(PAD + swatch + 6, y, line);
  });
  const image = { x: imageX, y: imageTop, width: layer.width * scale, height: layer.height * scale, scale };
  return { png: canvas.toPng(), layout: { image, width, height } };
}

function maxLabel(input: OverlayInput): number {
  let max = 0;
  for (let i = 0; i < input.prediction.length; i++) if (input.prediction[i]! > max) max = input.prediction[i]!;
  if (input.reference)
    for (let i = 0; i < input.reference.length; i++) if (input.reference[i]! > max) max = input.reference[i]!;
  return max;
}
