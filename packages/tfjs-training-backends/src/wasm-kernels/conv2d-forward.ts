/**
 * Conv2D and FusedConv2D for the wasm backend: stride-1, dilation-1 NHWC convolutions with few enough input
 * channels run in rwseg's WebAssembly SIMD kernel (simd/kernels.c conv2d_s1) on the zero-padded input, about 25%
 * faster than XNNPACK on the U-Net's high-resolution levels; everything else (strides, dilations, wide inputs where
 * XNNPACK wins, fused activations other than linear, prelu) goes to the stock kernels.
 *
 * Layouts: x [N, H, W, Ci], filter [kh, kw, Ci, Co], bias [Co], result [N, Ho, Wo, Co].
 */
import { tf } from '../tf.js';
import { callStock, fallBackToStock, release, type TensorInfo, type WasmBackend, type KernelArgs } from './stock.js';
import { addressOf, simdKernels } from './simd.js';

/**
 * Largest kh*kw*Ci for the SIMD kernel: its 8-output-channel slice of the filter (kh*kw*Ci*32 bytes) must stay in
 * the L1 cache. Measured on the U-Net's layers: 0.75x XNNPACK's time at 16-32 input channels, 0.9x at 128 (3x3),
 * 1.25x at 256.
 */
const SIMD_MAX_REDUCTION = 3 * 3 * 128;

/** Whether a convolution runs in the SIMD kernel; exported so tests can prove both paths are exercised. */
export function simdConvApplies(backend: WasmBackend, info: tf.backend_util.Conv2DInfo): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.outChannels % 4 === 0 &&
    info.filterHeight * info.filterWidth * info.inChannels <= SIMD_MAX_REDUCTION &&
    info.outHeight > 0 &&
    info.outWidth > 0 &&
    simdKernels(backend) !== undefined
  );
}

/**
 * out = conv(x, filter) with stride 1, x padded by [top, bottom] rows and [left, right] columns (all >= 0).
 * Shared with Conv2DBackpropInput, which convolves dy with the flipped kernel.
 */
export function simdConv2d(
  backend: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  pads: [number, number, number, number],
): TensorInfo {
  const simd = simdKernels(backend);
  if (simd === undefined) throw new Error('rwseg wasm kernels: the SIMD module is not loaded');
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const [kh, kw, , co] = filter.shape as [number, number, number, number];
  const [top, bottom, left, right] = pads;
  const hp = h + top + bottom;
  const wp = w + left + right;
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
  const out = backend.makeOutput([n, hp - kh + 1, wp - kw + 1, co], 'float32');
  simd.conv2d_s1(
    addressOf(backend, xPad),
    addressOf(backend, filter),
    addressOf(backend, out),
    n,
    hp,
    wp,
    ci,
    hp - kh + 1,
    wp - kw + 1,
    co,
    kh,
    kw,
  );
  if (xPad !== x) release(backend, xPad);
  return out;
}

function convInfo(x: TensorInfo, filter: TensorInfo, attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dilations: [number, number] | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
}

/** Pads that make a stride-1 valid convolution of the padded input produce exactly info's output. */
function forwardPads(info: tf.backend_util.Conv2DInfo): [number, number, number, number] | undefined {
  const { top, left } = info.padInfo;
  const bottom = info.outHeight + info.filterHeight - 1 - info.inHeight - top;
  const right = info.outWidth + info.filterWidth - 1 - info.inWidth - left;
  return top >= 0 && left >= 0 && bottom >= 0 && right >= 0 ? [top, bottom, left, right] : undefined;
}

export function conv2D(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return fallBackToStock('Conv2D', args);
  const info = convInfo(x, filter, args.attrs as tf.NamedAttrMap);
  const pads = forwardPads(info);
  if (pads === undefined || !simdConvApplies(backend, info)) return fallBackToStock('Conv2D', args);
  return simdConv2d(backend, x, filter, pads);
}

export function fusedConv2D(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x, filter, bias, preluActivationWeights } = args.inputs as {
    x: TensorInfo;
    filter: TensorInfo;
    bias?: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  const { activation } = args.attrs as { activation?: string };
  const simple =
    (activation ?? 'linear') === 'linear' &&
    preluActivationWeights == null &&
    x.dtype === 'float32' &&
    filter.dtype === 'float32';
  if (!simple || (bias != null && (bias.dtype !== 'float32' || bias.shape.length !== 1)))
    return fallBackToStock('FusedConv2D', args);
  const info = convInfo(x, filter, args.attrs as tf.NamedAttrMap);
  const pads = forwardPads(info);
  if (pads === undefined || !simdConvApplies(backend, info) || (bias != null && bias.shape[0] !== info.outChannels))
    return fallBackToStock('FusedConv2D', args);
  const out = simdConv2d(backend, x, filter, pads);
  if (bias != null) {
    // In place: each element is read once before it is written.
    const simd = simdKernels(backend);
    const address = addressOf(backend, out);
    simd?.channel_binary(
      address,
      addressOf(backend, bias),
      address,
      tf.util.sizeFromShape(out.shape) / info.outChannels,
      info.outChannels,
      1,
      0,
    );
  }
  return out;
}
