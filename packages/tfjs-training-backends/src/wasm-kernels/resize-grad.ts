/**
 * Gradients of ResizeBilinear and ResizeNearestNeighbor for the wasm backend, written as the exact adjoints of
 * the forward sampling TF.js uses (alignCorners and halfPixelCenters honored). The stock wasm kernels are wrong,
 * and TF.js 4.22's cpu ResizeBilinearGrad returns a [N, W, H, C] shape for non-square images and ignores
 * halfPixelCenters, so neither can serve as the reference: tests check these against the adjoint identity
 * <resize(x), dy> = <x, grad(dy)> instead.
 *
 * Layouts: images [N, H, W, C], dy [N, Ho, Wo, C], result [N, H, W, C].
 */
import { tf } from '../tf.js';
import type { TensorInfo, WasmBackend } from './stock.js';

interface ResizeAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** in/out size ratio TF.js samples with (corners aligned: the end pixels map onto each other). */
function ratio(inSize: number, outSize: number, alignCorners: boolean): number {
  return alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
}

/** Source rows (or columns) of output index `o` for bilinear sampling, and the weight of the upper one. */
export function bilinearSource(
  o: number,
  r: number,
  inSize: number,
  halfPixelCenters: boolean,
): { low: number; high: number; frac: number } {
  const source = halfPixelCenters ? r * (o + 0.5) - 0.5 : r * o;
  const low = Math.max(0, Math.floor(source));
  return { low, high: Math.min(inSize - 1, Math.ceil(source)), frac: source - low };
}

export function nearestSource(
  o: number,
  r: number,
  inSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): number {
  const source = halfPixelCenters ? r * (o + 0.5) : r * o;
  const index = Math.min(inSize - 1, alignCorners ? Math.round(source) : Math.floor(source));
  return halfPixelCenters ? Math.max(0, index) : index;
}

/** dx += the bilinear adjoint of dy. Exported for tests on plain arrays. */
export function resizeBilinearGradInto(
  dy: Float32Array,
  dx: Float32Array,
  imageShape: readonly number[],
  dyShape: readonly number[],
  attrs: ResizeAttrs,
): void {
  const [n, h, w, c] = imageShape as [number, number, number, number];
  const [, ho, wo] = dyShape as [number, number, number, number];
  const rowRatio = ratio(h, ho, attrs.alignCorners);
  const colRatio = ratio(w, wo, attrs.alignCorners);
  const cols = Array.from({ length: wo }, (_, o) => bilinearSource(o, colRatio, w, attrs.halfPixelCenters));
  dx.fill(0);
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      const row = bilinearSource(oy, rowRatio, h, attrs.halfPixelCenters);
      const top = (b * h + row.low) * w;
      const bottom = (b * h + row.high) * w;
      for (let ox = 0; ox < wo; ox++) {
        const col = cols[ox] as { low: number; high: number; frac: number };
        const tl = (top + col.low) * c,
          tr = (top + col.high) * c,
          bl = (bottom + col.low) * c,
          br = (bottom + col.high) * c;
        const wTl = (1 - row.frac) * (1 - col.frac),
          wTr = (1 - row.frac) * col.frac,
          wBl = row.frac * (1 - col.frac),
          wBr = row.frac * col.frac;
        for (let ch = 0; ch < c; ch++, at++) {
          const g = dy[at] as number;
          dx[tl + ch] += g * wTl;
          dx[tr + ch] += g * wTr;
          dx[bl + ch] += g * wBl;
          dx[br + ch] += g * wBr;
        }
      }
    }
  }
}

/** dx += the nearest-neighbor adjoint of dy. */
export function resizeNearestGradInto(
  dy: Float32Array,
  dx: Float32Array,
  imageShape: readonly number[],
  dyShape: readonly number[],
  attrs: ResizeAttrs,
): void {
  const [n, h, w, c] = imageShape as [number, number, number, number];
  const [, ho, wo] = dyShape as [number, number, number, number];
  const rowRatio = ratio(h, ho, attrs.alignCorners);
  const colRatio = ratio(w, wo, attrs.alignCorners);
  const cols = Array.from({ length: wo }, (_, o) =>
    nearestSource(o, colRatio, w, attrs.alignCorners, attrs.halfPixelCenters),
  );
  dx.fill(0);
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      const rowStart = (b * h + nearestSource(oy, rowRatio, h, attrs.alignCorners, attrs.halfPixelCenters)) * w;
      for (let ox = 0; ox < wo; ox++) {
        const target = (rowStart + (cols[ox] as number)) * c;
        for (let ch = 0; ch < c; ch++, at++) dx[target + ch] += dy[at] as number;
      }
    }
  }
}

function resizeGradKernel(into: typeof resizeBilinearGradInto): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackend;
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const dx = wasm.makeOutput(images.shape, 'float32');
    into(
      wasm.typedArrayFromHeap(dy) as Float32Array,
      wasm.typedArrayFromHeap(dx) as Float32Array,
      images.shape,
      dy.shape,
      attrs as unknown as ResizeAttrs,
    );
    return dx;
  };
}

export const resizeBilinearGrad = resizeGradKernel(resizeBilinearGradInto);
export const resizeNearestNeighborGrad = resizeGradKernel(resizeNearestGradInto);
