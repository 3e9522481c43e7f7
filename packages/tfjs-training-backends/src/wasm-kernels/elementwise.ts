/**
 * SIMD versions of the memory-bound elementwise kernels a U-Net training step runs on every activation
 * [N, H, W, C]: LeakyRelu and its gradient's Greater(x, scalar) and Select, and Multiply/Add/Sub/RealDiv of
 * same-shape tensors, of a tensor and a per-channel vector (batch norm and its gradient), or of a tensor and one
 * channel vector per sample (instance norm). The stock kernels use per-element index arithmetic for these
 * broadcasts. Anything outside these fast cases, or when the SIMD module is not loaded, goes to the stock kernel
 * unchanged.
 */
import { isChannelVector, isSampleChannelVector, sameShape, size } from './broadcast.js';
import { fallBackToStock, type KernelArgs, type TensorInfo, type WasmBackend } from './stock.js';
import { addressOf, simdKernels } from './simd.js';

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
