/**
 * Conv2DBackpropFilter for the wasm backend, which has none (so stock wasm cannot train a conv net).
 *
 * Layouts: x [N, H, W, Ci], dy [N, Ho, Wo, Co], result dW [kh, kw, Ci, Co] (NHWC, HWIO).
 * dW[a, b, ci, co] = sum_{n,i,j} x[n, i*s + a - padTop, j*s + b - padLeft, ci] * dy[n, i, j, co]
 * Two implementations:
 *  - 'simd' (Co a multiple of 4, SIMD module loaded): rwseg's WebAssembly SIMD kernel on the zero-padded x
 *    (simd/kernels.c conv2d_filter_grad), which keeps blocks of dW in registers over cache-sized runs of output
 *    rows: 2.5x faster than the swapped conv below on the benchmark U-Net, and faster than XNNPACK's forward conv;
 *  - 'swapped-conv': a convolution with the roles swapped: batch <- Ci, channels <- N, the "filter" is dy laid
 *    out as [Ho, Wo, N, Co], applied with dilation = the forward stride, run by XNNPACK. Its reduction runs over
 *    Ho*Wo pointers of N floats each, which is why it costs about twice the forward conv.
 */
import { tf } from '../tf.js';
import { callStock, release, transpose, type ConvGradAttrs, type TensorInfo, type WasmBackend } from './stock.js';
import { addressOf, simdKernels } from './simd.js';

/**
 * Output pixels per cache-resident run of the SIMD kernel (at least one output row). Measured on the U-Net's 3x3
 * layers: 64-128 is 5-10% faster than 512 from 32 channels up, and no different at 16.
 */
const SIMD_RUN_PIXELS = 128;

export type BackpropFilterPath = 'simd' | 'swapped-conv';

/** Which implementation a geometry takes; exported so tests can prove each path is exercised. */
export function backpropFilterPath(backend: WasmBackend, info: tf.backend_util.Conv2DInfo): BackpropFilterPath {
  return info.outChannels % 4 === 0 && simdKernels(backend) !== undefined ? 'simd' : 'swapped-conv';
}

interface BackpropFilterAttrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

export function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as BackpropFilterAttrs;
  if (dataFormat === 'NCHW')
    throw new Error(`rwseg wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  return filterGradient(backend, x, dy, info);
}

/** The filter gradient of a 2D convolution described by `info`. */
export function filterGradient(
  backend: WasmBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  return backpropFilterPath(backend, info) === 'simd'
    ? viaSimd(backend, x, dy, info)
    : viaSwappedConv(backend, x, dy, info);
}

function viaSimd(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const simd = simdKernels(backend);
  if (simd === undefined) throw new Error('rwseg wasm kernels: the SIMD module is not loaded');
  const {
    batchSize: n,
    filterHeight: kh,
    filterWidth: kw,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outHeight: ho,
    outWidth: wo,
    outChannels: co,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const { top, left } = info.padInfo;
  // Pad so every tap of every output pixel reads inside the buffer; rows past the last one read are never used.
  const bottom = Math.max(0, (ho - 1) * sh + kh - h - top);
  const right = Math.max(0, (wo - 1) * sw + kw - w - left);
  const xPad =
    top + bottom + left + right === 0
      ? x
      : callStock(
          'PadV2',
          backend,
          { x },
          {
            paddings: [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ],
            constantValue: 0,
          },
        );
  const dW = backend.makeOutput([kh, kw, ci, co], 'float32');
  const runRows = Math.max(1, Math.round(SIMD_RUN_PIXELS / Math.max(1, wo)));
  simd.conv2d_filter_grad(
    addressOf(backend, xPad),
    addressOf(backend, dy),
    addressOf(backend, dW),
    n,
    h + top + bottom,
    w + left + right,
    ci,
    ho,
    wo,
    co,
    kh,
    kw,
    sh,
    sw,
    runRows,
  );
  if (xPad !== x) release(backend, xPad);
  return dW;
}

function viaSwappedConv(
  backend: WasmBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const {
    filterHeight: kh,
    filterWidth: kw,
    inHeight: h,
    inWidth: w,
    outHeight: ho,
    outWidth: wo,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const { top, left } = info.padInfo;
  // Pad the far side so the swapped conv yields at least kh x kw outputs; extra rows only read zeros.
  const bottom = Math.max(0, kh - 1 + (ho - 1) * sh + 1 - h - top);
  const right = Math.max(0, kw - 1 + (wo - 1) * sw + 1 - w - left);
  const xT = transpose(backend, x, [3, 1, 2, 0]); // [Ci, H, W, N]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
  const swapped = callStock(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
    },
  ); // [Ci, >=kh, >=kw, Co]
  release(backend, xT, dyT);
  let cropped = swapped;
  if (swapped.shape[1] !== kh || swapped.shape[2] !== kw) {
    cropped = callStock(
      'Slice',
      backend,
      { x: swapped },
      { begin: [0, 0, 0, 0], size: [swapped.shape[0], kh, kw, swapped.shape[3]] },
    );
    release(backend, swapped);
  }
  const dW = transpose(backend, cropped, [1, 2, 0, 3]); // [kh, kw, Ci, Co]
  release(backend, cropped);
  return dW;
}
