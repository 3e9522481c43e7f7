/**
 * A faster Tile for the wasm backend. BatchNorm's gradient tiles a per-channel vector [1, 1, 1, C] to the
 * activation's shape [N, H, W, C]; the stock kernel walks every output element with index arithmetic. Tiling is
 * pure copying: copy each innermost row once, then replicate ever larger blocks with copyWithin (memmove speed),
 * doubling the copied span each time.
 */
import { tf } from '../tf.js';
import { callStock, type TensorInfo, type WasmBackend } from './stock.js';

type Numbers = Float32Array | Int32Array | Uint8Array;

export function tile(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const reps = (args.attrs as { reps: number[] }).reps;
  if (x.dtype === 'string' || x.dtype === 'complex64' || reps.length !== x.shape.length) {
    return callStock('Tile', backend, args.inputs as Record<string, TensorInfo>, args.attrs as Record<string, unknown>);
  }
  const outShape = x.shape.map((d, i) => d * (reps[i] as number));
  const out = backend.makeOutput(outShape, x.dtype);
  if (outShape.some((d) => d === 0)) return out;
  tileInto(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), x.shape, reps);
  return out;
}

/** Writes `src` (shape `shape`) tiled by `reps` into `out`, row-major. Exported for tests on plain arrays. */
export function tileInto(src: Numbers, out: Numbers, fullShape: readonly number[], fullReps: readonly number[]): void {
  const { shape, reps } = mergeAxes(fullShape, fullReps);
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[0] as number;
    return;
  }
  // srcStride[k] / outStride[k]: elements spanned by one step along axis k.
  const srcStride = new Array<number>(rank).fill(1);
  const outStride = new Array<number>(rank).fill(1);
  for (let k = rank - 2; k >= 0; k--) {
    srcStride[k] = (srcStride[k + 1] as number) * (shape[k + 1] as number);
    outStride[k] = (outStride[k + 1] as number) * (shape[k + 1] as number) * (reps[k + 1] as number);
  }
  const fill = (axis: number, srcOffset: number, outOffset: number): void => {
    const d = shape[axis] as number;
    let block: number;
    if (axis === rank - 1) {
      out.set(src.subarray(srcOffset, srcOffset + d), outOffset);
      block = d;
    } else {
      for (let i = 0; i < d; i++)
        fill(axis + 1, srcOffset + i * (srcStride[axis] as number), outOffset + i * (outStride[axis] as number));
      block = d * (outStride[axis] as number);
    }
    replicate(out, outOffset, block, reps[axis] as number);
  };
  fill(0, 0, 0);
}

/**
 * Merges axis k+1 into axis k wherever axis k+1 is not repeated: tiling [a, b] by [r, 1] is tiling [a*b] by [r].
 * This keeps the row copies long (one per channel vector, not one per pixel).
 */
function mergeAxes(shape: readonly number[], reps: readonly number[]): { shape: number[]; reps: number[] } {
  const mergedShape: number[] = [];
  const mergedReps: number[] = [];
  for (let k = 0; k < shape.length; k++) {
    const d = shape[k] as number;
    const r = reps[k] as number;
    if (mergedShape.length > 0 && r === 1) {
      mergedShape[mergedShape.length - 1] = (mergedShape[mergedShape.length - 1] as number) * d;
    } else {
      mergedShape.push(d);
      mergedReps.push(r);
    }
  }
  return { shape: mergedShape, reps: mergedReps };
}

/** Repeats out[start, start + block) `times` times in place, doubling the copied span. */
function replicate(out: Numbers, start: number, block: number, times: number): void {
  const total = block * times;
  let filled = block;
  while (filled < total) {
    const span = Math.min(filled, total - filled);
    out.copyWithin(start + filled, start, start + span);
    filled += span;
  }
}
