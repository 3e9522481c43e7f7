/** Dice: closed forms (perfect, uniform, absent class) and brute-force per-sample and batch forms. */
import test from 'ava';
import { useBackend, tf } from '@rwseg/core';
import {
  maxAbsDiff,
  oneHot,
  randomLossCase,
  referenceRegistry,
  scalar,
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

test('dice: about 0 for a perfect prediction, the closed form for a uniform one, 1 for a class absent from label and prediction', (t) => {
  const dice = registry.createLoss('dice');
  const target = specTarget();
  t.true(scalar(run(dice, target, target)) < 1e-6);
  const n = counts(SPEC.labels);
  const uniformRatio = n.map((nk) => (2 * nk) / K / (N / K + nk + 1e-6));
  const expected = 1 - uniformRatio.reduce((a, b) => a + b) / K;
  t.true(Math.abs(scalar(run(dice, tf.fill(target.shape, 1 / K), target)) - expected) < 1e-6);
  // Class 2 removed from both label and prediction: r = 0 / (0 + 1e-6) = 0 (the authors' form), so its term is 1.
  const twoClasses = oneHot([SPEC.labels.map((l) => (l === 2 ? 1 : l))], SPEC.shape, K);
  const none = run(registry.createLoss('dice', { reduction: 'none' }), twoClasses, twoClasses).dataSync();
  t.true(none[0]! < 1e-6 && none[1]! < 1e-6);
  t.is(none[2], 1);
  // With numerator and denominator smoothing of 1 the same class scores a perfect 0.
  const smoothed = run(
    registry.createLoss('dice', { reduction: 'none', smooth: 1, smoothNumerator: 1 }),
    twoClasses,
    twoClasses,
  ).dataSync();
  t.true(Math.abs(smoothed[2]!) < 1e-7);
});

test('dice: per-sample and batch forms against a brute-force computation', (t) => {
  const { labels, target, probs, p } = randomLossCase(2);
  const ratio = (samples: number[]) => {
    const r: number[] = [];
    for (let k = 0; k < K; k++) {
      let inter = 0;
      let sum = 0;
      for (const b of samples)
        labels[b]!.forEach((label, i) => {
          const pk = p[(b * 12 + i) * K + k]!;
          inter += label === k ? pk : 0;
          sum += pk + (label === k ? 1 : 0);
        });
      r.push(1 - (2 * inter) / (sum + 1e-6));
    }
    return r;
  };
  const perSample = [...ratio([0]), ...ratio([1])];
  const none = run(registry.createLoss('dice', { reduction: 'none' }), probs, target);
  t.deepEqual(none.shape, [2, K]);
  t.true(maxAbsDiff(none.dataSync(), perSample) < 1e-6);
  t.true(
    Math.abs(scalar(run(registry.createLoss('dice'), probs, target)) - perSample.reduce((a, b) => a + b) / 6) < 1e-6,
  );
  const batch = run(registry.createLoss('dice', { batch: true, reduction: 'none' }), probs, target);
  t.deepEqual(batch.shape, [1, K]);
  t.true(maxAbsDiff(batch.dataSync(), ratio([0, 1])) < 1e-6);
  const fg = run(registry.createLoss('dice', { includeBackground: false, weight: [5, 1, 2] }), probs, target);
  t.true(Math.abs(scalar(fg) - (perSample[1]! + 2 * perSample[2]! + perSample[4]! + 2 * perSample[5]!) / 4) < 1e-6);
});
