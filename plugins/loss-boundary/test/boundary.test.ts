/** Boundary: mean of p * phi over the foreground classes, on the spec vector and its scipy maps. */
import test from 'ava';
import { useBackend, tf } from '@rwseg/core';
import {
  mapsFor,
  oneHot,
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
const N = SPEC.labels.length;
const run = computeLoss;

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
