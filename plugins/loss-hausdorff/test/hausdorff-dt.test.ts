/**
 * hausdorff-dt: MONAI's published HausdorffDTLoss cases and random 2D/3D cases against a numpy + scipy transcription
 * (fixtures/make_hausdorff_cases.py), the distance fields against a brute-force one, and finite-difference gradients.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { PluginRegistry, tf, useBackend } from '@rwseg/core';
import { createRandom } from '@rwseg/core/data';
import { finiteDifferenceLogitGradient, logitGradient } from '@rwseg/core/testing';
import plugin, { poweredDistanceFields } from '../src/index.js';

interface Case {
  source: string;
  options: Record<string, unknown>;
  probs: number[];
  target: number[];
  expected: number[];
  numpy: number[];
}

const cases = JSON.parse(
  readFileSync(new URL('../../test/fixtures/hausdorff-cases.json', import.meta.url), 'utf8'),
) as Case[];
const registry = new PluginRegistry();
registry.register(plugin, plugin.name);

test.before(async () => {
  await useBackend('cpu');
});

for (const c of cases) {
  test(`${c.source}: ${JSON.stringify(c.options)}`, (t) => {
    const loss = registry.createLoss('hausdorff-dt', c.options);
    const got = [
      ...loss
        .compute({ probs: tf.tensor(c.probs), target: tf.tensor(c.target), maps: {}, context: { epoch: 0 } })
        .dataSync(),
    ];
    t.is(got.length, c.expected.length);
    // MONAI's test tolerance (rtol 1e-5) on its published values; float32 against float64 numpy.
    got.forEach((v, i) =>
      t.true(
        Math.abs(v - c.expected[i]!) <= 1e-5 * Math.abs(c.expected[i]!) + 1e-6,
        `got ${got}, expected ${c.expected}`,
      ),
    );
    got.forEach((v, i) =>
      t.true(Math.abs(v - c.numpy[i]!) <= 1e-5 * Math.max(1, Math.abs(c.numpy[i]!)), `got ${got}, numpy ${c.numpy}`),
    );
  });
}

test('distance fields: |distance| to the nearest voxel across the border, 0 for an empty or full mask', (t) => {
  // One sample, 1 x 5 pixels, two channels: [1, 1, 0, 0, 0] and all zeros.
  const values = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0];
  t.deepEqual([...poweredDistanceFields(values, [1, 1, 5, 2], 1)], [2, 0, 1, 0, 1, 0, 2, 0, 3, 0]);
  t.deepEqual([...poweredDistanceFields(values, [1, 1, 5, 2], 2)], [4, 0, 1, 0, 1, 0, 4, 0, 9, 0]);
  // A 3 x 3 block in a 5 x 5 image against a brute-force nearest-other-side search.
  const mask = Array.from({ length: 25 }, (_, i) =>
    Math.floor(i / 5) >= 1 && Math.floor(i / 5) <= 3 && i % 5 >= 1 && i % 5 <= 3 ? 1 : 0,
  );
  const brute = mask.map((m, i) => {
    let best = Infinity;
    mask.forEach((o, j) => {
      if (o !== m) best = Math.min(best, Math.hypot(Math.floor(i / 5) - Math.floor(j / 5), (i % 5) - (j % 5)));
    });
    return best;
  });
  const field = poweredDistanceFields(mask, [1, 5, 5, 1], 1);
  t.true(brute.every((d, i) => Math.abs(d - field[i]!) < 1e-6));
});

test('gradient wrt logits through softmax matches central finite differences (fields held by the thresholds)', (t) => {
  const random = createRandom(5);
  const K = 3;
  // Logits whose probabilities stay clear of the 0.5 threshold, so that the differences do not move a field.
  let logits = tf.zeros([2, 4, 4, K]);
  do
    logits = tf.tensor(
      Array.from({ length: 2 * 16 * K }, () => (random.next() - 0.5) * 4),
      [2, 4, 4, K],
    );
  while (
    tf
      .softmax(logits)
      .dataSync()
      .some((p) => Math.abs(p - 0.5) < 0.02)
  );
  const labels = tf.tensor1d(
    Array.from({ length: 32 }, () => Math.floor(random.next() * K)),
    'int32',
  );
  const target = tf.cast(tf.reshape(tf.oneHot(labels, K), [2, 4, 4, K]), 'float32');
  for (const options of [{}, { includeBackground: true, alpha: 1, batch: true }]) {
    const loss = registry.createLoss('hausdorff-dt', options);
    const rest = { target, maps: {}, context: { epoch: 0 } };
    const analytic = logitGradient(loss, logits, rest);
    const numeric = finiteDifferenceLogitGradient(loss, logits, rest);
    const scale = Math.max(...analytic.map(Math.abs));
    const diff = Math.max(...analytic.map((a, i) => Math.abs(a - numeric[i]!)));
    t.true(
      scale > 1e-3 && diff < 2e-3 * Math.max(scale, 1e-2),
      `${JSON.stringify(options)}: max diff ${diff}, scale ${scale}`,
    );
  }
});
