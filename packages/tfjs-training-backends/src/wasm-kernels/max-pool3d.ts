/**
 * MaxPool3D and MaxPool3DGrad for the wasm backend. The stock MaxPool3D (tfjs-backend-wasm 4.22) is wrong: a
 * window whose values are all negative pools to FLT_MIN (its running maximum starts at the smallest positive
 * float), so every all-negative LeakyReLU window is lost. 2x2x2 windows with stride 2 and no padding (a 3D U-Net's
 * pooling) run in rwseg's SIMD kernels (simd/kernels3d.c); other geometries, or no SIMD module, go to the cpu
 * backend's kernels on copied data. The gradient follows the cpu backend: it goes to the last maximum of each window in
 * (d, h, w) order (tfjs-backend-cpu's maxPool3dPositions keeps a position when `value >= max`).
 *
 * Layouts: x [N, D, H, W, C], y and dy [N, D/2, H/2, W/2, C] (floor), dx [N, D, H, W, C].
 */
import { tf } from '../tf.js';
import type { KernelArgs, TensorInfo, WasmBackend } from './stock.js';
import { addressOf, simdKernels } from './simd.js';
import { viaCpuBackend } from './cpu-bridge.js';

type Shape5 = [number, number, number, number, number];
type Triple = number | [number, number, number];
type CpuArgs = Parameters<tf.KernelFunc>[0];

interface Pool3DAttrs {
  filterSize: Triple;
  strides: Triple;
  pad: 'same' | 'valid' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NDHWC' | 'NCDHW';
}

const cpuMaxPool3D = viaCpuBackend('MaxPool3D');
const cpuMaxPool3DGrad = viaCpuBackend('MaxPool3DGrad');

/** Whether a pooling geometry runs in the SIMD kernels: 2x2x2 windows, stride 2, no padding, float32. */
export function maxPool3dUsesSimd(backend: WasmBackend, info: tf.backend_util.Conv3DInfo): boolean {
  const twos = [
    info.filterDepth,
    info.filterHeight,
    info.filterWidth,
    info.strideDepth,
    info.strideHeight,
    info.strideWidth,
  ];
  const ones = [info.dilationDepth, info.dilationHeight, info.dilationWidth];
  const floorOutput =
    info.outDepth === Math.floor(info.inDepth / 2) &&
    info.outHeight === Math.floor(info.inHeight / 2) &&
    info.outWidth === Math.floor(info.inWidth / 2);
  const { front, back, top, bottom, left, right } = info.padInfo;
  const unpadded = [front, back, top, bottom, left, right].every((p) => p === 0);
  return (
    twos.every((v) => v === 2) &&
    ones.every((v) => v === 1) &&
    unpadded &&
    floorOutput &&
    info.dataFormat === 'channelsLast' &&
    simdKernels(backend) !== undefined
  );
}

function poolInfo(shape: number[], attrs: Pool3DAttrs): tf.backend_util.Conv3DInfo {
  return tf.backend_util.computePool3DInfo(
    shape as Shape5,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    attrs.dataFormat ?? 'NDHWC',
  );
}

export function maxPool3D(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const info = poolInfo(x.shape, args.attrs as unknown as Pool3DAttrs);
  if (x.dtype !== 'float32' || !maxPool3dUsesSimd(backend, info)) return cpuMaxPool3D(args as CpuArgs);
  const out = backend.makeOutput(info.outShape, 'float32');
  const [n, d, h, w, c] = x.shape as Shape5;
  simdKernels(backend)!.max_pool3d_2x2x2(addressOf(backend, x), addressOf(backend, out), n, d, h, w, c);
  return out;
}

export function maxPool3DGrad(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const info = poolInfo(input.shape, args.attrs as unknown as Pool3DAttrs);
  if (input.dtype !== 'float32' || dy.dtype !== 'float32' || !maxPool3dUsesSimd(backend, info)) {
    return cpuMaxPool3DGrad(args as CpuArgs);
  }
  const dx = backend.makeOutput(input.shape, 'float32');
  const [n, d, h, w, c] = input.shape as Shape5;
  const simd = simdKernels(backend)!;
  simd.max_pool3d_grad_2x2x2(addressOf(backend, input), addressOf(backend, dy), addressOf(backend, dx), n, d, h, w, c);
  return dx;
}
