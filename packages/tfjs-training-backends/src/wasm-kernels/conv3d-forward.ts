/**
 * Conv3D for the wasm backend. Stock tfjs-backend-wasm 4.22 computes Conv3D in a naive loop (a 3D U-Net step took
 * over 30 s) and its two gradient kernels (conv3d-backprop-input.ts, conv3d-backprop-filter.ts) give wrong values.
 * The paths the three kernels take, by geometry (conv3d-geometry.ts decides, conv3d-primitives.ts computes):
 *  - 'winograd': stride 1, dilation 1, 3x3x3, wide enough (winogradApplies): Winograd (simd/winograd3d.c),
 *    F(2x4x4, 3x3x3) where the output is 16 or more high and wide, else F(2x2x2, 3x3x3) (6x / 3.4x fewer
 *    multiplications), for all three kernels (the input gradient as below).
 *  - 'simd': stride 1, dilation 1 (the other stride-1 convolutions): rwseg's SIMD kernel (simd/kernels3d.c
 *    conv3d_s1) on the zero-padded input; the input gradient is the same kernel applied to dy with the flipped,
 *    channel-swapped filter. The filter gradient runs conv3d_filter_grad (any stride) on the padded input.
 *  - 'matmul': 1x1x1 kernels (the softmax head): one matrix product over the voxels.
 *  - 'blocks-matmul': kernel == stride, no padding (2x2x2 transposed-convolution up-sampling and its gradient):
 *    the input regrouped into its non-overlapping blocks (blocks3d) and one matrix product, or the reverse.
 *  - 'cpu': anything else, or the SIMD module not loaded: the cpu backend's kernels on copied data (correct,
 *    slow), except Conv3D, whose stock wasm kernel is correct.
 * Output channels must be a multiple of 4 for the SIMD kernels (each register block holds 4 or 8 channels).
 *
 * Layouts (NDHWC only): x [N, D, H, W, Ci], filter [kd, kh, kw, Ci, Co], y and dy [N, Do, Ho, Wo, Co].
 */
import type { tf } from '../tf.js';
import {
  convInfo,
  exactBlocks,
  forwardPads,
  noPadding,
  pointwise,
  strideOf,
  unitDilation,
  unitStride,
  winogradForward,
  type Conv3DPath,
  type Pad3D,
  type Shape5,
  type Triple,
} from './conv3d-geometry.js';
import { matMul, rearrangeBlocks, simdConv3d, winogradConv3d } from './conv3d-primitives.js';
import { simdKernels } from './simd.js';
import { fallBackToStock, release, reshape, type KernelArgs, type TensorInfo, type WasmBackend } from './stock.js';

/** Which implementation Conv3D takes; exported so tests can prove each path is exercised. */
export function conv3dForwardPath(backend: WasmBackend, info: tf.backend_util.Conv3DInfo): Conv3DPath {
  if (simdKernels(backend) === undefined || !unitDilation(info)) return 'stock';
  if (pointwise(info) && unitStride(info) && noPadding(info)) return 'matmul';
  if (exactBlocks(info)) return 'blocks-matmul';
  if (unitStride(info) && info.outChannels % 4 === 0 && forwardPads(info).every((p) => p >= 0)) {
    return winogradForward(info) ? 'winograd' : 'simd';
  }
  return 'stock';
}

export function conv3D(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const { strides, pad, dilations, dataFormat } = args.attrs as unknown as {
    strides: Triple;
    pad: Pad3D;
    dilations: Triple;
    dataFormat?: string;
  };
  const channelsLast = dataFormat === undefined || dataFormat === 'NDHWC';
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || !channelsLast) return fallBackToStock('Conv3D', args);
  const info = convInfo(x.shape as Shape5, filter.shape as Shape5, strides, pad, dilations);
  const { batchSize: n, outDepth: od, outHeight: oh, outWidth: ow, outChannels: co, inChannels: ci } = info;
  switch (conv3dForwardPath(backend, info)) {
    case 'winograd':
      return winogradConv3d(backend, x, filter, forwardPads(info));
    case 'simd':
      return simdConv3d(backend, x, filter, forwardPads(info));
    case 'matmul': {
      const product = matMul(backend, x, filter, n * od * oh * ow, ci, co);
      const y = reshape(backend, product, [n, od, oh, ow, co]);
      release(backend, product);
      return y;
    }
    case 'blocks-matmul': {
      const taps = info.filterDepth * info.filterHeight * info.filterWidth;
      const blocks = rearrangeBlocks(backend, x, x.shape as Shape5, strideOf(info), true);
      const product = matMul(backend, blocks, filter, n * od * oh * ow, taps * ci, co);
      release(backend, blocks);
      const y = reshape(backend, product, [n, od, oh, ow, co]);
      release(backend, product);
      return y;
    }
    default:
      return fallBackToStock('Conv3D', args);
  }
}
