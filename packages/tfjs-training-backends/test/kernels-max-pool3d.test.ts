import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { maxPool3dUsesSimd } from '../src/wasm-kernels/max-pool3d.js';
import { setSimdKernelsEnabled } from '../src/wasm-kernels/simd.js';
import type { WasmBackend } from '../src/wasm-kernels/stock.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

type Shape5 = [number, number, number, number, number];
/** Batch 1-3, odd sizes (a trailing plane / row / column outside every window), channels 1, 3, 4, 16, 17. */
const SHAPES: Shape5[] = [
  [1, 4, 4, 6, 1],
  [2, 4, 6, 8, 4],
  [3, 5, 7, 6, 3],
  [1, 6, 4, 4, 17],
  [2, 8, 6, 10, 16],
];

for (const simd of [true, false]) {
  const mode = simd ? 'SIMD' : 'fallback';
  const title = `${mode}: MaxPool3D 2x2x2 stride 2 and its gradient (ties, all-negative windows) match cpu`;
  test.serial(title, async (t) => {
    for (const [i, shape] of SHAPES.entries()) {
      for (const pad of ['valid', 'same'] as const) {
        setSimdKernelsEnabled(simd);
        try {
          const worst = await compareBackends(() => {
            // Values on a coarse grid (many ties), shifted so that some windows are all negative.
            const raw = tf.tensor(seededValues(tf.util.sizeFromShape(shape), 300 + i), shape);
            const x = tf.sub(tf.round(tf.mul(raw, 2)), 0.5) as tf.Tensor5D;
            const y = tf.maxPool3d(x, 2, 2, pad);
            const weights = tf.add(tf.tensor(seededValues(y.size, 310 + i), y.shape), 1.5);
            const pool = (input: tf.Tensor) => tf.maxPool3d(input as tf.Tensor5D, 2, 2, pad);
            return [y, tf.grad((input: tf.Tensor) => tf.sum(tf.mul(pool(input), weights)))(x)];
          });
          t.true(worst === 0, `${JSON.stringify(shape)} ${pad}: relative difference ${worst}`);
        } finally {
          setSimdKernelsEnabled(true);
        }
      }
    }
    setSimdKernelsEnabled(simd);
    await useBackend('wasm');
    const info = (shape: Shape5, pad: 'valid' | 'same') => tf.backend_util.computePool3DInfo(shape, 2, 2, 1, pad);
    const backend = tf.backend() as unknown as WasmBackend;
    t.is(maxPool3dUsesSimd(backend, info([3, 5, 7, 6, 3], 'valid')), simd, 'odd sizes, valid: SIMD');
    t.is(maxPool3dUsesSimd(backend, info([2, 4, 6, 8, 4], 'same')), simd, 'even sizes, same (no padding): SIMD');
    t.false(maxPool3dUsesSimd(backend, info([3, 5, 7, 6, 3], 'same')), 'odd sizes, same (padded): fallback');
    setSimdKernelsEnabled(true);
  });
}
