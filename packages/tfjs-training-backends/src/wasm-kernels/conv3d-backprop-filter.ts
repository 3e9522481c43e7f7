/**
 * Conv3DBackpropFilterV2 for the wasm backend (the filter gradient of Conv3D): the stock wasm kernel gives wrong
 * values. By geometry: Winograd for 3x3x3 stride 1, conv3d_filter_grad (simd/kernels3d.c, any stride) on the
 * padded input, one matrix product for 1x1x1, else the cpu backend's kernel on copied data.
 */
import { tf } from '../tf.js';
import {
  convInfo,
  forwardPads,
  noPadding,
  pointwise,
  strideOf,
  tilingFor,
  unitDilation,
  unitStride,
  winogradBlock,
  winogradForward,
  type Conv3DPath,
  type CpuArgs,
  type Pad3D,
  type Shape5,
  type Triple,
} from './conv3d-geometry.js';
import { matMul, pad3d, tilePads, winogradTileFloats } from './conv3d-primitives.js';
import { viaCpuBackend } from './cpu-bridge.js';
import { addressOf, simdKernels, withScratch } from './simd.js';
import { release, reshape, transpose, type KernelArgs, type TensorInfo, type WasmBackend } from './stock.js';

const cpuBackpropFilter = viaCpuBackend('Conv3DBackpropFilterV2');

/** Output (n, d, i) rows per cache-resident run of the filter-gradient kernel, as ~128 output voxels. */
const FILTER_GRAD_RUN_VOXELS = 128;

/** Which implementation Conv3DBackpropFilterV2 takes (info: the forward convolution's). */
export function conv3dBackpropFilterPath(backend: WasmBackend, info: tf.backend_util.Conv3DInfo): Conv3DPath {
  if (simdKernels(backend) === undefined || !unitDilation(info)) return 'cpu';
  if (info.outChannels % 4 === 0) {
    const winograd = unitStride(info) && winogradForward(info) && forwardPads(info).every((p) => p >= 0);
    return winograd ? 'winograd' : 'simd';
  }
  if (pointwise(info) && unitStride(info) && noPadding(info)) return 'matmul';
  return 'cpu';
}

/** The filter gradient of a 3x3x3 stride-1 convolution with pads `pads`, in Winograd form. */
function winogradFilterGrad(
  backend: WasmBackend,
  x: TensorInfo,
  dy: TensorInfo,
  pads: number[],
  filterShape: Shape5,
): TensorInfo {
  const simd = simdKernels(backend)!;
  const [n, od, oh, ow, co] = dy.shape as Shape5;
  const ci = filterShape[3];
  const tiling = tilingFor([od, oh, ow]);
  const xPad = pad3d(backend, x, tilePads(x, pads, tiling));
  const [, dp, hp, wp] = xPad.shape as Shape5;
  const dW = backend.makeOutput(filterShape, 'float32');
  const block = winogradBlock(ci, co, tiling.positions);
  const gradient = tiling.wide ? simd.winograd3d_filter_grad_244 : simd.winograd3d_filter_grad;
  withScratch(backend, 4 * (tiling.positions * ci * co + winogradTileFloats(tiling, block, ci, co)), (scratch) => {
    gradient(
      addressOf(backend, xPad),
      addressOf(backend, dy),
      addressOf(backend, dW),
      scratch,
      n,
      dp,
      hp,
      wp,
      ci,
      od,
      oh,
      ow,
      co,
      block,
    );
  });
  if (xPad !== x) release(backend, xPad);
  return dW;
}

export function conv3DBackpropFilterV2(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, filterShape } = args.attrs as unknown as { strides: Triple; pad: Pad3D; filterShape: Shape5 };
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') return cpuBackpropFilter(args as CpuArgs);
  const info = convInfo(x.shape as Shape5, filterShape, strides, pad);
  switch (conv3dBackpropFilterPath(backend, info)) {
    case 'winograd':
      return winogradFilterGrad(backend, x, dy, forwardPads(info), filterShape);
    case 'simd': {
      const simd = simdKernels(backend)!;
      const { batchSize: n, inDepth: d, inHeight: h, inWidth: w, outDepth: od, outHeight: oh, outWidth: ow } = info;
      const { filterDepth: kd, filterHeight: kh, filterWidth: kw } = info;
      const [sd, sh, sw] = strideOf(info);
      const { front, top, left } = info.padInfo;
      // Pad so every tap of every output voxel reads inside the buffer; planes past the last one read are unused.
      const pads = [
        front,
        Math.max(0, (od - 1) * sd + kd - d - front),
        top,
        Math.max(0, (oh - 1) * sh + kh - h - top),
        left,
        Math.max(0, (ow - 1) * sw + kw - w - left),
      ];
      const xPad = pad3d(backend, x, pads);
      const [, dp, hp, wp] = xPad.shape as Shape5;
      const dW = backend.makeOutput(filterShape, 'float32');
      const runRows = Math.max(1, Math.round(FILTER_GRAD_RUN_VOXELS / Math.max(1, ow)));
      simd.conv3d_filter_grad(
        addressOf(backend, xPad),
        addressOf(backend, dy),
        addressOf(backend, dW),
        n,
        dp,
        hp,
        wp,
        info.inChannels,
        od,
        oh,
        ow,
        info.outChannels,
        kd,
        kh,
        kw,
        sd,
        sh,
        sw,
        runRows,
      );
      if (xPad !== x) release(backend, xPad);
      return dW;
    }
    case 'matmul': {
      // dW [Ci, Co] = x^T [Ci, voxels] x dy [voxels, Co].
      const voxels = tf.util.sizeFromShape(x.shape) / info.inChannels;
      const flat = reshape(backend, x, [voxels, info.inChannels]);
      const xT = transpose(backend, flat, [1, 0]);
      release(backend, flat);
      const product = matMul(backend, xT, dy, info.inChannels, voxels, info.outChannels);
      release(backend, xT);
      const dW = reshape(backend, product, filterShape);
      release(backend, product);
      return dW;
    }
    default:
      return cpuBackpropFilter(args as CpuArgs);
  }
}
