// The relaxed-SIMD (FMA) build of rwseg's kernels. On Node 20 it needs V8's --experimental-wasm-relaxed-simd,
// which rwseg turns on at run time when RWSEG_WASM_RELAXED_SIMD=1 (ava runs each test file in its own process,
// so this opt-in does not leak into the other files, which test the plain SIMD build).
import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend, describeBackend } from '../src/use-backend.js';
import { setFmaKernelsAllowed, simdVariant } from '../src/wasm-kernels/simd.js';
import type { WasmBackend } from '../src/wasm-kernels/stock.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';
import { outputShape, type ConvGeometry } from './helpers/conv-geometries.js';

test.before(async () => {
  process.env['RWSEG_WASM_RELAXED_SIMD'] = '1';
  await useBackend('wasm');
  await useBackend('cpu');
});

const GEOMETRIES: ConvGeometry[] = [
  { n: 3, h: 9, w: 11, ci: 1, co: 16, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 1, h: 13, w: 7, ci: 16, co: 12, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 2, h: 10, w: 9, ci: 5, co: 8, kh: 2, kw: 3, stride: 1, pad: 'valid' },
  { n: 2, h: 9, w: 7, ci: 4, co: 8, kh: 3, kw: 3, stride: 2, pad: 'same' },
];

test.serial('with RWSEG_WASM_RELAXED_SIMD=1 the FMA build runs, and describeBackend says so', async (t) => {
  await useBackend('wasm');
  t.is(simdVariant(tf.backend() as unknown as WasmBackend), 'fma');
  t.is(describeBackend()?.details?.['rwsegSimdKernels'], 'fma');
  setFmaKernelsAllowed(false);
  t.is(simdVariant(tf.backend() as unknown as WasmBackend), 'simd');
  setFmaKernelsAllowed(true);
});

for (const [index, g] of GEOMETRIES.entries()) {
  test.serial(
    `FMA build: Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter match cpu: x[${g.n},${g.h},${g.w},${g.ci}] k${g.kh}x${g.kw} co${g.co} stride ${g.stride} ${g.pad}`,
    async (t) => {
      const dyShape = outputShape(g);
      const worst = await compareBackends(() => {
        const x = tf.tensor4d(seededValues(g.n * g.h * g.w * g.ci, 1 + index), [g.n, g.h, g.w, g.ci]);
        const filter = tf.tensor4d(seededValues(g.kh * g.kw * g.ci * g.co, 2 + index), [g.kh, g.kw, g.ci, g.co]);
        const dy = tf.tensor4d(
          seededValues(
            dyShape.reduce((a, b) => a * b, 1),
            3 + index,
          ),
          dyShape,
        );
        const attrs = { strides: g.stride, pad: g.pad, dataFormat: 'NHWC' };
        return [
          tf.conv2d(x, filter, g.stride, g.pad),
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
          tf
            .engine()
            .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape }) as tf.Tensor,
        ];
      });
      t.true(worst <= 1e-4, `relative difference ${worst}`);
    },
  );
}
