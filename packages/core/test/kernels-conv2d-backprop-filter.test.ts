import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/backend.js';
import { CONV_GEOMETRIES, compareBackends, describeGeometry, outputShape, seededValues } from './kernels-compare.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

for (const [index, g] of CONV_GEOMETRIES.entries()) {
  test.serial(`Conv2DBackpropFilter on wasm matches cpu: ${describeGeometry(g)}`, async (t) => {
    const dyShape = outputShape(g);
    const worst = await compareBackends(() => {
      const x = tf.tensor4d(seededValues(g.n * g.h * g.w * g.ci, 100 + index), [g.n, g.h, g.w, g.ci]);
      const dy = tf.tensor4d(seededValues(dyShape.reduce((a, b) => a * b, 1), 200 + index), dyShape);
      return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: g.stride, pad: g.pad, dataFormat: 'NHWC', filterShape: [g.kh, g.kw, g.ci, g.co] }) as tf.Tensor;
    });
    t.true(worst <= 1e-4, `relative difference ${worst}`);
  });
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
  const { WASM_TRAINING_KERNELS } = await import('../src/backends/wasm-kernels/register.js');
  t.is(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc, WASM_TRAINING_KERNELS['Conv2DBackpropFilter']);
});
