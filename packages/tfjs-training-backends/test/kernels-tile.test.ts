import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { tileInto } from '../src/wasm-kernels/tile.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

const CASES: { shape: number[]; reps: number[] }[] = [
  { shape: [1, 1, 1, 5], reps: [3, 4, 6, 1] }, // BatchNorm's gradient
  { shape: [2, 3], reps: [2, 2] },
  { shape: [3, 1, 2], reps: [1, 4, 1] },
  { shape: [2, 1, 3, 1], reps: [2, 3, 1, 5] },
  { shape: [7], reps: [3] },
  { shape: [2, 2, 2], reps: [1, 1, 1] },
  { shape: [1, 1, 1, 1, 3], reps: [2, 2, 3, 2, 1] },
];

for (const { shape, reps } of CASES) {
  test.serial(`Tile on wasm matches cpu: shape ${JSON.stringify(shape)} reps ${JSON.stringify(reps)}`, async (t) => {
    const worst = await compareBackends(() =>
      tf.tile(
        tf.tensor(
          seededValues(
            shape.reduce((a, b) => a * b, 1),
            9,
          ),
          shape,
        ),
        reps,
      ),
    );
    t.is(worst, 0);
  });
}

test.serial('Tile on wasm keeps int32 and bool values', async (t) => {
  await useBackend('wasm');
  const ints = tf.tile(tf.tensor2d([[1, -2, 3]], [1, 3], 'int32'), [2, 2]);
  t.is(ints.dtype, 'int32');
  t.deepEqual(Array.from(ints.dataSync()), [1, -2, 3, 1, -2, 3, 1, -2, 3, 1, -2, 3]);
  const bools = tf.tile(tf.tensor1d([true, false], 'bool'), [3]);
  t.is(bools.dtype, 'bool');
  t.deepEqual(Array.from(bools.dataSync()), [1, 0, 1, 0, 1, 0]);
  tf.dispose([ints, bools]);
});

test('tileInto agrees with a brute-force index map', (t) => {
  const shape = [2, 3, 1, 2];
  const reps = [2, 1, 3, 2];
  const src = Float32Array.from({ length: 12 }, (_, i) => i + 1);
  const outShape = shape.map((d, i) => d * (reps[i] as number));
  const out = new Float32Array(outShape.reduce((a, b) => a * b, 1));
  tileInto(src, out, shape, reps);
  const expected = new Float32Array(out.length);
  for (let i = 0; i < out.length; i++) {
    let rest = i;
    let srcIndex = 0;
    let srcStride = 1;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      const coord = rest % (outShape[axis] as number);
      rest = Math.floor(rest / (outShape[axis] as number));
      srcIndex += (coord % (shape[axis] as number)) * srcStride;
      srcStride *= shape[axis] as number;
    }
    expected[i] = src[srcIndex] as number;
  }
  t.deepEqual(Array.from(out), Array.from(expected));
});
