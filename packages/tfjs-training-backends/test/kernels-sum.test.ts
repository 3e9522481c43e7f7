import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { sumLeadingInto } from '../src/wasm-kernels/sum.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

test('sumLeadingInto adds rows into per-channel totals', (t) => {
  const out = new Float32Array(3);
  sumLeadingInto(Float32Array.from([1, 2, 3, 10, 20, 30, 100, 200, 300]), out, 3);
  t.deepEqual(Array.from(out), [111, 222, 333]);
});

test.serial('Sum over every axis but the last on wasm matches cpu (and other reductions still work)', async (t) => {
  const shape = [3, 7, 5, 6];
  const values = seededValues(3 * 7 * 5 * 6, 31);
  for (const [axes, keepDims] of [
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [[1, 2, 0], false],
    [[0, 2], false],
    [[3], false],
    [[0, 1, 2, 3], false],
  ] as [number[], boolean][]) {
    const worst = await compareBackends(() => tf.sum(tf.tensor(values, shape), axes, keepDims));
    t.true(worst <= 1e-5, `axes ${JSON.stringify(axes)} keepDims ${keepDims}: relative difference ${worst}`);
  }
  const ints = await compareBackends(() =>
    tf.cast(
      tf.sum(
        tf.tensor(
          [
            [1, 2],
            [3, 4],
          ],
          [2, 2],
          'int32',
        ),
        0,
      ),
      'float32',
    ),
  );
  t.is(ints, 0);
});
