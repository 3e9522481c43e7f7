/**
 * Instance normalization's closed-form gradient (models/instance-norm.ts) against TF.js's automatic gradient of
 * the textbook formula, on the cpu backend and on wasm with rwseg's kernels, for 2D and 3D activations.
 */
import test from 'ava';
import { tf } from '../../src/tf.js';
import { useBackend } from '@rwseg/tfjs-training-backends';
import { instanceNormalization } from '../../src/models/instance-norm.js';
import { relativeDifference, seededValues } from '@rwseg/tfjs-training-backends/testing';

/** The formula as written, differentiated by TF.js. */
function reference(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
  const { mean, variance } = tf.moments(x, axes, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta);
}

for (const backend of ['cpu', 'wasm'] as const) {
  for (const shape of [
    [2, 5, 7, 3],
    [3, 4, 5, 6, 8],
    [1, 3, 2, 4, 17],
  ]) {
    const title = `${backend}: instance norm's value and gradients (x, gamma, beta) are the automatic ones, [${shape}]`;
    test.serial(title, async (t) => {
      await useBackend(backend);
      const c = shape[shape.length - 1]!;
      tf.tidy(() => {
        // Offset and scaled input, so the normalization does real work.
        const x = tf.add(tf.mul(tf.tensor(seededValues(tf.util.sizeFromShape(shape), 1), shape), 3), 2);
        const gamma = tf.add(tf.tensor(seededValues(c, 2), [c]), 1);
        const beta = tf.tensor(seededValues(c, 3), [c]);
        const weights = tf.tensor(seededValues(tf.util.sizeFromShape(shape), 4), shape);
        const loss = (f: typeof reference) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(f(a, g, b, 1e-5), weights));
        const ours = tf.grads(loss(instanceNormalization))([x, gamma, beta]);
        const theirs = tf.grads(loss(reference))([x, gamma, beta]);
        const values = (f: typeof reference) => f(x, gamma, beta, 1e-5).dataSync() as Float32Array;
        const value = relativeDifference(values(instanceNormalization), values(reference));
        t.true(value <= 1e-5, `value: relative difference ${value}`);
        ['x', 'gamma', 'beta'].forEach((name, i) => {
          const diff = relativeDifference(ours[i]!.dataSync() as Float32Array, theirs[i]!.dataSync() as Float32Array);
          t.true(diff <= 1e-4, `d${name}: relative difference ${diff}`);
        });
      });
    });
  }
}
