/**
 * Concat and SplitV along the channel axis (the U-Net's skip connections and their gradient) as row copies in
 * WebAssembly SIMD, where the stock kernels transpose. Other axes, dtypes, or no SIMD module: the stock kernel.
 */
import { tf } from '../tf.js';
import { fallBackToStock, type KernelArgs, type TensorInfo, type WasmBackend } from './stock.js';
import { addressOf, simdKernels } from './simd.js';

/** Concat along the last axis: each input's rows copied into its column band of the output. */
export function concat(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const inputs = args.inputs as unknown as TensorInfo[];
  const simd = simdKernels(backend);
  const first = inputs[0];
  if (simd === undefined || first === undefined || inputs.length < 2 || inputs.some((t) => t.dtype !== 'float32'))
    return fallBackToStock('Concat', args);
  const rank = first.shape.length;
  const axis = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, first.shape)[0];
  const lead = first.shape.slice(0, -1);
  if (
    rank < 2 ||
    axis !== rank - 1 ||
    inputs.some((t) => t.shape.length !== rank || !tf.util.arraysEqual(t.shape.slice(0, -1), lead))
  )
    return fallBackToStock('Concat', args);
  const widths = inputs.map((t) => t.shape[rank - 1] as number);
  const total = widths.reduce((a, b) => a + b, 0);
  const rows = tf.util.sizeFromShape(lead);
  const out = backend.makeOutput([...lead, total], 'float32');
  const base = addressOf(backend, out);
  let column = 0;
  inputs.forEach((t, i) => {
    const width = widths[i] as number;
    if (width > 0 && rows > 0) simd.copy_rows(addressOf(backend, t), width, base + column * 4, total, rows, width);
    column += width;
  });
  return out;
}

/** SplitV along the last axis (the gradient of the skip concatenations). */
export function splitV(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const simd = simdKernels(backend);
  const rank = x.shape.length;
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0];
  if (simd === undefined || x.dtype !== 'float32' || rank < 2 || $axis !== rank - 1)
    return fallBackToStock('SplitV', args);
  const widths = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, $axis);
  const total = x.shape[rank - 1] as number;
  const lead = x.shape.slice(0, -1);
  const rows = tf.util.sizeFromShape(lead);
  const base = addressOf(backend, x);
  let column = 0;
  return widths.map((width) => {
    const out = backend.makeOutput([...lead, width], 'float32');
    if (width > 0 && rows > 0) simd.copy_rows(base + column * 4, total, addressOf(backend, out), width, rows, width);
    column += width;
    return out;
  });
}
