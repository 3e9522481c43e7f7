/**
 * Conv2DBackpropFilter for the wasm backend, which has none (so stock wasm cannot train a conv net).
 *
 * Layouts: x [N, H, W, Ci], dy [N, Ho, Wo, Co], result dW [kh, kw, Ci, Co] (NHWC, HWIO).
 * dW[a, b, ci, co] = sum_{n,i,j} x[n, i*s + a - padTop, j*s + b - padLeft, ci] * dy[n, i, j, co]
 * which is a convolution with the roles swapped: batch <- Ci, channels <- N, the "filter" is dy laid out as
 * [Ho, Wo, N, Co], applied with dilation = the forward stride. XNNPACK then does the heavy lifting.
 */
import { tf } from '../../tf.js';
import { callStock, release, transpose, type ConvGradAttrs, type TensorInfo, type WasmBackend } from './stock.js';

interface BackpropFilterAttrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

export function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as BackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error(`rwseg wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  return filterGradient(backend, x, dy, info);
}

/** The filter gradient of a 2D convolution described by `info` (shared with the 3D-free U-Net paths). */
export function filterGradient(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Pad the far side so the swapped conv yields at least kh x kw outputs; extra rows only read zeros.
  const bottom = Math.max(0, (kh - 1) + (ho - 1) * sh + 1 - h - top);
  const right = Math.max(0, (kw - 1) + (wo - 1) * sw + 1 - w - left);
  const xT = transpose(backend, x, [3, 1, 2, 0]); // [Ci, H, W, N]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
  const swapped = callStock('Conv2D', backend, { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [sh, sw],
  }); // [Ci, >=kh, >=kw, Co]
  release(backend, xT, dyT);
  let cropped = swapped;
  if (swapped.shape[1] !== kh || swapped.shape[2] !== kw) {
    cropped = callStock('Slice', backend, { x: swapped }, { begin: [0, 0, 0, 0], size: [swapped.shape[0], kh, kw, swapped.shape[3]] });
    release(backend, swapped);
  }
  const dW = transpose(backend, cropped, [1, 2, 0, 3]); // [kh, kw, Ci, Co]
  release(backend, cropped);
  return dW;
}
