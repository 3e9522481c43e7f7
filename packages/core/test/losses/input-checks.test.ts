/** The shared input checks: bad probabilities and targets fail naming the loss, the tensor and the first bad position. */
import test from 'ava';
import { isRwsegError, tf, useBackend, type PluginRegistry } from '../../src/index.js';
import { deviceCountsMatch } from '../../src/losses/device-counts.js';
import { lossRegistry, oneHot, scalar } from '../helpers/losses.js';

let registry: PluginRegistry;
test.before(async () => {
  await useBackend('cpu');
  registry = await lossRegistry();
});

const K = 3;
const labels = [
  [0, 1, 2, 1, 0, 0],
  [2, 2, 1, 0, 0, 1],
];
const target = () => oneHot(labels, [2, 3], K);
const probs = () =>
  tf.softmax(
    tf.tensor(
      Array.from({ length: 36 }, (_, i) => Math.sin(i)),
      [2, 2, 3, K],
    ),
  );
const run = (name: string, p: tf.Tensor, y: tf.Tensor, options: Record<string, unknown> = {}) =>
  registry.createLoss(name, options).compute({ probs: p, target: y, maps: {}, context: { epoch: 0 } });

function withValue(t: tf.Tensor, index: number, value: number): tf.Tensor {
  const data = t.dataSync().slice();
  data[index] = value;
  return tf.tensor(data, t.shape);
}

test('NaN, Inf and out-of-range probabilities name the loss, the tensor and the position', (t) => {
  for (const [value, what] of [
    [NaN, /probs\[1, 0, 2, 1\] = NaN is not finite/],
    [Infinity, /= Infinity is not finite/],
    [1.5, /= 1.5 is outside \[0, 1\]/],
  ] as const) {
    const error = t.throws(() => run('cross-entropy', withValue(probs(), 18 + 7, value), target()));
    t.true(isRwsegError(error, 'INVALID_INPUT'));
    t.regex(error!.message, /^loss 'cross-entropy' \(plugin @rwseg\/plugin-loss-cross-entropy\): /);
    t.regex(error!.message, what);
  }
});

test('a target value of 2, a soft value without softLabel, and a one-hot row summing to 0 are refused', (t) => {
  const two = t.throws(() => run('dice', probs(), withValue(target(), 4, 2)));
  t.regex(two!.message, /loss 'dice' .*target\[0, 0, 1, 1\] = 2 is not 0 or 1/);
  const soft = t.throws(() => run('focal', probs(), withValue(target(), 4, 0.5)));
  t.regex(soft!.message, /target\[0, 0, 1, 1\] = 0.5 is not 0 or 1 \(soft labels need softLabel: true\)/);
  // Row (1, 0, 1) loses its one: a label >= K upstream looks like this.
  const empty = t.throws(() => run('weighted-cross-entropy', probs(), withValue(target(), (6 + 1) * K + 2, 0)));
  t.true(isRwsegError(empty, 'INVALID_INPUT'));
  t.regex(empty!.message, /loss 'weighted-cross-entropy' .*the target row at \[1, 0, 1\] sums to 0, not 1/);
});

test('validateInputs false skips the value checks; shapes are still checked', (t) => {
  const value = run('dice', probs(), withValue(target(), 4, 2), { validateInputs: false });
  t.true(Number.isFinite(scalar(value)));
  const shape = t.throws(() => run('dice', probs(), tf.zeros([2, 2, 3, 2]), { validateInputs: false }));
  t.regex(shape!.message, /target shape \[2, 2, 3, 2\] differs from probs shape \[2, 2, 3, 3\]/);
});

test('class-index targets, [B, ...spatial] or [B, ...spatial, 1], give what their one-hot gives; bad indices are named', (t) => {
  const indices = tf.tensor(labels.flat(), [2, 2, 3]);
  for (const name of ['cross-entropy', 'dice', 'tversky', 'generalized-dice']) {
    const expected = scalar(run(name, probs(), target()));
    t.true(Math.abs(scalar(run(name, probs(), indices)) - expected) < 1e-7, name);
    t.true(Math.abs(scalar(run(name, probs(), tf.reshape(indices, [2, 2, 3, 1]))) - expected) < 1e-7, name);
  }
  const bad = t.throws(() => run('dice', probs(), withValue(indices, 5, 3)));
  t.regex(bad!.message, /target class index 3 at 0, 1, 2 is not an integer in 0\.\.2/);
});

test('multi-label (sigmoid) targets may overlap or be empty; soft labels pass with softLabel', (t) => {
  const overlapping = withValue(withValue(target(), 0, 1), 1, 1);
  const sigmoidProbs = tf.sigmoid(
    tf.tensor(
      Array.from({ length: 36 }, (_, i) => Math.cos(i)),
      [2, 2, 3, K],
    ),
  );
  t.true(Number.isFinite(scalar(run('dice', sigmoidProbs, overlapping, { sigmoid: true }))));
  t.throws(() => run('dice', sigmoidProbs, overlapping), { message: /sums to 2, not 1/ });
  const soft = tf.div(tf.add(target(), 0.1), 1 + 0.1 * K);
  t.true(Number.isFinite(scalar(run('dice', probs(), soft, { softLabel: true }))));
});

test('dice with smoothDr 0: a class empty in target and prediction scores 1, not NaN, and its gradient is finite', (t) => {
  const two = oneHot([[0, 1, 1, 0, 0, 1]], [2, 3], K);
  const terms = run('dice', two, two, { smoothDr: 0, reduction: 'none' }).dataSync();
  t.deepEqual(
    [...terms].map((v) => Math.round(v * 1e6) / 1e6),
    [0, 0, 1],
  );
  const loss = registry.createLoss('dice', { smoothDr: 0 });
  const gradient = tf
    .grad((p: tf.Tensor) => loss.compute({ probs: p, target: two, maps: {}, context: { epoch: 0 } }))(two)
    .dataSync();
  t.true(gradient.every(Number.isFinite));
});

test('weight of length K - 1 weighs the foreground classes when includeBackground is false', (t) => {
  const p = probs();
  const full = scalar(run('dice', p, target(), { includeBackground: false, weight: [9, 2, 3] }));
  t.true(Math.abs(scalar(run('dice', p, target(), { includeBackground: false, weight: [2, 3] })) - full) < 1e-7);
  const error = t.throws(() => run('dice', p, target(), { weight: [2, 3] }));
  t.regex(error!.message, /option 'weight' has 2 values but the input has 3 classes \(background included\); give 3$/);
});

test('the on-device pre-check (GPU backends) agrees with the scan on good and bad inputs', (t) => {
  t.true(deviceCountsMatch(probs(), target(), 'one-hot', false));
  t.false(deviceCountsMatch(withValue(probs(), 3, NaN), target(), 'one-hot', false));
  t.false(deviceCountsMatch(withValue(probs(), 3, -0.5), target(), 'one-hot', false));
  t.false(deviceCountsMatch(probs(), withValue(target(), 4, 2), 'one-hot', false));
  t.false(deviceCountsMatch(probs(), withValue(target(), 4, 0.5), 'multi-label', false));
  t.true(deviceCountsMatch(probs(), withValue(target(), 4, 0.5), 'multi-label', true));
  t.false(deviceCountsMatch(probs(), withValue(target(), 23, 0), 'one-hot', false));
  t.true(deviceCountsMatch(probs(), withValue(target(), 23, 0), 'multi-label', false));
});
