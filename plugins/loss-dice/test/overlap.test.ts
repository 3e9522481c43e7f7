/** Dice / Jaccard options, Generalized Dice, Tversky and Focal Tversky: closed forms, brute force and gradients. */
import test from 'ava';
import { tf, useBackend } from '@rwseg/core';
import { finiteDifferenceLogitGradient, logitGradient } from '@rwseg/core/testing';
import { maxAbsDiff, overlapRegistry, randomCase, scalar } from './helpers.js';

test.before(async () => {
  await useBackend('cpu');
});

const registry = overlapRegistry();
const run = (name: string, options: Record<string, unknown>, probs: tf.Tensor, target: tf.Tensor) =>
  registry.createLoss(name, options).compute({ probs, target, maps: {}, context: { epoch: 0 } });

/** Per (b, k) sums over the 9 pixels of a [2, 3, 3, K] case, in plain JS. */
function sums(
  p: Float32Array | Int32Array | Uint8Array,
  y: Float32Array | Int32Array | Uint8Array,
  K: number,
  f: (p: number, y: number) => number,
) {
  const out: number[] = new Array(2 * K).fill(0);
  for (let b = 0; b < 2; b++)
    for (let i = 0; i < 9; i++)
      for (let k = 0; k < K; k++) {
        const j = (b * 9 + i) * K + k;
        out[b * K + k]! += f(p[j]!, y[j]!);
      }
  return out;
}

test('dice: squaredPred, jaccard and the monai preset against brute-force sums', (t) => {
  const { probs, target } = randomCase(1);
  const p = probs.dataSync() as Float32Array;
  const y = target.dataSync() as Float32Array;
  const tp = sums(p, y, 3, (a, b) => a * b);
  const P = sums(p, y, 3, (a) => a);
  const P2 = sums(p, y, 3, (a) => a * a);
  const Y = sums(p, y, 3, (_, b) => b);
  const squared = tp.map((v, i) => 1 - (2 * v) / (P2[i]! + Y[i]! + 1e-6));
  t.true(maxAbsDiff(run('dice', { squaredPred: true, reduction: 'none' }, probs, target).dataSync(), squared) < 1e-6);
  const jaccard = tp.map((v, i) => 1 - (2 * v + 1e-5) / (2 * (P[i]! + Y[i]! - v) + 1e-5));
  t.true(
    maxAbsDiff(run('dice', { jaccard: true, preset: 'monai', reduction: 'none' }, probs, target).dataSync(), jaccard) <
      1e-6,
  );
  // The deprecated names still work and mean smoothDr / smoothNr.
  const old = run('dice', { smooth: 1, smoothNumerator: 1, reduction: 'none' }, probs, target).dataSync();
  t.true(
    maxAbsDiff(old, run('dice', { smoothDr: 1, smoothNr: 1, reduction: 'none' }, probs, target).dataSync()) < 1e-7,
  );
  t.throws(() => registry.createLoss('dice', { smooth: 1, smoothDr: 1 }), {
    message: /options 'smoothDr' and 'smooth' \(its old name\) are both given/,
  });
});

test('dice presets: a class absent from target and prediction scores 1 (region-wise) or 0 (monai)', (t) => {
  const two = tf.tensor([1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0], [1, 2, 2, 3]);
  t.deepEqual(
    [...run('dice', { reduction: 'none' }, two, two).dataSync()].map((v) => Math.round(v * 1e5) / 1e5),
    [0, 0, 1],
  );
  t.deepEqual(
    [...run('dice', { reduction: 'none', preset: 'monai' }, two, two).dataSync()].map((v) => Math.round(v * 1e5) / 1e5),
    [0, 0, 0],
  );
});

test('soft labels: dice with softLabel is 0 exactly where probs equal a soft target, the plain form is not', (t) => {
  const { probs } = randomCase(2);
  t.true(Math.abs(scalar(run('dice', { softLabel: true, preset: 'monai' }, probs, probs))) < 1e-6);
  t.true(scalar(run('dice', { preset: 'monai', validateInputs: false }, probs, probs)) > 0.1);
  t.throws(() => run('dice', {}, probs, probs), { message: /is not 0 or 1 \(soft labels need softLabel: true\)/ });
});

test('tversky: alpha = beta = 0.5 is Dice, alpha = beta = 1 is Jaccard; focal-tversky is (1 - TI)^(1/gamma)', (t) => {
  const { probs, target } = randomCase(3);
  const smoothing = { smoothNr: 0, smoothDr: 0, reduction: 'none' };
  const dice = run('dice', smoothing, probs, target).dataSync();
  t.true(maxAbsDiff(run('tversky', smoothing, probs, target).dataSync(), dice) < 1e-6);
  const jaccard = run('dice', { ...smoothing, jaccard: true }, probs, target).dataSync();
  t.true(maxAbsDiff(run('tversky', { ...smoothing, alpha: 1, beta: 1 }, probs, target).dataSync(), jaccard) < 1e-6);
  const tv = run('tversky', { ...smoothing, alpha: 0.3, beta: 0.7 }, probs, target).dataSync();
  const focal = run('focal-tversky', { ...smoothing, gamma: 2 }, probs, target).dataSync();
  t.true(
    maxAbsDiff(
      focal,
      [...tv].map((v) => v ** 0.5),
    ) < 1e-6,
  );
  // Its defaults are Abraham & Khan's: FN weighed 0.7, FP 0.3, exponent 3/4.
  const defaults = run('focal-tversky', { reduction: 'none' }, probs, target).dataSync();
  const tvDefaults = run('tversky', { alpha: 0.3, beta: 0.7, reduction: 'none' }, probs, target).dataSync();
  t.true(
    maxAbsDiff(
      defaults,
      [...tvDefaults].map((v) => v ** 0.75),
    ) < 1e-6,
  );
});

test('generalized dice: per-sample terms with 1/Y^2 weights, absent classes weighted like the largest, against brute force', (t) => {
  const { probs, target } = randomCase(4, 4);
  const p = probs.dataSync() as Float32Array;
  const y = target.dataSync() as Float32Array;
  const tp = sums(p, y, 4, (a, b) => a * b);
  const P = sums(p, y, 4, (a) => a);
  const Y = sums(p, y, 4, (_, b) => b);
  const expected = [0, 1].map((b) => {
    const ks = [1, 2, 3];
    const raw = ks.map((k) => (Y[b * 4 + k]! === 0 ? 0 : 1 / Y[b * 4 + k]! ** 2));
    const w = raw.map((v, i) => (Y[b * 4 + ks[i]!] === 0 ? Math.max(...raw) : v));
    const numerator = 2 * ks.reduce((s, k, i) => s + w[i]! * tp[b * 4 + k]!, 0) + 1e-5;
    const denominator = ks.reduce((s, k, i) => s + w[i]! * (P[b * 4 + k]! + Y[b * 4 + k]!), 0) + 1e-5;
    return 1 - numerator / denominator;
  });
  const none = run('generalized-dice', { includeBackground: false, reduction: 'none' }, probs, target);
  t.deepEqual(none.shape, [2, 1]);
  t.true(maxAbsDiff(none.dataSync(), expected) < 1e-6);
  t.true(
    Math.abs(
      scalar(run('generalized-dice', { includeBackground: false }, probs, target)) - (expected[0]! + expected[1]!) / 2,
    ) < 1e-6,
  );
  // Uniform weights with one class is the plain Dice loss (same smoothing).
  const uniform = run(
    'generalized-dice',
    { wType: 'uniform', reduction: 'none', includeBackground: false, sigmoid: true },
    tf.slice(probs, [0, 0, 0, 0], [-1, -1, -1, 2]),
    tf.slice(target, [0, 0, 0, 0], [-1, -1, -1, 2]),
  );
  const dice = run(
    'dice',
    { preset: 'monai', includeBackground: false, reduction: 'none', sigmoid: true },
    tf.slice(probs, [0, 0, 0, 0], [-1, -1, -1, 2]),
    tf.slice(target, [0, 0, 0, 0], [-1, -1, -1, 2]),
  );
  t.true(maxAbsDiff(uniform.dataSync(), dice.dataSync()) < 1e-6);
});

const GRADIENT_CASES: [string, Record<string, unknown>][] = [
  ['dice', { squaredPred: true }],
  ['dice', { jaccard: true, preset: 'monai', batch: true }],
  ['dice', { includeBackground: false, weight: [2, 0.5], smoothDr: 0 }],
  ['generalized-dice', {}],
  ['generalized-dice', { wType: 'simple', batch: true, includeBackground: false }],
  ['tversky', { alpha: 0.3, beta: 0.7 }],
  ['focal-tversky', {}],
];

for (const [name, options] of GRADIENT_CASES) {
  test(`${name} ${JSON.stringify(options)}: gradient wrt logits through softmax matches central finite differences`, (t) => {
    const { logits, target } = randomCase(17);
    const loss = registry.createLoss(name, options);
    const rest = { target, maps: {}, context: { epoch: 0 } };
    const analytic = logitGradient(loss, logits, rest);
    const numeric = finiteDifferenceLogitGradient(loss, logits, rest);
    const scale = Math.max(...analytic.map(Math.abs));
    t.true(scale > 1e-4, 'the gradient is not trivially zero');
    t.true(
      maxAbsDiff(analytic, numeric) < 2e-3 * Math.max(scale, 1e-2),
      `max diff ${maxAbsDiff(analytic, numeric)}, scale ${scale}`,
    );
  });
}

test('soft-label dice: gradient wrt logits matches finite differences on a soft (label-smoothed) target', (t) => {
  const { logits, target } = randomCase(5);
  // |p - y| has a kink at p = y; label smoothing keeps the target away from these probabilities.
  const soft = tf.add(tf.mul(target, 0.8), 0.2 / 3);
  const loss = registry.createLoss('dice', { softLabel: true, preset: 'monai' });
  const rest = { target: soft, maps: {}, context: { epoch: 0 } };
  const analytic = logitGradient(loss, logits, rest);
  const numeric = finiteDifferenceLogitGradient(loss, logits, rest, 1e-3);
  const scale = Math.max(...analytic.map(Math.abs));
  t.true(maxAbsDiff(analytic, numeric) < 2e-3 * scale, `max diff ${maxAbsDiff(analytic, numeric)}, scale ${scale}`);
});

test('multi-label (sigmoid) dice, tversky and generalized dice: gradients wrt logits through a sigmoid match finite differences', (t) => {
  const { logits } = randomCase(7);
  // Overlapping and empty channels: a target no softmax layout could hold.
  const target = tf.tensor(
    Array.from({ length: logits.size }, (_, i) => ((i * 7) % 5 < 2 ? 1 : 0)),
    logits.shape,
  );
  const rest = { target, maps: {}, context: { epoch: 0 } };
  for (const [name, options] of [
    ['dice', { sigmoid: true, preset: 'monai' }],
    ['tversky', { sigmoid: true, alpha: 0.7, beta: 0.3 }],
    ['generalized-dice', { sigmoid: true }],
  ] as const) {
    const loss = registry.createLoss(name, options);
    const analytic = logitGradient(loss, logits, rest, 'sigmoid');
    const numeric = finiteDifferenceLogitGradient(loss, logits, rest, 1e-2, 'sigmoid');
    const scale = Math.max(...Array.from(analytic, Math.abs));
    const diff = maxAbsDiff(analytic, numeric);
    t.true(scale > 1e-4 && diff < 2e-3 * Math.max(scale, 1e-2), `${name}: ${diff}`);
  }
});

test('focal-tversky: a perfect, saturated prediction (TI = 1 exactly) has a finite gradient and a loss of about 0', (t) => {
  const { target } = randomCase(8);
  const loss = registry.createLoss('focal-tversky');
  const value = (p: tf.Tensor) => loss.compute({ probs: p, target, maps: {}, context: { epoch: 0 } });
  t.true(scalar(value(target)) < 1e-8);
  t.true(tf.grad(value)(target).dataSync().every(Number.isFinite));
});
