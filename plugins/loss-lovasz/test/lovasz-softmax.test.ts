/**
 * lovasz-softmax against a numpy transcription of smp's / Berman's lovasz_softmax (fixtures/make_lovasz_cases.py),
 * closed forms of the Lovász weights, and finite-difference gradients.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { PluginRegistry, tf, useBackend } from '@rwseg/core';
import { createRandom } from '@rwseg/core/data';
import { finiteDifferenceLogitGradient, logitGradient } from '@rwseg/core/testing';
import plugin, { lovaszWeights } from '../src/index.js';

interface Case {
  source: string;
  options: Record<string, unknown>;
  probs: number[];
  target: number[];
  expected: number;
}

const cases = JSON.parse(
  readFileSync(new URL('../../test/fixtures/lovasz-cases.json', import.meta.url), 'utf8'),
) as Case[];
const registry = new PluginRegistry();
registry.register(plugin, plugin.name);
const run = (options: Record<string, unknown>, probs: tf.Tensor, target: tf.Tensor) =>
  registry.createLoss('lovasz-softmax', options).compute({ probs, target, maps: {}, context: { epoch: 0 } });

test.before(async () => {
  await useBackend('cpu');
});

for (const c of cases) {
  test(`${c.source}`, (t) => {
    const got = run(c.options, tf.tensor(c.probs), tf.tensor(c.target)).dataSync()[0]!;
    t.true(Math.abs(got - c.expected) < 1e-5, `got ${got}, smp ${c.expected}`);
  });
}

test('Lovász weights: the Jaccard loss increments along the sorted errors; an absent class weighs only its largest error', (t) => {
  // One class, errors 0.9 (target 1), 0.2 (target 0), 0.5 (target 1): sorted 0.9 (y 1), 0.5 (y 1), 0.2 (y 0).
  // J = 1 - (2 - cumsum y) / (2 + cumsum (1 - y)) = 1/2, 1, 1 -> increments 1/2, 1/2, 0.
  t.deepEqual([...lovaszWeights([0.9, 0.2, 0.5], [1, 0, 1], 1, 1)], [0.5, 0, 0.5]);
  t.deepEqual([...lovaszWeights([0.1, 0.7, 0.3], [0, 0, 0], 1, 1)], [0, 1, 0]);
  // A perfect prediction has zero errors: the loss is 0 whatever the weights.
  const target = tf.tensor([1, 0, 0, 1, 0, 1], [1, 3, 2]);
  t.true(Math.abs(run({}, target, target).dataSync()[0]!) < 1e-7);
});

test("onlyPresent false averages every selected class; reduction none gives [groups, K']; weight scales classes", (t) => {
  const c = cases.find((x) => x.options.perImage === true && x.options.onlyPresent === false)!;
  const probs = tf.tensor(c.probs);
  const target = tf.tensor(c.target);
  const none = run({ perImage: true, onlyPresent: false, reduction: 'none' }, probs, target);
  t.deepEqual(none.shape, [2, 4]);
  t.true(Math.abs(tf.mean(none).dataSync()[0]! - c.expected) < 1e-5);
  const foreground = run(
    { perImage: true, onlyPresent: false, reduction: 'none', includeBackground: false, weight: [1, 2, 3] },
    probs,
    target,
  );
  const terms = none.arraySync() as number[][];
  const weighted = (foreground.arraySync() as number[][]).flat();
  t.true(weighted.every((v, i) => Math.abs(v - terms[Math.floor(i / 3)]![(i % 3) + 1]! * [1, 2, 3][i % 3]!) < 1e-6));
});

test('gradient wrt logits through softmax matches central finite differences', (t) => {
  const random = createRandom(9);
  const K = 3;
  const logits = tf.tensor(
    Array.from({ length: 2 * 9 * K }, () => (random.next() - 0.5) * 4),
    [2, 3, 3, K],
  );
  const labels = tf.tensor1d(
    Array.from({ length: 18 }, () => Math.floor(random.next() * K)),
    'int32',
  );
  const target = tf.cast(tf.reshape(tf.oneHot(labels, K), [2, 3, 3, K]), 'float32');
  for (const options of [{}, { perImage: true, includeBackground: false }]) {
    const loss = registry.createLoss('lovasz-softmax', options);
    const rest = { target, maps: {}, context: { epoch: 0 } };
    const analytic = logitGradient(loss, logits, rest);
    // Small steps: the sort order, which the weights follow, must not change between x + eps and x - eps.
    const numeric = finiteDifferenceLogitGradient(loss, logits, rest, 1e-3);
    const scale = Math.max(...analytic.map(Math.abs));
    const diff = Math.max(...analytic.map((a, i) => Math.abs(a - numeric[i]!)));
    t.true(
      scale > 1e-3 && diff < 5e-3 * Math.max(scale, 1e-2),
      `${JSON.stringify(options)}: max diff ${diff}, scale ${scale}`,
    );
  }
});
