/** The region-wise losses (region-wise, rrw, rw-class-balance): spec vectors, closed forms, gradients, options. */
import test from 'ava';
import { useBackend, isRwsegError, tf, type Loss } from '@rwseg/core';
import { defineMap, definePlugin, PLUGIN_API_VERSION, z, type RwsegPlugin } from '@rwseg/core/plugin';
import {
  finiteDifferenceLogitGradient,
  logitGradient,
  mapsFor,
  maxAbsDiff,
  oneHot,
  randomLabels,
  referenceRegistry,
  scalar,
  seededRandom,
  SPEC_VECTOR as SPEC,
  specTarget,
} from '@rwseg/core/testing';
import plugin from '../src/index.js';

/** This plugin's losses with the reference maps of @rwseg/core/testing (plus `extra` plugins). */
const lossRegistry = (...extra: RwsegPlugin[]) => referenceRegistry(plugin, ...extra);

test.before(async () => {
  await useBackend('cpu');
});

const K = SPEC.numClasses;
const specMap = (name: keyof typeof SPEC.maps) => tf.tensor(SPEC.maps[name], [1, ...SPEC.shape, K]);
const compute = (loss: Loss, probs: tf.Tensor, target: tf.Tensor, map: tf.Tensor) =>
  loss.compute({ probs, target, maps: { [loss.requiredMaps[0]!.key]: map }, context: { epoch: 0 } });

test('rrw reproduces the spec vectors: 0.15906376 (zero logits) and -0.18942791 (logits 10 * onehot)', (t) => {
  const loss = lossRegistry().createLoss('rrw');
  const target = specTarget();
  const zero = scalar(compute(loss, tf.softmax(tf.zerosLike(target)), target, specMap('rrw')));
  const confident = scalar(compute(loss, tf.softmax(tf.mul(target, 10)), target, specMap('rrw')));
  t.true(Math.abs(zero - 0.15906376) < 1e-6, String(zero));
  t.true(Math.abs(confident - -0.18942791) < 1e-6, String(confident));
});

test('region-wise over boundary-rw reproduces the spec vectors 0.36316198 and -0.38299513', (t) => {
  const loss = lossRegistry().createLoss('region-wise', { map: 'boundary-rw' });
  t.is(loss.requiredMaps[0]!.map, 'boundary-rw');
  const target = specTarget();
  const zero = scalar(compute(loss, tf.softmax(tf.zerosLike(target)), target, specMap('boundary-rw')));
  const confident = scalar(compute(loss, tf.softmax(tf.mul(target, 10)), target, specMap('boundary-rw')));
  t.true(Math.abs(zero - 0.36316198) < 1e-6, String(zero));
  t.true(Math.abs(confident - -0.38299513) < 1e-6, String(confident));
});

test('closed forms: uniform prediction gives mean(z)/K, perfect prediction gives mean(y z), an absent class gives mean(p_k)', (t) => {
  const loss = lossRegistry().createLoss('rrw', { reduction: 'none' });
  const target = specTarget();
  const map = specMap('rrw');
  const uniform = compute(loss, tf.fill(target.shape, 1 / K), target, map);
  const expectUniform = tf.div(tf.mean(tf.reshape(map, [-1, K]), 0), K);
  t.true(maxAbsDiff(uniform.dataSync(), expectUniform.dataSync()) < 1e-7);
  const perfect = compute(loss, target, target, map);
  const expectPerfect = tf.mean(tf.reshape(tf.mul(target, map), [-1, K]), 0);
  t.true(maxAbsDiff(perfect.dataSync(), expectPerfect.dataSync()) < 1e-7);
  // Class 2 absent from this label: its rrw channel is +1 everywhere, so its term is the mean probability.
  const labels = SPEC.labels.map((l) => (l === 2 ? 0 : l));
  const registry = lossRegistry();
  const absentTarget = oneHot([labels], SPEC.shape, K);
  const probs = tf.softmax(tf.randomNormal(absentTarget.shape, 0, 1, 'float32', 3));
  const terms = compute(loss, probs, absentTarget, mapsFor(registry, 'rrw', {}, [labels], SPEC.shape, K)).dataSync();
  const meanP2 = tf.mean(tf.reshape(probs, [-1, K]), 0).dataSync()[2]!;
  t.true(Math.abs(terms[2]! - meanP2) < 1e-7);
});

function randomCase(seed: number, B = 2, shape = [3, 4]) {
  const random = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const labels = Array.from({ length: B }, () => randomLabels(random, n, K));
  const logits = tf.tensor(
    Array.from({ length: B * n * K }, () => (random() - 0.5) * 2),
    [B, ...shape, K],
  );
  return { labels, shape, logits, target: oneHot(labels, shape, K) };
}

test('gradient wrt logits matches central finite differences and the closed form p (z - sum_k p z) / M', (t) => {
  const registry = lossRegistry();
  const loss = registry.createLoss('rrw');
  const { labels, shape, logits, target } = randomCase(7);
  const map = mapsFor(registry, 'rrw', {}, labels, shape, K);
  const rest = { target, maps: { [loss.requiredMaps[0]!.key]: map }, context: { epoch: 0 } };
  const analytic = logitGradient(loss, logits, rest);
  const numeric = finiteDifferenceLogitGradient(loss, logits, rest);
  t.true(maxAbsDiff(analytic, numeric) < 2e-4, `${maxAbsDiff(analytic, numeric)}`);
  const p = tf.softmax(logits);
  const closed = tf.div(tf.mul(p, tf.sub(map, tf.sum(tf.mul(p, map), -1, true))), logits.size);
  t.true(maxAbsDiff(analytic, closed.dataSync()) < 1e-7);
});

test('adding a constant per pixel to every class of the map leaves the logit gradient unchanged', (t) => {
  const registry = lossRegistry();
  const loss = registry.createLoss('region-wise', { map: 'boundary' });
  const { labels, shape, logits, target } = randomCase(11);
  const map = mapsFor(registry, 'boundary', {}, labels, shape, K);
  const shift = tf.tile(tf.randomUniform([2, ...shape, 1], -5, 5, 'float32', 5), [1, 1, 1, K]);
  const key = loss.requiredMaps[0]!.key;
  const before = logitGradient(loss, logits, { target, maps: { [key]: map }, context: { epoch: 0 } });
  const after = logitGradient(loss, logits, { target, maps: { [key]: tf.add(map, shift) }, context: { epoch: 0 } });
  t.true(maxAbsDiff(before, after) < 1e-7, `${maxAbsDiff(before, after)}`);
  // The shift does change the loss value itself: the property is about the gradient only.
  const value = (m: tf.Tensor) =>
    scalar(loss.compute({ probs: tf.softmax(logits), target, maps: { [key]: m }, context: { epoch: 0 } }));
  t.true(Math.abs(value(map) - value(tf.add(map, shift))) > 1e-3);
});

test('options: reduction none is [B, K], sum adds it up, includeBackground drops class 0, weight scales classes', (t) => {
  const registry = lossRegistry();
  const { labels, shape, logits, target } = randomCase(3);
  const map = mapsFor(registry, 'rrw', {}, labels, shape, K);
  const probs = tf.softmax(logits);
  const run = (options: Record<string, unknown>) => compute(registry.createLoss('rrw', options), probs, target, map);
  const none = run({ reduction: 'none' });
  t.deepEqual(none.shape, [2, K]);
  const terms = none.arraySync() as number[][];
  const all = terms.flat();
  t.true(Math.abs(scalar(run({})) - all.reduce((a, b) => a + b) / 6) < 1e-7);
  t.true(Math.abs(scalar(run({ reduction: 'sum' })) - all.reduce((a, b) => a + b)) < 1e-6);
  const fg = terms.flatMap((row) => row.slice(1));
  t.true(Math.abs(scalar(run({ includeBackground: false })) - fg.reduce((a, b) => a + b) / 4) < 1e-7);
  t.deepEqual(run({ includeBackground: false, reduction: 'none' }).shape, [2, K - 1]);
  const weighted = run({ weight: [0, 1, 3], reduction: 'none' }).arraySync() as number[][];
  t.true(
    maxAbsDiff(
      weighted.flat(),
      terms.flatMap((row) => [0, row[1]!, 3 * row[2]!]),
    ) < 1e-7,
  );
});

test('a weight of the wrong length is refused at compute time, naming the loss, plugin, option and both lengths', (t) => {
  const registry = lossRegistry();
  const loss = registry.createLoss('rrw', { weight: [1, 2] });
  const target = specTarget();
  const error = t.throws(() => compute(loss, target, target, specMap('rrw')));
  t.true(isRwsegError(error, 'INVALID_OPTIONS'));
  t.regex(
    error!.message,
    /loss 'rrw' \(plugin @rwseg\/plugin-loss-region-wise\): option 'weight' has 2 values but the input has 3 classes/,
  );
});

test('region-wise takes any registered map, a third-party one included, with that map’s validated options', (t) => {
  const scaled = defineMap({
    name: 'scaled-labels',
    description: 'scale where the label is the class, else 0',
    options: z.object({ scale: z.number().positive() }),
    generate: ({ labels, numClasses }, { scale }) => {
      const out = new Float32Array(labels.length * numClasses);
      for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]!] = scale;
      return out;
    },
  });
  const registry = lossRegistry(
    definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'third-party-maps', maps: [scaled] }),
  );
  const loss = registry.createLoss('region-wise', { map: 'scaled-labels', mapOptions: { scale: 4 } });
  t.deepEqual(loss.requiredMaps[0]!.options, { scale: 4 });
  const { labels, shape, logits, target } = randomCase(5);
  const probs = tf.softmax(logits);
  const value = scalar(
    compute(loss, probs, target, mapsFor(registry, 'scaled-labels', { scale: 4 }, labels, shape, K)),
  );
  t.true(Math.abs(value - scalar(tf.mean(tf.mul(tf.mul(probs, target), 4)))) < 1e-7);

  const badOptions = t.throws(() =>
    registry.createLoss('region-wise', { map: 'scaled-labels', mapOptions: { scale: -1 } }),
  );
  t.true(isRwsegError(badOptions, 'INVALID_OPTIONS'));
  t.regex(
    badOptions!.message,
    /loss 'region-wise' \(plugin @rwseg\/plugin-loss-region-wise\): option 'mapOptions':.*map 'scaled-labels'.*option 'scale'/,
  );
  const unknown = t.throws(() => registry.createLoss('region-wise', { map: 'no-such-map' }));
  t.true(isRwsegError(unknown, 'UNKNOWN_NAME'));
  t.regex(unknown!.message, /plugin @rwseg\/plugin-loss-region-wise\): option 'map': unknown map 'no-such-map'/);
});

test('active-contour and rw-class-balance maps through region-wise and the rw-class-balance loss', (t) => {
  const registry = lossRegistry();
  const { labels, shape, logits, target } = randomCase(9);
  const probs = tf.softmax(logits);
  const ac = registry.createLoss('region-wise', { map: 'active-contour' });
  const acValue = scalar(compute(ac, probs, target, mapsFor(registry, 'active-contour', {}, labels, shape, K)));
  t.true(Math.abs(acValue - scalar(tf.mean(tf.mul(probs, tf.sub(1, target))))) < 1e-7);
  const balance = registry.createLoss('rw-class-balance', { mapOptions: { weights: [0.9, 0.05, 0.05] } });
  t.is(balance.requiredMaps[0]!.map, 'rw-class-balance');
  const map = mapsFor(registry, 'rw-class-balance', { weights: [0.9, 0.05, 0.05] }, labels, shape, K);
  t.true(Math.abs(scalar(compute(balance, probs, target, map)) - scalar(tf.mean(tf.mul(probs, map)))) < 1e-7);
});

test('a missing or mis-shaped map is an input error naming the loss and the map', (t) => {
  const loss = lossRegistry().createLoss('rrw');
  const target = specTarget();
  const missing = t.throws(() => loss.compute({ probs: target, target, maps: {}, context: { epoch: 0 } }));
  t.true(isRwsegError(missing, 'INVALID_INPUT'));
  t.regex(missing!.message, /loss 'rrw'.*map 'rrw'.*missing/);
  const wrong = t.throws(() => compute(loss, target, target, tf.zeros([1, 5, 6, 2])));
  t.regex(wrong!.message, /map 'rrw' has shape \[1, 5, 6, 2\] but probs has \[1, 5, 6, 3\]/);
  const targetShape = t.throws(() => compute(loss, target, tf.zeros([1, 5, 6, 2]), specMap('rrw')));
  t.regex(targetShape!.message, /target shape \[1, 5, 6, 2\] differs from probs shape \[1, 5, 6, 3\]/);
});
