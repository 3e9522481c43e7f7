/**
 * Prediction overlays as PNG: a grey image with the reference contour and the predicted labels blended on top,
 * so a reader sees at a glance where a model is wrong. 3D volumes show their middle slice along the first axis.
 */
import { PNG } from 'pngjs';

const CLASS_COLOURS: readonly (readonly [number, number, number])[] = [
  [230, 25, 75],
  [60, 180, 75],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
];

export interface OverlayInput {
  /** Image [...spatial] (first channel only is drawn), any range: it is min-max scaled. */
  readonly image: ArrayLike<number>;
  readonly channels?: number;
  readonly prediction: ArrayLike<number>;
  readonly reference?: ArrayLike<number>;
  /** Spatial shape: [H, W] or [D, H, W]. */
  readonly shape: readonly number[];
}

export function overlayPng(input: OverlayInput): Buffer {
  const [height, width] = input.shape.slice(-2) as [number, number];
  const sliceOffset = input.shape.length === 3 ? Math.floor(input.shape[0]! / 2) * height * width : 0;
  const channels = input.channels ?? 1;
  const grey = new Float32Array(height * width);
  for (let i = 0; i < grey.length; i++) grey[i] = input.image[(sliceOffset + i) * channels]!;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of grey) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const png = new PNG({ width, height });
  const at = (a: ArrayLike<number> | undefined, y: number, x: number) => (a && y >= 0 && x >= 0 && y < height && x < width ? a[sliceOffset + y * width + x]! : -1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const g = hi > lo ? ((grey[i]! - lo) / (hi - lo)) * 255 : 0;
      let rgb = [g, g, g];
      const predicted = at(input.prediction, y, x);
      if (predicted > 0) {
        const c = CLASS_COLOURS[(predicted - 1) % CLASS_COLOURS.length]!;
        rgb = rgb.map((v, j) => 0.55 * v + 0.45 * c[j]!);
      }
      const ref = at(input.reference, y, x);
      const onContour = input.reference && ref > 0 && [at(input.reference, y - 1, x), at(input.reference, y + 1, x), at(input.reference, y, x - 1), at(input.reference, y, x + 1)].some((n) => n !== ref);
      if (onContour) rgb = [255, 255, 0];
      png.data.set([...rgb.map(Math.round), 255], i * 4);
    }
  }
  return PNG.sync.write(png);
}
