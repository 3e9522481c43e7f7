/**
 * A faster Sum for the wasm backend when every axis but the last is reduced ([N, H, W, C] -> [C]): batch norm's
 * gradient and per-class loss sums do this on every activation. The stock kernel first transposes the whole
 * tensor so the reduced axes are innermost; a single pass adding rows into C accumulators (float64, so also more
 * accurate) reads the data once in order. Other reductions go to the stock kernel.
 */
import { tf } from '../../tf.js';
import { callStock, type TensorInfo, type WasmBackend } from './stock.js';

export function sum(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) {
    return callStock('Sum', backend, args.inputs as Record<string, TensorInfo>, args.attrs as Record<string, unknown>);
  }
  const channels = x.shape[rank - 1] as number;
  const outShape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
  const out = backend.makeOutput(outShape, 'float32');
  sumLeadingInto(backend.typedArrayFromHeap(x) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array, channels);
  return out;
}

/** out[c] = sum over rows of x viewed as [rows, channels]. Exported for tests on plain arrays. */
export function sumLeadingInto(x: Float32Array, out: Float32Array, channels: number): void {
  const totals = new Float64Array(channels);
  for (let start = 0; start < x.length; start += channels) {
    for (let c = 0; c < channels; c++) totals[c] += x[start + c] as number;
  }
  out.set(totals);
}
