/** Cross-entropy and weighted cross-entropy (softmax and sigmoid): closed forms and brute-force references. */
import test from 'ava';
import { useBackend, tf } from '@rwseg/core';
import {
  maxAbsDiff,
  oneHot,
  randomLossCase,
  referenceRegistry,
  scalar,
  seededRandom,
  SPEC_VECTOR as SPEC,
  specTarget,
  classCounts,
  computeLoss,
} from '@rwseg/core/testing';
import plugin from '../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const registry = referenceRegistry(plugin);
const K = SPEC.numClasses;
const N = SPEC.labels.length;
const counts = (labels: number[]) => classCounts(labels, K);
const run = computeLoss;

test('cross-entropy: log K for a uniform prediction, 0 for a perfect one, and a brute-force sum elsewhere', (t) => {
  const ce = registry.createLoss('cross-entropy');
  const target = specTarget();
  t.true(Math.abs(scalar(run(ce, tf.fill(target.shape, 1 / K), target)) - Math.log(K)) < 1e-6);
  t.true(Math.abs(scalar(run(ce, target, target))) < 1e-7);
  const { labels, target: y, probs, p } = randomLossCase(1);
  let expected = 0;
  labels.forEach((sample, b) =>
    sample.forEach((label, i) => (expected -= Math.log(p[(b * 12 + i) * K + label]! + 1e-15))),
  );
  t.true(Math.abs(scalar(run(ce, probs, y)) - expected / 24) < 1e-6);
  // A class absent from a sample contributes 0 to that sample's terms.
  const none = run(registry.createLoss('cross-entropy', { reduction: 'none' }), probs, y).arraySync() as number[][];
  t.is(none[1]![2], 0);
  t.true(Math.abs(none.flat().reduce((a, b) => a + b) / 2 - expected / 24) < 1e-6);
});

test('weighted cross-entropy: given weights weigh each pixel by its class; frequency weights are N / (K n_k)', (t) => {
  const target = specTarget();
  const uniform = tf.fill(target.shape, 1 / K);
  const n = counts(SPEC.labels);
  const given = registry.createLoss('weighted-cross-entropy', { weight: [1, 2, 3] });
  const expectedGiven = ((n[0]! * 1 + n[1]! * 2 + n[2]! * 3) / N) * Math.log(K);
  t.true(Math.abs(scalar(run(given, uniform, target)) - expectedGiven) < 1e-6);
  // With w_k = N / (K n_k) every present class carries N / K pixels' worth: the uniform loss is log K again ...
  const frequency = registry.createLoss('weighted-cross-entropy');
  t.true(Math.abs(scalar(run(frequency, uniform, target)) - Math.log(K)) < 1e-6);
  // ... and with one class absent, (K - 1) / K of it.
  const twoClasses = oneHot([SPEC.labels.map((l) => (l === 2 ? 1 : l))], SPEC.shape, K);
  t.true(Math.abs(scalar(run(frequency, uniform, twoClasses)) - ((K - 1) / K) * Math.log(K)) < 1e-6);
  // The plain cross-entropy's `weight` option is the same computation.
  t.true(
    Math.abs(
      scalar(run(registry.createLoss('cross-entropy', { weight: [1, 2, 3] }), uniform, target)) - expectedGiven,
    ) < 1e-6,
  );
});

test('cross-entropy with sigmoid: binary cross-entropy averaged over channels, a multi-label target, gradient through a sigmoid', (t) => {
  const random = seededRandom(11);
  const logits = tf.tensor(
    Array.from({ length: 2 * 12 * K }, () => (random() - 0.5) * 4),
    [2, 3, 4, K],
  );
  const y: number[] = Array.from({ length: 2 * 12 * K }, () => (random() < 0.4 ? 1 : 0));
  const target = tf.tensor(y, logits.shape);
  const p = tf.sigmoid(logits).dataSync();
  const expected =
    y.reduce((s, v, i) => s - (v * Math.log(p[i]! + 1e-15) + (1 - v) * Math.log(1 - p[i]! + 1e-15)), 0) / y.length;
  const loss = registry.createLoss('cross-entropy', { sigmoid: true });
  const value = (x: tf.Tensor) => loss.compute({ probs: tf.sigmoid(x), target, maps: {}, context: { epoch: 0 } });
  t.true(Math.abs(scalar(value(logits)) - expected) < 1e-6);
  // d BCE / d logit = (sigmoid - y) / (number of elements).
  const gradient = tf.grad(value)(logits).dataSync();
  t.true(
    maxAbsDiff(
      gradient,
      Array.from(p, (v, i) => (v - y[i]!) / y.length),
    ) < 1e-6,
  );
  // Without sigmoid the same target is refused: its rows do not sum to 1.
  t.throws(() => run(registry.createLoss('cross-entropy'), tf.sigmoid(logits), target), {
    message: /not 1: a one-hot target/,
  });
});
