/**
 * Faster Sum and Mean for the wasm backend when every axis but the last is reduced ([N, H, W, C] -> [C]): batch
 * norm, its gradient and per-class loss sums do this on every activation; and when every axis but the first and
 * the last is ([N, D, H, W, C] -> [N, C]: instance norm's statistics, SIMD only). The stock kernels first transpose the
 * whole tensor so the reduced axes are innermost; here one in-order pass adds rows into C totals (SIMD: float32
 * over blocks of 64 rows, then float64 totals; JavaScript fallback: float64 throughout). Other reductions go to
 * the stock kernels.
 */
import { tf } from '../tf.js';
import { callStock, type TensorInfo, type WasmBackend } from './stock.js';
import { addressOf, readFloat64, simdKernels, withScratch } from './simd.js';

type ReduceArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function sum(args: ReduceArgs): TensorInfo {
  return reduceLeading('Sum', args, 1);
}

export function mean(args: ReduceArgs): TensorInfo {
  const x = (args.inputs as { x: TensorInfo }).x;
  return reduceLeading(
    'Mean',
    args,
    x.shape.slice(0, -1).reduce((a, b) => a * b, 1),
  );
}

/** `kernel` over all axes but the last, as per-channel totals divided by `divisor`; anything else: stock. */
function reduceLeading(kernel: 'Sum' | 'Mean', args: ReduceArgs, divisor: number): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
  const middle = rank >= 3 && axes.length === rank - 2 && axes.every((a, i) => a === i + 1);
  if (x.dtype === 'float32' && middle && tf.util.sizeFromShape(x.shape) > 0 && simdKernels(backend) !== undefined) {
    return reduceMiddle(backend, x, keepDims, kernel === 'Mean');
  }
  if (x.dtype !== 'float32' || !leading || tf.util.sizeFromShape(x.shape) === 0) {
    return callStock(kernel, backend, args.inputs as Record<string, TensorInfo>, args.attrs as Record<string, unknown>);
  }
  const channels = x.shape[rank - 1] as number;
  const outShape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
  const out = backend.makeOutput(outShape, 'float32');
  const totals = channelTotals(backend, x, channels);
  const values = backend.typedArrayFromHeap(out) as Float32Array;
  for (let c = 0; c < channels; c++) values[c] = (totals[c] as number) / divisor;
  return out;
}

/**
 * Sum or mean over every axis but the first and the last ([B, ..., C] -> [B, C]): instance norm's per-sample
 * statistics and their gradients. One SIMD pass per sample, as channelTotals.
 */
function reduceMiddle(backend: WasmBackend, x: TensorInfo, keepDims: boolean, average: boolean): TensorInfo {
  const simd = simdKernels(backend)!;
  const rank = x.shape.length;
  const samples = x.shape[0] as number;
  const channels = x.shape[rank - 1] as number;
  const rows = tf.util.sizeFromShape(x.shape) / samples / channels;
  const outShape = keepDims ? [samples, ...x.shape.slice(1, -1).map(() => 1), channels] : [samples, channels];
  const out = backend.makeOutput(outShape, 'float32');
  const address = addressOf(backend, x);
  const totals = withScratch(backend, channels * 12, (scratch) => {
    const all = new Float64Array(samples * channels);
    for (let s = 0; s < samples; s++) {
      simd.sum_rows(address + s * rows * channels * 4, rows, channels, scratch + channels * 8, scratch);
      all.set(readFloat64(backend, scratch, channels), s * channels);
    }
    return all;
  });
  const values = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < values.length; i++) values[i] = average ? (totals[i] as number) / rows : (totals[i] as number);
  return out;
}

/** Per-channel totals of x viewed as [rows, channels], in float64. */
function channelTotals(backend: WasmBackend, x: TensorInfo, channels: number): Float64Array {
  const simd = simdKernels(backend);
  if (simd === undefined) {
    const totals = new Float64Array(channels);
    sumLeadingInto(backend.typedArrayFromHeap(x) as Float32Array, totals, channels);
    return totals;
  }
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  // Scratch: float64 totals first (8-byte aligned from malloc), then the float32 block sums.
  return withScratch(backend, channels * 12, (scratch) => {
    simd.sum_rows(addressOf(backend, x), rows, channels, scratch + channels * 8, scratch);
    return readFloat64(backend, scratch, channels);
  });
}

/** out[c] = sum over rows of x viewed as [rows, channels] (the JavaScript path). Exported for tests on plain arrays. */
export function sumLeadingInto(x: Float32Array, out: Float32Array | Float64Array, channels: number): void {
  const totals = new Float64Array(channels);
  for (let start = 0; start < x.length; start += channels) {
    for (let c = 0; c < channels; c++) totals[c] += x[start + c] as number;
  }
  out.set(totals);
}
