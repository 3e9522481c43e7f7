/**
 * FusedBatchNorm in WebAssembly SIMD: with per-channel (or scalar) mean, variance, offset and scale it is one
 * affine map per channel, (x - mean) * factor + offset, over every activation. Other shapes, or no SIMD module:
 * the stock kernel.
 */
import { isChannelVector, size } from './broadcast.js';
import { fallBackToStock, type KernelArgs, type TensorInfo, type WasmBackend } from './stock.js';
import { addressOf, heapFloat32, simdKernels, withScratch } from './simd.js';

/** FusedBatchNorm with per-channel (or scalar) mean, variance, offset and scale, as (x - mean) * factor + offset. */
export function fusedBatchNorm(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x, mean, variance, offset, scale } = args.inputs as Record<'x' | 'mean' | 'variance', TensorInfo> &
    Partial<Record<'offset' | 'scale', TensorInfo>>;
  const simd = simdKernels(backend);
  const params = [mean, variance, offset, scale].filter((p): p is TensorInfo => p !== undefined);
  const rank = x.shape.length;
  const channels = x.shape[rank - 1] as number;
  const perChannel = (p: TensorInfo): boolean => p.dtype === 'float32' && (size(p) === 1 || isChannelVector(p, x));
  if (simd === undefined || x.dtype !== 'float32' || rank < 2 || size(x) === 0 || !params.every(perChannel))
    return fallBackToStock('FusedBatchNorm', args);
  const epsilon = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
  const out = backend.makeOutput(x.shape, 'float32');
  withScratch(backend, channels * 12, (scratch) => {
    // Views are taken after the scratch allocation, which may grow (and so detach) the heap.
    const read = (p: TensorInfo | undefined, fallback: number): ((c: number) => number) => {
      if (p === undefined) return () => fallback;
      const values = backend.typedArrayFromHeap(p) as Float32Array;
      return values.length === 1 ? () => values[0] as number : (c) => values[c] as number;
    };
    const [m, v, o, s] = [read(mean, 0), read(variance, 1), read(offset, 0), read(scale, 1)];
    const table = heapFloat32(backend, scratch, channels * 3);
    for (let c = 0; c < channels; c++) {
      table[c] = m(c);
      table[channels + c] = s(c) / Math.sqrt(v(c) + epsilon);
      table[2 * channels + c] = o(c);
    }
    simd.channel_affine(
      addressOf(backend, x),
      scratch,
      scratch + channels * 4,
      scratch + channels * 8,
      addressOf(backend, out),
      size(x) / channels,
      channels,
    );
  });
  return out;
}
