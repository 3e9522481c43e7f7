/** Focal: closed forms, cross-entropy at gamma 0, and per-class alpha against a brute-force sum. */
import test from 'ava';
import { useBackend, isRwsegError, tf } from '@rwseg/core';
import {
  maxAbsDiff,
  randomLossCase,
  referenceRegistry,
  scalar,
  SPEC_VECTOR as SPEC,
  specTarget,
  computeLoss,
} from '@rwseg/core/testing';
import plugin from '../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const registry = referenceRegistry(plugin);
const K = SPEC.numClasses;
const run = computeLoss;

test('focal: 0 for a perfect prediction, (1 - 1/K)^gamma log K for a uniform one, cross-entropy at gamma 0', (t) => {
  const target = specTarget();
  t.true(Math.abs(scalar(run(registry.createLoss('focal'), target, target))) < 1e-7);
  const uniform = tf.fill(target.shape, 1 / K);
  t.true(Math.abs(scalar(run(registry.createLoss('focal'), uniform, target)) - (1 - 1 / K) ** 2 * Math.log(K)) < 1e-6);
  t.true(
    Math.abs(
      scalar(run(registry.createLoss('focal', { gamma: 3, alpha: 0.25 }), uniform, target)) -
        0.25 * (1 - 1 / K) ** 3 * Math.log(K),
    ) < 1e-6,
  );
  const { labels, target: y, probs, p } = randomLossCase(3);
  const focal0 = run(registry.createLoss('focal', { gamma: 0, reduction: 'none' }), probs, y).dataSync();
  // The cross-entropy's [B, K] terms by hand: -sum of log p over the class's pixels, over the 12 pixels.
  const ce = [0, 1].flatMap((b) =>
    Array.from(
      { length: K },
      (_, k) =>
        labels[b]!.reduce(
          (acc, label, i) => (label === k ? acc - Math.log(p[(b * 12 + i) * K + k]! + 1e-15) : acc),
          0,
        ) / 12,
    ),
  );
  t.true(maxAbsDiff(focal0, ce) < 1e-6);
});

test('focal: per-class alpha scales each class term; its length is checked against K', (t) => {
  const { labels, target, probs, p } = randomLossCase(4);
  const alpha = [0.25, 1, 2];
  const terms = run(
    registry.createLoss('focal', { alpha, reduction: 'none' }),
    probs,
    target,
  ).arraySync() as number[][];
  const expected = [0, 1].map((b) =>
    Array.from(
      { length: K },
      (_, k) =>
        labels[b]!.reduce((acc, label, i) => {
          if (label !== k) return acc;
          const pk = p[(b * 12 + i) * K + k]!;
          return acc - alpha[k]! * (1 - pk + 1e-15) ** 2 * Math.log(pk + 1e-15);
        }, 0) / 12,
    ),
  );
  t.true(maxAbsDiff(terms.flat(), expected.flat()) < 1e-6);
  const error = t.throws(() => run(registry.createLoss('focal', { alpha: [1, 2] }), probs, target));
  t.true(isRwsegError(error, 'INVALID_OPTIONS'));
  t.regex(
    error!.message,
    /loss 'focal' \(plugin @rwseg\/plugin-loss-focal\): option 'alpha' has 2 values but the input has 3 classes/,
  );
});
