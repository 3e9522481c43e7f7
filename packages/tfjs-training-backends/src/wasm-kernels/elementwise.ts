/**
 * SIMD versions of the memory-bound kernels a U-Net training step runs on every activation [N, H, W, C]: LeakyRelu
 * and its gradient's Greater(x, scalar) and Select, Multiply/Add/Sub/RealDiv of same-shape tensors or of a tensor
 * and a per-channel vector (batch norm and its gradient), FusedBatchNorm, Concat and SplitV along the channel axis
 * (the U-Net's skip connections), DepthToSpace (transposed-conv up-sampling), and a zero-copy Identity and
 * same-dtype Cast. The stock kernels use per-element index arithmetic for
 * these broadcasts, or transpose. Anything outside these fast cases, or when the SIMD module is not loaded, goes
 * to the stock kernel unchanged.
 */
import { tf } from '../tf.js';
import { fallBackToStock, type TensorInfo, type WasmBackend } from './stock.js';
import { addressOf, heapFloat32, simdKernels, withScratch } from './simd.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const size = (info: TensorInfo): number => tf.util.sizeFromShape(info.shape);
const sameShape = (a: TensorInfo, b: TensorInfo): boolean => tf.util.arraysEqual(a.shape, b.shape);

export function leakyRelu(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const simd = simdKernels(backend);
  if (simd === undefined || x.dtype !== 'float32') return fallBackToStock('LeakyRelu', args);
  const out = backend.makeOutput(x.shape, 'float32');
  simd.leaky_relu(addressOf(backend, x), addressOf(backend, out), size(x), (args.attrs as { alpha: number }).alpha);
  return out;
}

/** Greater(x, scalar): LeakyRelu's and Relu's gradients compare every activation with 0. */
export function greater(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const simd = simdKernels(backend);
  if (
    simd === undefined ||
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    size(b) !== 1 ||
    b.shape.length > a.shape.length
  ) {
    return fallBackToStock('Greater', args);
  }
  const out = backend.makeOutput(a.shape, 'bool');
  const threshold = (backend.typedArrayFromHeap(b) as Float32Array)[0] as number;
  simd.greater_scalar(addressOf(backend, a), threshold, addressOf(backend, out), size(a));
  return out;
}

export function select(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { condition, t, e } = args.inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
  const simd = simdKernels(backend);
  if (
    simd === undefined ||
    condition.dtype !== 'bool' ||
    t.dtype !== 'float32' ||
    e.dtype !== 'float32' ||
    !sameShape(condition, t) ||
    !sameShape(t, e)
  ) {
    return fallBackToStock('Select', args);
  }
  const out = backend.makeOutput(t.shape, 'float32');
  simd.select_f32(
    addressOf(backend, condition),
    addressOf(backend, t),
    addressOf(backend, e),
    addressOf(backend, out),
    size(t),
  );
  return out;
}

const BINARY_OPS = { Multiply: 0, Add: 1, Sub: 2, RealDiv: 3 } as const;
type BinaryKernel = keyof typeof BINARY_OPS;

/** True when `v` broadcasts along the last axis of `x` only: shape [C] or [1, ..., 1, C] of rank <= x's. */
function isChannelVector(v: TensorInfo, x: TensorInfo): boolean {
  const rank = x.shape.length;
  if (rank < 2 || v.shape.length < 1 || v.shape.length > rank) return false;
  const channels = x.shape[rank - 1] as number;
  return v.shape[v.shape.length - 1] === channels && size(v) === channels;
}

/**
 * True when `v` is one channel vector per sample: shape [B, 1, ..., 1, C] against x [B, ..., C] of the same rank
 * (instance norm's per-sample mean and variance, and their gradients).
 */
function isSampleChannelVector(v: TensorInfo, x: TensorInfo): boolean {
  const rank = x.shape.length;
  if (rank < 3 || v.shape.length !== rank) return false;
  if (v.shape[0] !== x.shape[0] || v.shape[rank - 1] !== x.shape[rank - 1]) return false;
  return v.shape.slice(1, -1).every((d) => d === 1);
}

function binary(kernel: BinaryKernel): (args: KernelArgs) => TensorInfo | TensorInfo[] {
  return (args) => {
    const backend = args.backend as WasmBackend;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const simd = simdKernels(backend);
    if (simd === undefined || a.dtype !== 'float32' || b.dtype !== 'float32' || size(a) === 0 || size(b) === 0)
      return fallBackToStock(kernel, args);
    let big: TensorInfo, vector: TensorInfo, vectorFirst: number, rows: number, channels: number;
    const perSample = !sameShape(a, b) && (isSampleChannelVector(b, a) || isSampleChannelVector(a, b));
    if (perSample) {
      // One channel_binary per sample, each over that sample's rows and its own vector.
      [big, vector, vectorFirst] = isSampleChannelVector(b, a) ? [a, b, 0] : [b, a, 1];
      const samples = big.shape[0] as number;
      channels = big.shape[big.shape.length - 1] as number;
      rows = size(big) / samples / channels;
      const out = backend.makeOutput(big.shape, 'float32');
      const [x, v, o] = [addressOf(backend, big), addressOf(backend, vector), addressOf(backend, out)];
      for (let s = 0; s < samples; s++) {
        const offset = s * rows * channels * 4;
        simd.channel_binary(
          x + offset,
          v + s * channels * 4,
          o + offset,
          rows,
          channels,
          BINARY_OPS[kernel],
          vectorFirst,
        );
      }
      return out;
    }
    if (sameShape(a, b)) {
      [big, vector, vectorFirst, rows, channels] = [a, b, 0, 1, size(a)];
    } else if (isChannelVector(b, a)) {
      [big, vector, vectorFirst] = [a, b, 0];
      channels = size(b);
      rows = size(a) / channels;
    } else if (isChannelVector(a, b)) {
      [big, vector, vectorFirst] = [b, a, 1];
      channels = size(a);
      rows = size(b) / channels;
    } else {
      return fallBackToStock(kernel, args);
    }
    const out = backend.makeOutput(big.shape, 'float32');
    simd.channel_binary(
      addressOf(backend, big),
      addressOf(backend, vector),
      addressOf(backend, out),
      rows,
      channels,
      BINARY_OPS[kernel],
      vectorFirst,
    );
    return out;
  };
}

export const multiply = binary('Multiply');
export const add = binary('Add');
export const sub = binary('Sub');
export const realDiv = binary('RealDiv');

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

/** Cast to the tensor's own dtype (tf.moments casts its input to float32) shares storage; other casts: stock. */
export function cast(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo };
  if ((args.attrs as { dtype: string }).dtype !== x.dtype) return fallBackToStock('Cast', args);
  return identity(args);
}

/** Identity shares the input's storage (reference counted, as the wasm backend's Reshape does) instead of copying it. */
export function identity(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend & { incRef(dataId: object): void };
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return fallBackToStock('Identity', args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * DepthToSpace, NHWC (the transposed-conv up-sampling's last step): for each input row and block row `a`, the
 * input's channel slice [a*bs*C, (a+1)*bs*C) of every pixel is one contiguous run of the output row.
 */
export function depthToSpace(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { blockSize, dataFormat } = args.attrs as unknown as { blockSize: number; dataFormat: string };
  const simd = simdKernels(backend);
  if (simd === undefined || x.dtype !== 'float32' || dataFormat !== 'NHWC' || x.shape.length !== 4 || size(x) === 0)
    return fallBackToStock('DepthToSpace', args);
  const [n, h, w, depth] = x.shape as [number, number, number, number];
  const bs = blockSize;
  const c = depth / (bs * bs);
  const out = backend.makeOutput([n, h * bs, w * bs, c], 'float32');
  const source = addressOf(backend, x);
  const target = addressOf(backend, out);
  const run = bs * c;
  for (let row = 0; row < n * h; row++) {
    for (let a = 0; a < bs; a++) {
      simd.copy_rows(
        source + (row * w * depth + a * run) * 4,
        depth,
        target + (row * bs + a) * w * run * 4,
        run,
        w,
        run,
      );
    }
  }
  return out;
}
