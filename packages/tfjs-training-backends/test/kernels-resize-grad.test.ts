/**
 * Resize gradients on wasm, checked by the adjoint identity <resize(x), dy> = <x, grad(dy)> in float64: an
 * independent reference, since TF.js 4.22's cpu ResizeBilinearGrad is itself wrong for non-square images.
 */
import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { runOn, relativeDifference, seededValues } from '../src/testing/compare-backends.js';

test.before(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
});

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);

const CASES: {
  shape: [number, number, number, number];
  size: [number, number];
  alignCorners: boolean;
  halfPixelCenters: boolean;
}[] = [
  { shape: [2, 4, 5, 3], size: [8, 10], alignCorners: false, halfPixelCenters: false },
  { shape: [2, 4, 5, 3], size: [8, 10], alignCorners: false, halfPixelCenters: true },
  { shape: [1, 3, 6, 2], size: [7, 11], alignCorners: true, halfPixelCenters: false },
  { shape: [2, 6, 4, 1], size: [3, 2], alignCorners: false, halfPixelCenters: true },
  { shape: [1, 5, 5, 2], size: [10, 10], alignCorners: false, halfPixelCenters: false },
];

for (const method of ['bilinear', 'nearest'] as const) {
  for (const [index, { shape, size, alignCorners, halfPixelCenters }] of CASES.entries()) {
    if (method === 'nearest' && alignCorners && halfPixelCenters) continue;
    test.serial(
      `resize ${method} gradient on wasm is the adjoint of its forward: ${JSON.stringify(shape)} -> ${JSON.stringify(size)} alignCorners=${alignCorners} halfPixel=${halfPixelCenters}`,
      async (t) => {
        const resize = (x: tf.Tensor) =>
          method === 'bilinear'
            ? tf.image.resizeBilinear(x as tf.Tensor4D, size, alignCorners, halfPixelCenters)
            : tf.image.resizeNearestNeighbor(x as tf.Tensor4D, size, alignCorners, halfPixelCenters);
        const compute = () => {
          const x = tf.tensor4d(
            seededValues(
              shape.reduce((a, b) => a * b, 1),
              20 + index,
            ),
            shape,
          );
          const y = resize(x);
          const dy = tf.tensor(seededValues(y.size, 40 + index), y.shape);
          const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(resize(input), dy)))(x);
          return [x, y, dy, dx];
        };
        const wasm = await runOn('wasm', compute);
        const [x, y, dy, dx] = wasm.values as [Float32Array, Float32Array, Float32Array, Float32Array];
        t.deepEqual(wasm.shapes[3], shape);
        const forward = dot(y, dy);
        const adjoint = dot(x, dx);
        t.true(
          Math.abs(forward - adjoint) <= 1e-5 * Math.max(1, Math.abs(forward)),
          `<resize(x),dy> = ${forward}, <x,grad> = ${adjoint}`,
        );
        // ...and the forward it is the adjoint of is TF.js's own (the cpu backend's forward agrees).
        const cpu = await runOn('cpu', () => resize(tf.tensor4d(x, shape)));
        t.true(relativeDifference(y, cpu.values[0] as Float32Array) <= 1e-5);
      },
    );
  }
}
