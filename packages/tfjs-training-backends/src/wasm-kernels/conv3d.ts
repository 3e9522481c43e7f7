/**
 * The 3D convolution kernels for the wasm backend: Conv3D, Conv3DBackpropInputV2 (also the forward pass of
 * conv3dTranspose) and Conv3DBackpropFilterV2. Stock tfjs-backend-wasm 4.22 computes Conv3D in a naive loop (a
 * 3D U-Net step took over 30 s) and its two gradient kernels give wrong values. Paths, by geometry:
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
import { tf } from '../tf.js';
import { callStock, fallBackToStock, release, reshape, transpose, type TensorInfo, type WasmBackend } from './stock.js';
import { addressOf, simdKernels, withScratch } from './simd.js';
import { viaCpuBackend } from './cpu-bridge.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Shape5 = [number, number, number, number, number];
type Triple = number | [number, number, number];
type Pad3D = 'same' | 'valid' | number;
type CpuArgs = Parameters<tf.KernelFunc>[0];

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
interface Tiling {
  tile: [number, number, number];
  positions: number;
  wide: boolean;
}
const F222: Tiling = { tile: [2, 2, 2], positions: 64, wide: false };
const F244: Tiling = { tile: [2, 4, 4], positions: 144, wide: true };

/** The tiling for an output [od, oh, ow]: F(2x4x4) where height and width are wide enough, else F(2x2x2). */
export function winogradTiling(out: number[]): 'F(2x2x2)' | 'F(2x4x4)' {
  return out[1]! >= WINOGRAD_WIDE_MIN_SIDE && out[2]! >= WINOGRAD_WIDE_MIN_SIDE ? 'F(2x4x4)' : 'F(2x2x2)';
}
const tilingFor = (out: number[]): Tiling => (winogradTiling(out) === 'F(2x4x4)' ? F244 : F222);

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

const winogradForward = (info: tf.backend_util.Conv3DInfo): boolean =>
  winogradApplies([info.filterDepth, info.filterHeight, info.filterWidth], info.inChannels, info.outChannels, [
    info.outDepth,
    info.outHeight,
    info.outWidth,
  ]);
const winogradInput = (info: tf.backend_util.Conv3DInfo): boolean =>
  winogradApplies([info.filterDepth, info.filterHeight, info.filterWidth], info.outChannels, info.inChannels, [
    info.inDepth,
    info.inHeight,
    info.inWidth,
  ]);

/** Output (n, d, i) rows per cache-resident run of the filter-gradient kernel, as ~128 output voxels. */
const FILTER_GRAD_RUN_VOXELS = 128;

const cpuBackpropInput = viaCpuBackend('Conv3DBackpropInputV2');
const cpuBackpropFilter = viaCpuBackend('Conv3DBackpropFilterV2');

function convInfo(
  xShape: Shape5,
  filterShape: Shape5,
  strides: Triple,
  pad: Pad3D,
  dilations: Triple = 1,
): tf.backend_util.Conv3DInfo {
  return tf.backend_util.computeConv3DInfo(xShape, filterShape, strides, dilations, pad, false, 'channelsLast');
}

const unitDilation = (info: tf.backend_util.Conv3DInfo): boolean =>
  info.dilationDepth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
const unitStride = (info: tf.backend_util.Conv3DInfo): boolean =>
  info.strideDepth === 1 && info.strideHeight === 1 && info.strideWidth === 1;
const pointwise = (info: tf.backend_util.Conv3DInfo): boolean =>
  info.filterDepth === 1 && info.filterHeight === 1 && info.filterWidth === 1;
const strideOf = (info: tf.backend_util.Conv3DInfo): [number, number, number] => [
  info.strideDepth,
  info.strideHeight,
  info.strideWidth,
];
const noPadding = (info: tf.backend_util.Conv3DInfo): boolean => {
  const { front, back, top, bottom, left, right } = info.padInfo;
  return [front, back, top, bottom, left, right].every((p) => p === 0);
};

/** Kernel == stride, no padding, the input an exact grid of blocks: every input voxel in exactly one window. */
function exactBlocks(info: tf.backend_util.Conv3DInfo): boolean {
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
function forwardPads(info: tf.backend_util.Conv3DInfo): number[] {
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
function flippedPads(info: tf.backend_util.Conv3DInfo): number[] {
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

/** Zero-pads x [N, D, H, W, C] by pads [front, back, top, bottom, left, right] (all >= 0) in the SIMD module. */
function pad3d(backend: WasmBackend, x: TensorInfo, pads: number[]): TensorInfo {
  if (pads.every((p) => p === 0)) return x;
  const simd = simdKernels(backend)!;
  const [n, d, h, w, c] = x.shape as Shape5;
  const [f, b, t, bo, l, r] = pads as [number, number, number, number, number, number];
  const out = backend.makeOutput([n, d + f + b, h + t + bo, w + l + r, c], 'float32');
  simd.pad3d(addressOf(backend, x), addressOf(backend, out), n, d, h, w, c, f, b, t, bo, l, r);
  return out;
}

/** out = conv3d(x, filter), stride 1, after padding x by `pads`. */
function simdConv3d(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, pads: number[]): TensorInfo {
  const simd = simdKernels(backend)!;
  const xPad = pad3d(backend, x, pads);
  const [n, dp, hp, wp, ci] = xPad.shape as Shape5;
  const [kd, kh, kw, , co] = filter.shape as Shape5;
  const [od, oh, ow] = [dp - kd + 1, hp - kh + 1, wp - kw + 1];
  const out = backend.makeOutput([n, od, oh, ow, co], 'float32');
  simd.conv3d_s1(
    addressOf(backend, xPad),
    addressOf(backend, filter),
    addressOf(backend, out),
    n,
    dp,
    hp,
    wp,
    ci,
    od,
    oh,
    ow,
    co,
    kd,
    kh,
    kw,
    conv3dChannelChunk(kd * kh * kw, ci),
  );
  if (xPad !== x) release(backend, xPad);
  return out;
}

/** pads extended at the back so the padded input covers whole output tiles (winograd3d.c's contract). */
function tilePads(x: TensorInfo, pads: number[], tiling: Tiling): number[] {
  const [, d, h, w] = x.shape as Shape5;
  return [d, h, w].flatMap((side, axis) => {
    const front = pads[2 * axis]!;
    const out = side + front + pads[2 * axis + 1]! - 2;
    const tile = tiling.tile[axis]!;
    return [front, tile * Math.ceil(out / tile) + 2 - side - front];
  });
}

/** Scratch floats of one block's transformed tiles (winograd3d.c: each position's matrices padded by 16 floats). */
const winogradTileFloats = (tiling: Tiling, block: number, ci: number, co: number): number =>
  tiling.positions * (block * (ci + co) + 32);

/** out = conv3d(x, filter) for a 3x3x3 filter, stride 1, after padding x by `pads`, in Winograd form. */
function winogradConv3d(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, pads: number[]): TensorInfo {
  const simd = simdKernels(backend)!;
  const [n, d, h, w, ci] = x.shape as Shape5;
  const co = (filter.shape as Shape5)[4];
  const [od, oh, ow] = [d + pads[0]! + pads[1]! - 2, h + pads[2]! + pads[3]! - 2, w + pads[4]! + pads[5]! - 2];
  const tiling = tilingFor([od, oh, ow]);
  const xPad = pad3d(backend, x, tilePads(x, pads, tiling));
  const [, dp, hp, wp] = xPad.shape as Shape5;
  const out = backend.makeOutput([n, od, oh, ow, co], 'float32');
  const block = winogradBlock(ci, co, tiling.positions);
  const filterFloats = tiling.positions * ci * co;
  const [transform, convolve] = tiling.wide
    ? [simd.winograd3d_filter_244, simd.winograd3d_conv_244]
    : [simd.winograd3d_filter, simd.winograd3d_conv];
  withScratch(backend, 4 * (filterFloats + winogradTileFloats(tiling, block, ci, co)), (scratch) => {
    transform(addressOf(backend, filter), scratch, ci, co);
    convolve(
      addressOf(backend, xPad),
      scratch,
      addressOf(backend, out),
      scratch + 4 * filterFloats,
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
  return out;
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

/** [rows, inner] x [inner, cols] in the stock BatchMatMul, as a [1, rows, cols] tensor. */
function matMul(
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  rows: number,
  inner: number,
  cols: number,
): TensorInfo {
  const a3 = reshape(backend, a, [1, rows, inner]);
  const b3 = reshape(backend, b, [1, inner, cols]);
  const product = callStock('BatchMatMul', backend, { a: a3, b: b3 }, { transposeA: false, transposeB: false });
  release(backend, a3, b3);
  return product;
}

/** x [N, D, H, W, C] <-> its blocks [N, D/bd, H/bh, W/bw, bd*bh*bw*C] (toBlocks false: blocks back to x). */
function rearrangeBlocks(
  backend: WasmBackend,
  source: TensorInfo,
  shape: Shape5,
  block: [number, number, number],
  toBlocks: boolean,
): TensorInfo {
  const simd = simdKernels(backend)!;
  const [n, d, h, w, c] = shape;
  const [bd, bh, bw] = block;
  const out = backend.makeOutput(toBlocks ? [n, d / bd, h / bh, w / bw, bd * bh * bw * c] : shape, 'float32');
  const [x, blocks] = toBlocks ? [source, out] : [out, source];
  simd.blocks3d(addressOf(backend, x), addressOf(backend, blocks), n, d, h, w, c, bd, bh, bw, toBlocks ? 1 : 0);
  return out;
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
