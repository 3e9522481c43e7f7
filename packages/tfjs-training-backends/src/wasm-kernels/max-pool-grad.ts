/**
 * MaxPoolGrad for the wasm backend. The stock kernel (tfjs-backend-wasm 4.22) drops the gradient of every pooling
 * window whose values are all negative (it seems to start its running maximum at 0), which in a U-Net means
 * every window of negative LeakyReLU outputs: training silently goes wrong. This one follows the cpu backend: the
 * gradient goes to the first maximum of each window (row-major), windows clipped at the padded border. 2x2 windows
 * with stride 2 (a U-Net's pooling) run in rwseg's SIMD kernel (simd/kernels.c), everything else in JavaScript.
 *
 * Layouts: x [N, H, W, C], dy [N, Ho, Wo, C], dx [N, H, W, C].
 */
import { tf } from '../tf.js';
import type { TensorInfo, WasmBackend } from './stock.js';
import { addressOf, simdKernels } from './simd.js';

/** Whether a pooling geometry runs in the SIMD kernel: 2x2 windows, stride 2, no padding (a U-Net's max-pool). */
export function maxPoolGradUsesSimd(backend: WasmBackend, info: tf.backend_util.Conv2DInfo): boolean {
  const {
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    outHeight,
    outWidth,
    inHeight,
    inWidth,
  } = info;
  return (
    filterHeight === 2 &&
    filterWidth === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    2 * outHeight <= inHeight &&
    2 * outWidth <= inWidth &&
    simdKernels(backend) !== undefined
  );
}

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function maxPoolGrad(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const dx = backend.makeOutput(input.shape, 'float32');
  const simd = simdKernels(backend);
  if (simd !== undefined && maxPoolGradUsesSimd(backend, info)) {
    simd.max_pool_grad_2x2(
      addressOf(backend, input),
      addressOf(backend, dy),
      addressOf(backend, dx),
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      info.outHeight,
      info.outWidth,
    );
    return dx;
  }
  maxPoolGradInto(
    backend.typedArrayFromHeap(input) as Float32Array,
    backend.typedArrayFromHeap(dy) as Float32Array,
    backend.typedArrayFromHeap(dx) as Float32Array,
    info,
  );
  return dx;
}

/** Accumulates dy into dx at each window's first maximum of x. Exported for tests on plain arrays. */
export function maxPoolGradInto(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: channels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    effectiveFilterHeight,
    effectiveFilterWidth,
  } = info;
  const { top, left } = info.padInfo;
  dx.fill(0);
  const rowStride = inWidth * channels;
  const imageStride = inHeight * rowStride;
  let dyIndex = 0;
  for (let n = 0; n < batchSize; n++) {
    const image = n * imageStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const yStart = oy * strideHeight - top;
      for (let ox = 0; ox < outWidth; ox++) {
        const xStart = ox * strideWidth - left;
        for (let c = 0; c < channels; c++, dyIndex++) {
          let best = -Infinity;
          let bestIndex = -1;
          for (let fy = 0; fy < effectiveFilterHeight; fy += dilationHeight) {
            const y = yStart + fy;
            if (y < 0 || y >= inHeight) continue;
            const row = image + y * rowStride + c;
            for (let fx = 0; fx < effectiveFilterWidth; fx += dilationWidth) {
              const xx = xStart + fx;
              if (xx < 0 || xx >= inWidth) continue;
              const index = row + xx * channels;
              const value = x[index] as number;
              if (value > best || bestIndex < 0) {
                best = value;
                bestIndex = index;
              }
            }
          }
          if (bestIndex >= 0) dx[bestIndex] = (dx[bestIndex] as number) + (dy[dyIndex] as number);
        }
      }
    }
  }
}
