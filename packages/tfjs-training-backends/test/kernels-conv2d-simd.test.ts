import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { simdConvApplies } from '../src/wasm-kernels/conv2d-forward.js';
import { backpropInputPath, flippedConvUsesSimd } from '../src/wasm-kernels/conv2d-backprop-input.js';
import { setSimdKernelsEnabled } from '../src/wasm-kernels/simd.js';
import type { WasmBackend } from '../src/wasm-kernels/stock.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';
import { convInfo, describeGeometry, outputShape, type ConvGeometry } from './helpers/conv-geometries.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

/**
 * Stride-1 geometries for rwseg's SIMD convolution: output channels 4, 8, 12 and 16 (8-wide blocks plus a 4-wide
 * one), input channels 1, 3, 5 and 16, output widths that leave 1 to 3 pixels after the 4-pixel blocks, batch 1
 * and 3, kernels 1x1 to 5x5 and rectangular, same, valid and explicit pads.
 */
const GEOMETRIES: ConvGeometry[] = [
  { n: 3, h: 9, w: 11, ci: 1, co: 16, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 1, h: 13, w: 7, ci: 16, co: 8, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 3, h: 7, w: 10, ci: 3, co: 12, kh: 3, kw: 3, stride: 1, pad: 'valid' },
  { n: 2, h: 6, w: 9, ci: 5, co: 4, kh: 2, kw: 3, stride: 1, pad: 'same' },
  {
    n: 1,
    h: 11,
    w: 6,
    ci: 4,
    co: 8,
    kh: 3,
    kw: 2,
    stride: 1,
    pad: [
      [0, 0],
      [2, 1],
      [0, 1],
      [0, 0],
    ],
  },
  { n: 3, h: 5, w: 13, ci: 8, co: 4, kh: 1, kw: 1, stride: 1, pad: 'valid' },
  { n: 1, h: 8, w: 9, ci: 7, co: 20, kh: 5, kw: 5, stride: 1, pad: 'same' },
];

const wasmBackend = (): WasmBackend => tf.backend() as unknown as WasmBackend;

/** Runs `check` with the SIMD kernels, then with them switched off (the stock XNNPACK paths). */
async function bothPaths(check: (simd: boolean) => Promise<void>): Promise<void> {
  await check(true);
  setSimdKernelsEnabled(false);
  try {
    await check(false);
  } finally {
    setSimdKernelsEnabled(true);
  }
}

for (const [index, g] of GEOMETRIES.entries()) {
  const values = (count: number, seed: number) => seededValues(count, seed + index * 10);
  test.serial(`Conv2D and FusedConv2D (bias) on wasm match cpu, SIMD and stock: ${describeGeometry(g)}`, async (t) => {
    await bothPaths(async (simd) => {
      await useBackend('wasm');
      t.is(simdConvApplies(wasmBackend(), convInfo(g)), simd);
      const worst = await compareBackends(() => {
        const x = tf.tensor4d(values(g.n * g.h * g.w * g.ci, 1), [g.n, g.h, g.w, g.ci]);
        const filter = tf.tensor4d(values(g.kh * g.kw * g.ci * g.co, 2), [g.kh, g.kw, g.ci, g.co]);
        const bias = tf.tensor1d(values(g.co, 3));
        return [
          tf.conv2d(x, filter, 1, g.pad),
          tf.fused.conv2d({ x, filter, strides: 1, pad: g.pad, bias }),
          tf.fused.conv2d({ x, filter, strides: 1, pad: g.pad, bias, activation: 'relu' }),
        ];
      });
      t.true(worst <= 1e-5, `${simd ? 'simd' : 'stock'}: relative difference ${worst}`);
    });
  });

  const transposed: ConvGeometry = { ...g, ci: g.co, co: g.ci };
  test.serial(
    `Conv2DBackpropInput stride 1 on wasm matches cpu, SIMD and XNNPACK: ${describeGeometry(transposed)}`,
    async (t) => {
      const dyShape = outputShape(transposed);
      await bothPaths(async (simd) => {
        await useBackend('wasm');
        const info = convInfo(transposed);
        t.is(backpropInputPath(info), 'conv2d-flipped');
        t.is(flippedConvUsesSimd(wasmBackend(), info), simd && transposed.ci % 4 === 0);
        const worst = await compareBackends(() => {
          const dy = tf.tensor4d(
            values(
              dyShape.reduce((a, b) => a * b, 1),
              4,
            ),
            dyShape,
          );
          const filter = tf.tensor4d(values(g.kh * g.kw * transposed.ci * transposed.co, 5), [
            g.kh,
            g.kw,
            transposed.ci,
            transposed.co,
          ]);
          return tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy, filter },
              { strides: 1, pad: g.pad, dataFormat: 'NHWC', inputShape: [g.n, g.h, g.w, transposed.ci] },
            ) as tf.Tensor;
        });
        t.true(worst <= 1e-5, `${simd ? 'simd' : 'xnnpack'}: relative difference ${worst}`);
      });
    },
  );
}

test.serial('wide inputs, strides and dilations keep the stock convolution', async (t) => {
  await useBackend('wasm');
  const info = (
    x: [number, number, number, number],
    f: [number, number, number, number],
    stride: number,
    dilation: number,
  ) => tf.backend_util.computeConv2DInfo(x, f, stride, dilation, 'same');
  t.true(simdConvApplies(wasmBackend(), info([4, 64, 64, 128], [3, 3, 128, 64], 1, 1)));
  t.false(simdConvApplies(wasmBackend(), info([4, 16, 16, 256], [3, 3, 256, 256], 1, 1)));
  t.false(simdConvApplies(wasmBackend(), info([4, 16, 16, 8], [3, 3, 8, 8], 2, 1)));
  t.false(simdConvApplies(wasmBackend(), info([4, 16, 16, 8], [3, 3, 8, 8], 1, 2)));
  t.false(simdConvApplies(wasmBackend(), info([4, 16, 16, 8], [3, 3, 8, 6], 1, 1)));
  const worst = await compareBackends(() => {
    const x = tf.tensor4d(seededValues(2 * 9 * 9 * 3, 8), [2, 9, 9, 3]);
    const filter = tf.tensor4d(seededValues(3 * 3 * 3 * 8, 9), [3, 3, 3, 8]);
    return [tf.conv2d(x, filter, 2, 'same'), tf.conv2d(x, filter, 1, 'same', 'NHWC', 2)];
  });
  t.true(worst <= 1e-5, `relative difference ${worst}`);
});
