import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/backend.js';

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
      engine.runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] });
      engine.runKernel('Conv2DBackpropFilter', { x, dy: dySmall }, { strides: 2, pad: 'valid', dataFormat: 'NHWC', filterShape: [2, 2, 3, 4] });
      engine.runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape });
      engine.runKernel('Conv2DBackpropInput', { dy: dySmall, filter: wUp }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape });
      tf.tile(tf.ones([1, 1, 1, 3]), [2, 2, 2, 1]);
      tf.sum(x, [0, 1, 2]);
      tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(x);
      tf.grad((a: tf.Tensor) => tf.sum(tf.image.resizeBilinear(a as tf.Tensor4D, [16, 16])))(x);
      tf.grad((a: tf.Tensor) => tf.sum(tf.conv3d(a as tf.Tensor5D, tf.ones([2, 2, 2, 3, 2]) as tf.Tensor5D, 1, 'same')))(tf.ones([1, 4, 4, 4, 3]));
    });
  }
  t.is(backend.numDataIds(), before);
  tf.dispose([x, dy, dySmall, w, wUp]);
});
