import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import '../src/gradients/conv3d-transpose.js';

test.serial("rwseg's wasm kernels free their intermediates (no wasm buffers left behind)", async (t) => {
  await useBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const engine = tf.engine();
  const x = tf.randomNormal([2, 8, 8, 3]);
  const dy = tf.randomNormal([2, 8, 8, 4]);
  const dySmall = tf.randomNormal([2, 4, 4, 4]);
  const w = tf.randomNormal([3, 3, 3, 4]);
  const wUp = tf.randomNormal([2, 2, 3, 4]);
  const before = backend.numDataIds();
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      engine.runKernel(
        'Conv2DBackpropFilter',
        { x, dy },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] },
      );
      engine.runKernel(
        'Conv2DBackpropFilter',
        { x, dy: dySmall },
        { strides: 2, pad: 'valid', dataFormat: 'NHWC', filterShape: [2, 2, 3, 4] },
      );
      engine.runKernel(
        'Conv2DBackpropInput',
        { dy, filter: w },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape },
      );
      engine.runKernel(
        'Conv2DBackpropInput',
        { dy: dySmall, filter: wUp },
        { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape },
      );
      tf.tile(tf.ones([1, 1, 1, 3]), [2, 2, 2, 1]);
      tf.sum(x, [0, 1, 2]);
      tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(x);
      tf.grad((a: tf.Tensor) => tf.sum(tf.image.resizeBilinear(a as tf.Tensor4D, [16, 16])))(x);
      tf.grad((a: tf.Tensor) =>
        tf.sum(tf.conv3d(a as tf.Tensor5D, tf.ones([2, 2, 2, 3, 2]) as tf.Tensor5D, 1, 'same')),
      )(tf.ones([1, 4, 4, 4, 3]));
    });
  }
  t.is(backend.numDataIds(), before);
  tf.dispose([x, dy, dySmall, w, wUp]);
});

test.serial(
  "rwseg's 3D wasm kernels free their intermediates on every path (SIMD, matmul, blocks, fallbacks)",
  async (t) => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomNormal([2, 4, 6, 8, 4]) as tf.Tensor5D;
    const filters = {
      simd: tf.randomNormal([3, 3, 3, 4, 8]) as tf.Tensor5D, // pads, flips, conv3d_s1, conv3d_filter_grad
      pointwise: tf.randomNormal([1, 1, 1, 4, 3]) as tf.Tensor5D, // matMul paths (Co 3: cpu filter gradient avoided)
      blocks: tf.randomNormal([2, 2, 2, 4, 8]) as tf.Tensor5D, // blocks + matMul
      strided: tf.randomNormal([3, 3, 3, 4, 6]) as tf.Tensor5D, // stride 2, Co 6: stock / cpu fallbacks
    };
    const before = backend.numDataIds();
    for (let i = 0; i < 2; i++) {
      tf.tidy(() => {
        for (const [name, w] of Object.entries(filters)) {
          const stride = name === 'blocks' || name === 'strided' ? 2 : 1;
          const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, stride, 'same');
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(conv(a, b)))([x, w]);
        }
        const up = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, [2, 4, 6, 8, 4], 2, 'same');
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(up(a, b)))([
          tf.ones([2, 2, 3, 4, 8]),
          tf.ones([2, 2, 2, 4, 8]),
        ]);
        tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool3d(a as tf.Tensor5D, 2, 2, 'valid')))(x);
        tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool3d(a as tf.Tensor5D, 2, 2, 'same')))(tf.ones([1, 3, 5, 3, 2]));
        const { mean, variance } = tf.moments(x, [1, 2, 3], true);
        tf.div(tf.sub(x, mean), tf.sqrt(variance));
      });
    }
    t.is(backend.numDataIds(), before);
    tf.dispose([x, ...Object.values(filters)]);
  },
);
