/**
 * The geometry shared by the three 3D convolution kernels (conv3d-forward.ts, conv3d-backprop-input.ts,
 * conv3d-backprop-filter.ts): their shape tests, the pads that turn each into a stride-1 valid convolution, and
 * where Winograd applies. Layouts (NDHWC only): x [N, D, H, W, Ci], filter [kd, kh, kw, Ci, Co], y and dy
 * [N, Do, Ho, Wo, Co].
 */
import { tf } from '../tf.js';

export type Shape5 = [number, number, number, number, number];
export type Triple = number | [number, number, number];
export type Pad3D = 'same' | 'valid' | number;
export type CpuArgs = Parameters<tf.KernelFunc>[0];

export type Conv3DPath = 'winograd' | 'simd' | 'matmul' | 'blocks-matmul' | 'cpu' | 'stock';

/**
 * Largest kd*kh*kw*chunk of input channels one pass of the SIMD convolution reduces over: its 8-output-channel
 * filter slice (chunk*taps*32 bytes) then stays in the L1 cache; wider inputs take several passes.
 */
const SIMD_MAX_REDUCTION = 27 * 32;

/** Input channels per pass of conv3d_s1 (a multiple of 4 where it can be). */
export function conv3dChannelChunk(taps: number, ci: number): number {
  const fit = Math.floor(SIMD_MAX_REDUCTION / taps);
  return fit >= ci ? ci : Math.max(4, fit - (fit % 4));
}

/**
 * Where Winograd beats the direct kernel (bench/wasm-kernels.mjs --only winograd, both in one run): a 3x3x3
 * stride-1 convolution with at least WINOGRAD_MIN_CHANNELS input channels (the reduction of its matrix products;
 * the first layer, 1 channel, stays direct) and an output at least WINOGRAD_MIN_SIDE on each side (below it most of
 * each 2x2x2 tile is padding).
 */
const WINOGRAD_MIN_CHANNELS = 4;
const WINOGRAD_MIN_SIDE = 2;

/**
 * Output height and width from which the F(2x4x4, 3x3x3) tiling beats F(2x2x2, 3x3x3) (measured: 1.25-1.45x
 * faster at 16-40 per side, slower at 8-10 with 64 channels and at 4-5 with 128, where its 4x4 tiles are mostly
 * padding and its [144, ci, co] filter transform outweighs the products).
 */
const WINOGRAD_WIDE_MIN_SIDE = 16;

/** Floats of transformed tiles (positions * tiles * (ci + co)) one fused Winograd pass keeps: ~512 KiB, in L2. */
const WINOGRAD_SCRATCH_FLOATS = 128 * 1024;

let winogradEnabled = true;

/** false: the direct kernels take the Winograd path's shapes too (benchmarks and tests compare the two). */
export function setWinogradEnabled(on: boolean): void {
  winogradEnabled = on;
}

/** A Winograd tiling: output tile [d, h, w] and tile positions (input tile voxels). */
export interface Tiling {
  tile: [number, number, number];
  positions: number;
  wide: boolean;
}
export const F222: Tiling = { tile: [2, 2, 2], positions: 64, wide: false };
export const F244: Tiling = { tile: [2, 4, 4], positions: 144, wide: true };

/** The tiling for an output [od, oh, ow]: F(2x4x4) where height and width are wide enough, else F(2x2x2). */
export function winogradTiling(out: number[]): 'F(2x2x2)' | 'F(2x4x4)' {
  return out[1]! >= WINOGRAD_WIDE_MIN_SIDE && out[2]! >= WINOGRAD_WIDE_MIN_SIDE ? 'F(2x4x4)' : 'F(2x2x2)';
}
export const tilingFor = (out: number[]): Tiling => (winogradTiling(out) === 'F(2x4x4)' ? F244 : F222);

/** Tiles per fused Winograd pass: a multiple of 4 (the product's register blocks), at least 4. */
export function winogradBlock(ci: number, co: number, positions = 64): number {
  const fit = Math.floor(WINOGRAD_SCRATCH_FLOATS / (positions * (ci + co)));
  return Math.max(4, fit - (fit % 4));
}

/**
 * Whether a stride-1 convolution with kernel [kd, kh, kw], `reduced` input channels (Ci of the forward pass, Co of
 * the input gradient's), `produced` output channels and output [od, oh, ow] takes the Winograd path.
 */
export function winogradApplies(kernel: number[], reduced: number, produced: number, out: number[]): boolean {
  return (
    winogradEnabled &&
    kernel.every((k) => k === 3) &&
    reduced >= WINOGRAD_MIN_CHANNELS &&
    produced % 4 === 0 &&
    out.every((side) => side >= WINOGRAD_MIN_SIDE)
  );
}

export const winogradForward = (info: tf.backend_util.Conv3DInfo): boolean =>
  winogradApplies([info.filterDepth, info.filterHeight, info.filterWidth], info.inChannels, info.outChannels, [
    info.outDepth,
    info.outHeight,
    info.outWidth,
  ]);
export const winogradInput = (info: tf.backend_util.Conv3DInfo): boolean =>
  winogradApplies([info.filterDepth, info.filterHeight, info.filterWidth], info.outChannels, info.inChannels, [
    info.inDepth,
    info.inHeight,
    info.inWidth,
  ]);

export function convInfo(
  xShape: Shape5,
  filterShape: Shape5,
  strides: Triple,
  pad: Pad3D,
  dilations: Triple = 1,
): tf.backend_util.Conv3DInfo {
  return tf.backend_util.computeConv3DInfo(xShape, filterShape, strides, dilations, pad, false, 'channelsLast');
}

export const unitDilation = (info: tf.backend_util.Conv3DInfo): boolean =>
  info.dilationDepth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
export const unitStride = (info: tf.backend_util.Conv3DInfo): boolean =>
  info.strideDepth === 1 && info.strideHeight === 1 && info.strideWidth === 1;
export const pointwise = (info: tf.backend_util.Conv3DInfo): boolean =>
  info.filterDepth === 1 && info.filterHeight === 1 && info.filterWidth === 1;
export const strideOf = (info: tf.backend_util.Conv3DInfo): [number, number, number] => [
  info.strideDepth,
  info.strideHeight,
  info.strideWidth,
];
export const noPadding = (info: tf.backend_util.Conv3DInfo): boolean => {
  const { front, back, top, bottom, left, right } = info.padInfo;
  return [front, back, top, bottom, left, right].every((p) => p === 0);
};

/** Kernel == stride, no padding, the input an exact grid of blocks: every input voxel in exactly one window. */
export function exactBlocks(info: tf.backend_util.Conv3DInfo): boolean {
  const kernelIsStride =
    info.filterDepth === info.strideDepth &&
    info.filterHeight === info.strideHeight &&
    info.filterWidth === info.strideWidth;
  const exactGrid =
    info.inDepth === info.outDepth * info.strideDepth &&
    info.inHeight === info.outHeight * info.strideHeight &&
    info.inWidth === info.outWidth * info.strideWidth;
  return kernelIsStride && exactGrid && noPadding(info) && unitDilation(info);
}

/** Pads [front, back, top, bottom, left, right] that make a stride-1 valid convolution yield info's output. */
export function forwardPads(info: tf.backend_util.Conv3DInfo): number[] {
  const { front, top, left } = info.padInfo;
  return [
    front,
    info.outDepth + info.filterDepth - 1 - info.inDepth - front,
    top,
    info.outHeight + info.filterHeight - 1 - info.inHeight - top,
    left,
    info.outWidth + info.filterWidth - 1 - info.inWidth - left,
  ];
}

/** Pads of the stride-1 convolution of dy with the flipped kernel that lands on x's grid. */
export function flippedPads(info: tf.backend_util.Conv3DInfo): number[] {
  const front = info.filterDepth - 1 - info.padInfo.front;
  const top = info.filterHeight - 1 - info.padInfo.top;
  const left = info.filterWidth - 1 - info.padInfo.left;
  return [
    front,
    info.inDepth + info.filterDepth - 1 - info.outDepth - front,
    top,
    info.inHeight + info.filterHeight - 1 - info.outHeight - top,
    left,
    info.inWidth + info.filterWidth - 1 - info.outWidth - left,
  ];
}
