/** Cross-entropy, weighted CE, Dice, focal and boundary: closed forms and brute-force references. */
import test from 'ava';
import { isRwsegError, tf, useBackend, type Loss, type PluginRegistry } from '../src/index.js';
import {
  lossRegistry,
  mapsFor,
  maxAbsDiff,
  oneHot,
  randomLabels,
  scalar,
  seededRandom,
  SPEC,
} from './helpers/losses.js';

let registry: PluginRegistry;
test.before(async () => {
  await useBackend('cpu');
  registry = await lossRegistry();
});

const K = SPEC.numClasses;
const N = SPEC.labels.length;
const specTarget = () => oneHot([SPEC.labels], SPEC.shape, K);
const run = (loss: Loss, probs: tf.Tensor, target: tf.Tensor, maps: Record<string, tf.Tensor> = {}) =>
  loss.compute({ probs, target, maps, context: { epoch: 0 } });
const counts = (labels: number[]) => Array.from({ length: K }, (_, k) => labels.filter((l) => l === k).length);

/** B = 2 samples of 3 x 4 pixels, random labels (class 2 absent from sample 1) and random probabilities. */
function randomCase(seed: number) {
  const random = seededRandom(seed);
  const labels = [randomLabels(random, 12, K), randomLabels(random, 12, 2)];
  const logits = tf.tensor(
    Array.from({ length: 2 * 12 * K }, () => (random() - 0.5) * 4),
    [2, 3, 4, K],
  );
  const probs = tf.softmax(logits);
  return { labels, target: oneHot(labels, [3, 4], K), probs, p: probs.dataSync() };
}

test('cross-entropy: log K for a uniform prediction, 0 for a perfect one, and a brute-force sum elsewhere', (t) => {
  const ce = registry.createLoss('cross-entropy');
  const target = specTarget();
  t.true(Math.abs(scalar(run(ce, tf.fill(target.shape, 1 / K), target)) - Math.log(K)) < 1e-6);
  t.true(Math.abs(scalar(run(ce, target, target))) < 1e-7);
  const { labels, target: y, probs, p } = randomCase(1);
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
  const { labels, target, probs, p } = randomCase(2);
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
  const { target: y, probs } = randomCase(3);
  const focal0 = run(registry.createLoss('focal', { gamma: 0, reduction: 'none' }), probs, y).dataSync();
  const ce = run(registry.createLoss('cross-entropy', { reduction: 'none' }), probs, y).dataSync();
  t.true(maxAbsDiff(focal0, ce) < 1e-6);
});

test('focal: per-class alpha scales each class term; its length is checked against K', (t) => {
  const { labels, target, probs, p } = randomCase(4);
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

test('boundary: mean of p * phi over the foreground classes; boundary-rw map, class subsets, absent classes', (t) => {
  const target = specTarget();
  const uniform = tf.fill(target.shape, 1 / K);
  const loss = registry.createLoss('boundary');
  t.is(loss.requiredMaps[0]!.map, 'boundary');
  const boundaryMap = tf.tensor(SPEC.maps.boundary, [1, ...SPEC.shape, K]);
  const channelMean = (values: number[], k: number) => values.filter((_, i) => i % K === k).reduce((a, b) => a + b) / N;
  const fg = (channelMean(SPEC.maps.boundary, 1) + channelMean(SPEC.maps.boundary, 2)) / 2;
  t.true(Math.abs(scalar(run(loss, uniform, target, { [loss.requiredMaps[0]!.key]: boundaryMap })) - fg / K) < 1e-6);
  // Perfect prediction: sum of -(EDT - 1) inside each object. Class 1's 3x3 block has one pixel at depth 2
  // (-1), the rest lie on its inner border (0); both pixels of class 2 lie on the border.
  const perfect = scalar(run(loss, target, target, { [loss.requiredMaps[0]!.key]: boundaryMap }));
  t.true(Math.abs(perfect - (-1 / N + 0) / 2) < 1e-7);

  const rw = registry.createLoss('boundary', { map: 'boundary-rw', classes: [2] });
  t.is(rw.requiredMaps[0]!.map, 'boundary-rw');
  const rwMap = tf.tensor(SPEC.maps['boundary-rw'], [1, ...SPEC.shape, K]);
  t.true(
    Math.abs(
      scalar(run(rw, uniform, target, { [rw.requiredMaps[0]!.key]: rwMap })) -
        channelMean(SPEC.maps['boundary-rw'], 2) / K,
    ) < 1e-6,
  );
  const withBackground = registry.createLoss('boundary', { includeBackground: true, reduction: 'none' });
  t.deepEqual(run(withBackground, uniform, target, { [withBackground.requiredMaps[0]!.key]: boundaryMap }).shape, [
    1,
    K,
  ]);

  // A class absent from the label has an all-zero boundary map: its term is 0 whatever the prediction.
  const labels = SPEC.labels.map((l) => (l === 2 ? 0 : l));
  const absent = oneHot([labels], SPEC.shape, K);
  const none = registry.createLoss('boundary', { reduction: 'none' });
  const terms = run(none, tf.softmax(tf.randomNormal(absent.shape, 0, 1, 'float32', 1)), absent, {
    [none.requiredMaps[0]!.key]: mapsFor(registry, 'boundary', {}, [labels], SPEC.shape, K),
  }).dataSync();
  // Foreground terms only (includeBackground false): class 1, then class 2.
  t.is(terms.length, 2);
  t.not(terms[0], 0);
  t.is(terms[1], 0);

  const outside = t.throws(() =>
    run(registry.createLoss('boundary', { classes: [5] }), uniform, target, {
      [loss.requiredMaps[0]!.key]: boundaryMap,
    }),
  );
  t.regex(
    outside!.message,
    /loss 'boundary' \(plugin @rwseg\/plugin-loss-boundary\): option 'classes' names 5, outside 0\.\.2/,
  );
  const badMap = t.throws(() => registry.createLoss('boundary', { map: 'rrw' }));
  t.regex(badMap!.message, /loss 'boundary' \(plugin @rwseg\/plugin-loss-boundary\): option 'map'/);
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
