/**
 * Building blocks of the 3D convolution kernels, at the TensorInfo level in the wasm heap: zero padding, the direct
 * stride-1 SIMD convolution (simd/kernels3d.c), the Winograd convolution (simd/winograd3d.c), a matrix product in
 * the stock BatchMatMul, and the regrouping of a volume into its non-overlapping blocks.
 */
import { conv3dChannelChunk, tilingFor, winogradBlock, type Shape5, type Tiling } from './conv3d-geometry.js';
import { simdKernels, addressOf, withScratch } from './simd.js';
import { callStock, release, reshape, type TensorInfo, type WasmBackend } from './stock.js';

/** Zero-pads x [N, D, H, W, C] by pads [front, back, top, bottom, left, right] (all >= 0) in the SIMD module. */
export function pad3d(backend: WasmBackend, x: TensorInfo, pads: number[]): TensorInfo {
  if (pads.every((p) => p === 0)) return x;
  const simd = simdKernels(backend)!;
  const [n, d, h, w, c] = x.shape as Shape5;
  const [f, b, t, bo, l, r] = pads as [number, number, number, number, number, number];
  const out = backend.makeOutput([n, d + f + b, h + t + bo, w + l + r, c], 'float32');
  simd.pad3d(addressOf(backend, x), addressOf(backend, out), n, d, h, w, c, f, b, t, bo, l, r);
  return out;
}

/** out = conv3d(x, filter), stride 1, after padding x by `pads`. */
export function simdConv3d(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, pads: number[]): TensorInfo {
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
export function tilePads(x: TensorInfo, pads: number[], tiling: Tiling): number[] {
  const [, d, h, w] = x.shape as Shape5;
  return [d, h, w].flatMap((side, axis) => {
    const front = pads[2 * axis]!;
    const out = side + front + pads[2 * axis + 1]! - 2;
    const tile = tiling.tile[axis]!;
    return [front, tile * Math.ceil(out / tile) + 2 - side - front];
  });
}

/** Scratch floats of one block's transformed tiles (winograd3d.c: each position's matrices padded by 16 floats). */
export const winogradTileFloats = (tiling: Tiling, block: number, ci: number, co: number): number =>
  tiling.positions * (block * (ci + co) + 32);

/** out = conv3d(x, filter) for a 3x3x3 filter, stride 1, after padding x by `pads`, in Winograd form. */
export function winogradConv3d(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, pads: number[]): TensorInfo {
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

/** [rows, inner] x [inner, cols] in the stock BatchMatMul, as a [1, rows, cols] tensor. */
export function matMul(
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
export function rearrangeBlocks(
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
