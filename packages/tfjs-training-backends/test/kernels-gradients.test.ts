/**
 * Gradients of the other ops a (2D or 3D) U-Net trains through, wasm against cpu, with negative values in every
 * window: the sweep that found the stock wasm MaxPoolGrad bug (all-negative windows lost their gradient).
 */
import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { maxPoolGradInto } from '../src/wasm-kernels/max-pool-grad.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** d/dx sum(f(x) * w) with seeded x and w, and f(x) itself. */
function gradientOf(f: (x: tf.Tensor) => tf.Tensor, shape: number[], seed: number): () => tf.Tensor[] {
  return () => {
    const x = tf.tensor(seededValues(size(shape), seed), shape);
    const y = f(x);
    const w = tf.tensor(seededValues(size(y.shape), seed + 1), y.shape);
    return [y, tf.grad((input: tf.Tensor) => tf.sum(tf.mul(f(input), w)))(x)];
  };
}

const CASES: [string, (x: tf.Tensor) => tf.Tensor, number[]][] = [
  ['maxPool 2x2 stride 2', (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [3, 8, 6, 4]],
  ['maxPool 3x3 stride 2 same (odd size)', (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'), [2, 7, 9, 3]],
  ['maxPool 3x3 stride 1 same', (x) => tf.maxPool(x as tf.Tensor4D, 3, 1, 'same'), [2, 5, 5, 2]],
  [
    'maxPool of all-negative values',
    (x) => tf.maxPool(tf.sub(tf.abs(x), 2) as tf.Tensor4D, 2, 2, 'valid'),
    [2, 4, 4, 3],
  ],
  ['maxPool3d 2x2x2', (x) => tf.maxPool3d(x as tf.Tensor5D, 2, 2, 'valid'), [2, 4, 4, 6, 2]],
  ['avgPool 2x2', (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [2, 6, 4, 3]],
  ['avgPool3d 2x2x2', (x) => tf.avgPool3d(x as tf.Tensor5D, 2, 2, 'valid'), [1, 4, 4, 4, 2]],
  ['leakyRelu 0.01', (x) => tf.leakyRelu(x, 0.01), [2, 5, 5, 3]],
  ['relu', (x) => tf.relu(x), [2, 5, 5, 3]],
  ['softmax over channels', (x) => tf.softmax(x), [2, 4, 4, 3]],
  // Resize gradients: kernels-resize-grad.test.ts (the cpu backend's bilinear one is itself wrong).
  ['mean over batch and space', (x) => tf.mean(x, [0, 1, 2]), [3, 4, 5, 6]],
  [
    'conv3d 3x3x3 same (input gradient)',
    (x) => tf.conv3d(x as tf.Tensor5D, tf.tensor5d(seededValues(27 * 2 * 3, 77), [3, 3, 3, 2, 3]), 1, 'same'),
    [2, 4, 5, 4, 2],
  ],
];

for (const [index, [name, f, shape]] of CASES.entries()) {
  test.serial(`${name}: forward and gradient on wasm match cpu`, async (t) => {
    const worst = await compareBackends(gradientOf(f, shape, 1000 + 10 * index));
    t.true(worst <= 1e-4, `relative difference ${worst}`);
  });
}

test.serial('conv3d filter gradient on wasm matches cpu', async (t) => {
  const worst = await compareBackends(() => {
    const x = tf.tensor5d(seededValues(2 * 4 * 5 * 4 * 2, 5), [2, 4, 5, 4, 2]);
    const w = tf.tensor5d(seededValues(3 * 3 * 3 * 2 * 3, 6), [3, 3, 3, 2, 3]);
    const weights = tf.tensor5d(seededValues(2 * 2 * 3 * 2 * 3, 7), [2, 2, 3, 2, 3]);
    return tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(x, filter as tf.Tensor5D, 2, 'same'), weights)))(w);
  });
  t.true(worst <= 1e-4, `relative difference ${worst}`);
});

test('maxPoolGradInto sends each window gradient to its first maximum, negative windows included', (t) => {
  // 4x4 image, 2x2 windows; the bottom-right window holds only negative values.
  const x = Float32Array.from([
    0.25, -0.99, 0.05, 0.96, 0.94, -0.44, 0.23, 0.44, -0.15, 0.99, -0.09, -0.02, -0.72, -0.19, -0.5, -0.69,
  ]);
  const dy = Float32Array.from([10, 20, 30, 40]);
  const dx = new Float32Array(16);
  maxPoolGradInto(x, dy, dx, tf.backend_util.computePool2DInfo([1, 4, 4, 1], 2, 2, 1, 'valid'));
  t.deepEqual(Array.from(dx), [0, 0, 0, 20, 10, 0, 0, 0, 0, 30, 0, 40, 0, 0, 0, 0]);
});
