/**
 * Conv3DBackpropInputV2 for the wasm backend (the input gradient of Conv3D, and the forward pass of
 * conv3dTranspose): the stock wasm kernel gives wrong values. By geometry (conv3d-forward.ts lists the paths):
 * Winograd or the direct SIMD kernel applied to dy with the flipped, channel-swapped filter; matrix products for
 * 1x1x1 and kernel == stride; else the cpu backend's kernel on copied data.
 */
import type { tf } from '../tf.js';
import {
  convInfo,
  exactBlocks,
  flippedPads,
  noPadding,
  pointwise,
  strideOf,
  unitDilation,
  unitStride,
  winogradInput,
  type Conv3DPath,
  type CpuArgs,
  type Pad3D,
  type Shape5,
  type Triple,
} from './conv3d-geometry.js';
import { matMul, rearrangeBlocks, simdConv3d, winogradConv3d } from './conv3d-primitives.js';
import { viaCpuBackend } from './cpu-bridge.js';
import { simdKernels } from './simd.js';
import { release, reshape, transpose, type KernelArgs, type TensorInfo, type WasmBackend } from './stock.js';

const cpuBackpropInput = viaCpuBackend('Conv3DBackpropInputV2');

/** Which implementation Conv3DBackpropInputV2 takes (info: the forward convolution's). */
export function conv3dBackpropInputPath(backend: WasmBackend, info: tf.backend_util.Conv3DInfo): Conv3DPath {
  if (simdKernels(backend) === undefined || !unitDilation(info)) return 'cpu';
  if (pointwise(info) && unitStride(info) && noPadding(info)) return 'matmul';
  if (exactBlocks(info)) return 'blocks-matmul';
  if (unitStride(info) && info.inChannels % 4 === 0 && flippedPads(info).every((p) => p >= 0)) {
    return winogradInput(info) ? 'winograd' : 'simd';
  }
  return 'cpu';
}

/** filter [kd, kh, kw, Ci, Co] -> [kd, kh, kw, Co, Ci] flipped in all three spatial axes (tap order reversed). */
function flipAndSwap(backend: WasmBackend, filter: TensorInfo): TensorInfo {
  const [kd, kh, kw, ci, co] = filter.shape as Shape5;
  const swapped = transpose(backend, filter, [0, 1, 2, 4, 3]);
  const taps = kd * kh * kw;
  const block = ci * co;
  const out = backend.makeOutput([kd, kh, kw, co, ci], 'float32');
  const source = backend.typedArrayFromHeap(swapped) as Float32Array;
  const target = backend.typedArrayFromHeap(out) as Float32Array;
  for (let t = 0; t < taps; t++) target.set(source.subarray((taps - 1 - t) * block, (taps - t) * block), t * block);
  release(backend, swapped);
  return out;
}

/** filter [..., Ci, Co] as the [Co, taps*Ci] matrix (its transpose, for products back onto the input side). */
function filterTransposed(backend: WasmBackend, filter: TensorInfo): TensorInfo {
  const [kd, kh, kw, ci, co] = filter.shape as Shape5;
  const flat = reshape(backend, filter, [kd * kh * kw * ci, co]);
  const t = transpose(backend, flat, [1, 0]);
  release(backend, flat);
  return t;
}

export function conv3DBackpropInputV2(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, inputShape } = args.attrs as unknown as { strides: Triple; pad: Pad3D; inputShape: Shape5 };
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return cpuBackpropInput(args as CpuArgs);
  const info = convInfo(inputShape, filter.shape as Shape5, strides, pad);
  const { batchSize: n, outDepth: od, outHeight: oh, outWidth: ow, outChannels: co, inChannels: ci } = info;
  const inputPath = conv3dBackpropInputPath(backend, info);
  switch (inputPath) {
    case 'winograd':
    case 'simd': {
      const flipped = flipAndSwap(backend, filter);
      const convolve = inputPath === 'winograd' ? winogradConv3d : simdConv3d;
      const dx = convolve(backend, dy, flipped, flippedPads(info));
      release(backend, flipped);
      return dx;
    }
    case 'matmul':
    case 'blocks-matmul': {
      // Each dy voxel writes its own block of dx: dx blocks = dy [voxels, Co] x W^T [Co, taps*Ci].
      const taps = info.filterDepth * info.filterHeight * info.filterWidth;
      const wT = filterTransposed(backend, filter);
      const product = matMul(backend, dy, wT, n * od * oh * ow, co, taps * ci);
      release(backend, wT);
      if (taps === 1) {
        const dx = reshape(backend, product, inputShape);
        release(backend, product);
        return dx;
      }
      const dx = rearrangeBlocks(backend, product, inputShape, strideOf(info), false);
      release(backend, product);
      return dx;
    }
    default:
      return cpuBackpropInput(args as CpuArgs);
  }
}
