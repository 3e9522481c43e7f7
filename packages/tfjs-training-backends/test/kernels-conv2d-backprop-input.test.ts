import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { backpropInputPath, type BackpropInputPath } from '../src/wasm-kernels/conv2d-backprop-input.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';
import { CONV_GEOMETRIES, convInfo, describeGeometry, outputShape } from './helpers/conv-geometries.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

for (const [index, g] of CONV_GEOMETRIES.entries()) {
  test.serial(
    `Conv2DBackpropInput on wasm matches cpu (${backpropInputPath(convInfo(g))}): ${describeGeometry(g)}`,
    async (t) => {
      const dyShape = outputShape(g);
      const worst = await compareBackends(() => {
        const dy = tf.tensor4d(
          seededValues(
            dyShape.reduce((a, b) => a * b, 1),
            300 + index,
          ),
          dyShape,
        );
        const filter = tf.tensor4d(seededValues(g.kh * g.kw * g.ci * g.co, 400 + index), [g.kh, g.kw, g.ci, g.co]);
        return tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy, filter },
            { strides: g.stride, pad: g.pad, dataFormat: 'NHWC', inputShape: [g.n, g.h, g.w, g.ci] },
          ) as tf.Tensor;
      });
      t.true(worst <= 1e-4, `relative difference ${worst}`);
    },
  );
}

test('the geometries exercise every path, and the U-Net geometries take the fast ones', (t) => {
  const paths = new Set<BackpropInputPath>(CONV_GEOMETRIES.map((g) => backpropInputPath(convInfo(g))));
  t.deepEqual([...paths].sort(), ['conv2d-flipped', 'matmul-depth-to-space', 'stock']);
  const unet3x3 = tf.backend_util.computeConv2DInfo([4, 64, 64, 16], [3, 3, 16, 32], 1, 1, 'same');
  const unetUp = tf.backend_util.computeConv2DInfo([4, 64, 64, 16], [2, 2, 16, 32], 2, 1, 'same');
  t.is(backpropInputPath(unet3x3), 'conv2d-flipped');
  t.is(backpropInputPath(unetUp), 'matmul-depth-to-space');
});

test.serial('conv2dTranspose (kernel 2, stride 2) forward and its gradients match cpu', async (t) => {
  const worst = await compareBackends(() => {
    const x = tf.tensor4d(seededValues(2 * 5 * 3 * 4, 5), [2, 5, 3, 4]);
    const w = tf.tensor4d(seededValues(2 * 2 * 3 * 4, 6), [2, 2, 3, 4]);
    const weights = tf.tensor4d(seededValues(2 * 10 * 6 * 3, 7), [2, 10, 6, 3]);
    const f = (input: tf.Tensor4D, filter: tf.Tensor4D) =>
      tf.sum(tf.mul(tf.conv2dTranspose(input, filter, [2, 10, 6, 3], 2, 'same'), weights));
    const [dx, dw] = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([x, w]);
    return [tf.conv2dTranspose(x, w, [2, 10, 6, 3], 2, 'same'), dx as tf.Tensor, dw as tf.Tensor];
  });
  t.true(worst <= 1e-4, `relative difference ${worst}`);
});
