/**
 * A faster Conv2DBackpropInput for the wasm backend (also the forward pass of conv2dTranspose). The stock kernel
 * is a naive loop, about two thirds of a U-Net training step. Two geometries cover a U-Net:
 *  - stride 1: dx = conv2d(dy, W flipped in space with in/out channels swapped), padded so dx keeps x's size;
 *  - kernel == stride, no padding (transposed-conv up-sampling): each dy pixel writes its own kh x kw block,
 *    so dx = depthToSpace(dy [N*Ho*Wo, Co] x W^T [Co, kh*kw*Ci]).
 * Every other geometry goes to the stock kernel.
 *
 * Layouts: dy [N, Ho, Wo, Co], filter [kh, kw, Ci, Co], dx [N, H, W, Ci] (NHWC, HWIO).
 */
import { tf } from '../tf.js';
import {
  callStock,
  release,
  reshape,
  transpose,
  type ConvGradAttrs,
  type TensorInfo,
  type WasmBackend,
} from './stock.js';
import { simdConv2d, simdConvApplies } from './conv2d-forward.js';
import { depthToSpace } from './depth-to-space.js';

interface BackpropInputAttrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

export type BackpropInputPath = 'conv2d-flipped' | 'matmul-depth-to-space' | 'stock';

/** Which implementation a geometry takes; exported so tests can prove each path is exercised. */
export function backpropInputPath(info: tf.backend_util.Conv2DInfo): BackpropInputPath {
  if (info.dataFormat !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1) return 'stock';
  const { top, bottom, left, right } = info.padInfo;
  if (info.strideHeight === 1 && info.strideWidth === 1) {
    const pads = flippedPads(info);
    return pads.every((p) => p >= 0) ? 'conv2d-flipped' : 'stock';
  }
  const blocks = info.filterHeight === info.strideHeight && info.filterWidth === info.strideWidth;
  const exact =
    info.inHeight === info.outHeight * info.strideHeight && info.inWidth === info.outWidth * info.strideWidth;
  if (blocks && exact && top === 0 && bottom === 0 && left === 0 && right === 0) return 'matmul-depth-to-space';
  return 'stock';
}

/** Pads [top, bottom, left, right] of the stride-1 conv that maps dy back onto x's grid. */
function flippedPads(info: tf.backend_util.Conv2DInfo): [number, number, number, number] {
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo } = info;
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  return [top, h + kh - 1 - ho - top, left, w + kw - 1 - wo - left];
}

export function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as BackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  switch (backpropInputPath(info)) {
    case 'conv2d-flipped':
      return viaFlippedConv(backend, dy, filter, info);
    case 'matmul-depth-to-space':
      return viaDepthToSpace(backend, dy, filter, info);
    case 'stock':
      return callStock(
        'Conv2DBackpropInput',
        backend,
        args.inputs as Record<string, TensorInfo>,
        args.attrs as Record<string, unknown>,
      );
  }
}

/**
 * filter [kh, kw, Ci, Co] -> [kh, kw, Co, Ci] flipped in space. Flipping both spatial axes reverses the order of
 * the kh*kw taps, so it is a channel transpose followed by tap blocks copied in reverse order (the stock Reverse
 * kernel indexes element by element: 27 ms for a 3x3x256x256 filter against 1 ms for this).
 */
function flipAndSwap(backend: WasmBackend, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const swapped = transpose(backend, filter, [0, 1, 3, 2]);
  const taps = kh * kw;
  const block = ci * co;
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const source = backend.typedArrayFromHeap(swapped) as Float32Array;
  const target = backend.typedArrayFromHeap(out) as Float32Array;
  for (let t = 0; t < taps; t++) target.set(source.subarray((taps - 1 - t) * block, (taps - t) * block), t * block);
  release(backend, swapped);
  return out;
}

/** Whether the stride-1 path's convolution (dy: Co channels in, Ci out) runs in rwseg's SIMD kernel. */
export function flippedConvUsesSimd(backend: WasmBackend, info: tf.backend_util.Conv2DInfo): boolean {
  const flipped = {
    ...info,
    inChannels: info.outChannels,
    outChannels: info.inChannels,
    outHeight: info.inHeight,
    outWidth: info.inWidth,
  };
  return simdConvApplies(backend, flipped);
}

function viaFlippedConv(
  backend: WasmBackend,
  dy: TensorInfo,
  filter: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const [top, bottom, left, right] = flippedPads(info);
  const swapped = flipAndSwap(backend, filter);
  const dx = flippedConvUsesSimd(backend, info)
    ? simdConv2d(backend, dy, swapped, [top, bottom, left, right])
    : callStock(
        'Conv2D',
        backend,
        { x: dy, filter: swapped },
        {
          strides: [1, 1],
          pad: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dilations: [1, 1],
        },
      );
  release(backend, swapped);
  return dx;
}

function viaDepthToSpace(
  backend: WasmBackend,
  dy: TensorInfo,
  filter: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const {
    batchSize: n,
    outHeight: ho,
    outWidth: wo,
    outChannels: co,
    inChannels: ci,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  const rows = reshape(backend, dy, [1, n * ho * wo, co]);
  const wT = transpose(backend, filter, [3, 0, 1, 2]); // [Co, kh, kw, Ci]
  const wFlat = reshape(backend, wT, [1, co, kh * kw * ci]);
  const product = callStock('BatchMatMul', backend, { a: rows, b: wFlat }, { transposeA: false, transposeB: false });
  release(backend, rows, wT, wFlat);
  if (kh === kw) {
    const blocks = reshape(backend, product, [n, ho, wo, kh * kw * ci]);
    release(backend, product);
    const dx = depthToSpace({
      inputs: { x: blocks },
      backend,
      attrs: { blockSize: kh, dataFormat: 'NHWC' },
    }) as TensorInfo;
    release(backend, blocks);
    return dx;
  }
  // Rectangular blocks: [n, ho, wo, kh, kw, ci] -> [n, ho, kh, wo, kw, ci].
  const blocks = reshape(backend, product, [n, ho, wo, kh, kw, ci]);
  release(backend, product);
  const moved = transpose(backend, blocks, [0, 1, 3, 2, 4, 5]);
  release(backend, blocks);
  const dx = reshape(backend, moved, [n, ho * kh, wo * kw, ci]);
  release(backend, moved);
  return dx;
}
