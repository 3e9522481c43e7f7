import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';
import {
  CONV_GEOMETRIES,
  convInfo,
  describeGeometry,
  outputShape,
  type ConvGeometry,
} from './helpers/conv-geometries.js';
import { backpropFilterPath } from '../src/wasm-kernels/conv2d-backprop-filter.js';
import { setSimdKernelsEnabled } from '../src/wasm-kernels/simd.js';
import type { WasmBackend } from '../src/wasm-kernels/stock.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

function filterGradientOf(g: ConvGeometry, index: number): () => tf.Tensor {
  const dyShape = outputShape(g);
  return () => {
    const x = tf.tensor4d(seededValues(g.n * g.h * g.w * g.ci, 100 + index), [g.n, g.h, g.w, g.ci]);
    const dy = tf.tensor4d(
      seededValues(
        dyShape.reduce((a, b) => a * b, 1),
        200 + index,
      ),
      dyShape,
    );
    return tf
      .engine()
      .runKernel(
        'Conv2DBackpropFilter',
        { x, dy },
        { strides: g.stride, pad: g.pad, dataFormat: 'NHWC', filterShape: [g.kh, g.kw, g.ci, g.co] },
      ) as tf.Tensor;
  };
}

for (const [index, g] of CONV_GEOMETRIES.entries()) {
  test.serial(`Conv2DBackpropFilter on wasm matches cpu: ${describeGeometry(g)}`, async (t) => {
    const worst = await compareBackends(filterGradientOf(g, index));
    t.true(worst <= 1e-4, `relative difference ${worst}`);
  });
}

/**
 * Geometries for the SIMD kernel (Co a multiple of 4): full 8-wide and 4-wide output-channel blocks, input
 * channels 1, 3, 5 and 16 (4-wide blocks plus single-channel remainders), batch 1 and 3, strides 1 to 3, same,
 * valid and explicit pads, odd sizes, and runs of output rows that straddle images (a 64-pixel row at most).
 */
const SIMD_GEOMETRIES: ConvGeometry[] = [
  { n: 3, h: 9, w: 11, ci: 1, co: 16, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 1, h: 13, w: 7, ci: 16, co: 8, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 3, h: 7, w: 9, ci: 3, co: 12, kh: 3, kw: 3, stride: 1, pad: 'valid' },
  { n: 2, h: 10, w: 8, ci: 5, co: 4, kh: 2, kw: 2, stride: 2, pad: 'valid' },
  { n: 2, h: 9, w: 7, ci: 4, co: 8, kh: 3, kw: 3, stride: 2, pad: 'same' },
  {
    n: 1,
    h: 11,
    w: 10,
    ci: 6,
    co: 4,
    kh: 3,
    kw: 2,
    stride: [3, 2],
    pad: [
      [0, 0],
      [2, 1],
      [0, 1],
      [0, 0],
    ],
  },
  { n: 3, h: 6, w: 64, ci: 8, co: 16, kh: 1, kw: 1, stride: 1, pad: 'valid' },
  { n: 2, h: 40, w: 33, ci: 16, co: 32, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 1, h: 8, w: 8, ci: 7, co: 20, kh: 5, kw: 5, stride: 1, pad: 'same' },
];

for (const [index, g] of SIMD_GEOMETRIES.entries()) {
  test.serial(
    `Conv2DBackpropFilter SIMD kernel and its XNNPACK fallback match cpu: ${describeGeometry(g)}`,
    async (t) => {
      await useBackend('wasm');
      t.is(backpropFilterPath(tf.backend() as unknown as WasmBackend, convInfo(g)), 'simd');
      t.true((await compareBackends(filterGradientOf(g, 50 + index))) <= 1e-4, 'simd');
      setSimdKernelsEnabled(false);
      try {
        await useBackend('wasm');
        t.is(backpropFilterPath(tf.backend() as unknown as WasmBackend, convInfo(g)), 'swapped-conv');
        t.true((await compareBackends(filterGradientOf(g, 50 + index))) <= 1e-4, 'swapped conv');
      } finally {
        setSimdKernelsEnabled(true);
      }
    },
  );
}

test.serial('the filter gradient of tf.conv2d through the tape matches cpu (stride 2, same, batch 3)', async (t) => {
  const worst = await compareBackends(() => {
    const x = tf.tensor4d(seededValues(3 * 9 * 8 * 2, 1), [3, 9, 8, 2]);
    const w = tf.tensor4d(seededValues(3 * 3 * 2 * 4, 2), [3, 3, 2, 4]);
    const weights = tf.tensor4d(seededValues(3 * 5 * 4 * 4, 3), [3, 5, 4, 4]);
    return tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, filter as tf.Tensor4D, 2, 'same'), weights)))(w);
  });
  t.true(worst <= 1e-4, `relative difference ${worst}`);
});

test.serial('stock wasm has no Conv2DBackpropFilter: rwseg adds it', async (t) => {
  await useBackend('wasm');
  const { WASM_TRAINING_KERNELS } = await import('../src/wasm-kernels/register.js');
  t.is(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc, WASM_TRAINING_KERNELS['Conv2DBackpropFilter']);
});
