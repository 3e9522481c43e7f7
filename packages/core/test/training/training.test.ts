import test from 'ava';
import {
  AdamW,
  clipByGlobalNorm,
  decodeCheckpoint,
  deriveSeed,
  encodeCheckpoint,
  isRwsegError,
  learningRateAt,
  lineChartSvg,
  nanSummary,
  stabilityFigure,
  summarizeCases,
  tf,
  useBackend,
} from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

test('poly schedule is lr0 (1 - e/E)^0.9; cosine and step hit their closed forms', (t) => {
  t.is(learningRateAt({ name: 'poly', power: 0.9 }, 0.01, 0, 100), 0.01);
  t.true(Math.abs(learningRateAt({ name: 'poly', power: 0.9 }, 0.01, 50, 100) - 0.01 * 0.5 ** 0.9) < 1e-15);
  t.is(learningRateAt({ name: 'cosine', minLr: 0.001 }, 0.01, 100, 100), 0.001);
  t.true(Math.abs(learningRateAt({ name: 'cosine', minLr: 0 }, 0.01, 50, 100) - 0.005) < 1e-15);
  t.true(Math.abs(learningRateAt({ name: 'step', every: 10, gamma: 0.5 }, 0.01, 25, 100) - 0.0025) < 1e-15);
  t.is(learningRateAt({ name: 'constant' }, 0.01, 99, 100), 0.01);
});

test('AdamW steps match the update written out by hand, with decoupled weight decay', (t) => {
  const w = tf.variable(tf.tensor1d([1, -2]));
  const adam = new AdamW([w], { weightDecay: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  const lr = 0.1;
  let m = [0, 0];
  let v = [0, 0];
  let expected = [1, -2];
  const grads = [
    [0.5, -1],
    [2, 3],
  ];
  grads.forEach((g, step) => {
    adam.apply([tf.tensor1d(g)], lr);
    m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]!);
    v = v.map((vi, i) => 0.999 * vi + 0.001 * g[i]! ** 2);
    expected = expected.map(
      (e, i) =>
        e - lr * (m[i]! / (1 - 0.9 ** (step + 1)) / (Math.sqrt(v[i]! / (1 - 0.999 ** (step + 1))) + 1e-8) + 0.1 * e),
    );
  });
  const got = w.dataSync();
  expected.forEach((e, i) => t.true(Math.abs(got[i]! - e) < 1e-5, `${got[i]} vs ${e}`));
});

test('gradient clipping scales to the maximum global norm and leaves small gradients alone', async (t) => {
  const grads = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
  const { grads: clipped, norm } = await clipByGlobalNorm(grads, 1);
  t.true(Math.abs(norm - 5) < 1e-6);
  t.deepEqual(
    [...clipped[0]!.dataSync()].map((x) => +x.toFixed(5)),
    [0.6, 0],
  );
  t.deepEqual(
    [...clipped[1]!.dataSync()].map((x) => +x.toFixed(5)),
    [0, 0.8],
  );
  t.is((await clipByGlobalNorm(grads, 12)).grads[0], grads[0]);
});

test('stability figure counts drops after warm-up and measures the final spread', (t) => {
  // 10 evaluations: warm-up = first 2; drops after it: 0.8->0.7 and 0.85->0.6; the 0.3->0.2 drop is in warm-up.
  const dice = [0.3, 0.2, 0.8, 0.7, 0.75, 0.85, 0.6, 0.8, 0.82, 0.84];
  const s = stabilityFigure(dice);
  t.is(s.warmupEvaluations, 2);
  t.is(s.drops, 2);
  t.true(Math.abs(s.largestDrop - 0.25) < 1e-12);
  t.true(Math.abs(s.totalDrop - 0.35) < 1e-12);
  t.true(Math.abs(s.finalRange - 0.02) < 1e-12);
  t.true(Math.abs(s.finalSd - Math.sqrt(0.0002)) < 1e-12);
  t.is(stabilityFigure([0.5, 0.6, 0.7, 0.8, 0.9]).drops, 0);
});

test('NaN-aware summaries skip NaN and say how many values they used', (t) => {
  t.deepEqual(nanSummary([1, Number.NaN, 3]), { mean: 2, sd: Math.SQRT2, n: 2 });
  const nan = Number.NaN;
  const summary = summarizeCases([
    {
      id: 'a',
      metrics: [
        { classIndex: 1, dice: 0.5, hd: 2, hd95: 1, assd: 1, nsd: 1 },
        { classIndex: 2, dice: nan, hd: nan, hd95: nan, assd: nan, nsd: nan },
      ],
    },
    {
      id: 'b',
      metrics: [
        { classIndex: 1, dice: 0.7, hd: 4, hd95: 3, assd: 1, nsd: 1 },
        { classIndex: 2, dice: 0.9, hd: 1, hd95: 1, assd: 1, nsd: 1 },
      ],
    },
  ]);
  t.true(Math.abs(summary.classes[0]!.dice.mean - 0.6) < 1e-12);
  t.is(summary.classes[1]!.dice.n, 1);
  t.true(Math.abs(summary.meanDice - 0.75) < 1e-12);
});

test('checkpoints round-trip and any altered byte or truncation is detected', (t) => {
  const content = {
    epoch: 3,
    meta: { best: { epoch: 2, dice: 0.5 } },
    tensors: [{ name: 'a/kernel', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
  };
  const bytes = encodeCheckpoint(content);
  const back = decodeCheckpoint(bytes, 'x.ckpt');
  t.is(back.epoch, 3);
  t.deepEqual([...back.tensors[0]!.data], [1, 2, 3, 4]);
  const altered = Buffer.from(bytes);
  altered[altered.length - 2]! ^= 1;
  t.regex(t.throws(() => decodeCheckpoint(altered, 'x.ckpt'))!.message, /x\.ckpt is unreadable: checksum mismatch/);
  const error = t.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 3), 'x.ckpt'));
  t.true(isRwsegError(error, 'IO_ERROR'));
  t.regex(error!.message, /truncated: 16 bytes of weights expected, 13 present/);
});

test('derived seeds repeat per (seed, purpose, index), differ otherwise and fit in 31 bits', (t) => {
  t.is(deriveSeed(1, 'data', 3), deriveSeed(1, 'data', 3));
  t.not(deriveSeed(1, 'data', 3), deriveSeed(1, 'data', 4));
  t.not(deriveSeed(1, 'data', 3), deriveSeed(2, 'data', 3));
  t.not(deriveSeed(1, 'data', 3), deriveSeed(1, 'init', 3));
  for (const s of [deriveSeed(0, 'a'), deriveSeed(-7, 'b', 9), deriveSeed(2 ** 31, 'c')])
    t.true(Number.isInteger(s) && s >= 0 && s < 2 ** 31);
});

test('line charts break at NaN and escape names', (t) => {
  const svg = lineChartSvg(
    [
      {
        name: 'a<b',
        points: [
          [1, 1],
          [2, Number.NaN],
          [3, 2],
          [4, 3],
        ],
      },
    ],
    { title: 'T' },
  );
  const d = /data-name="a&lt;b" d="([^"]*)"/.exec(svg)![1]!;
  t.is(d.split('M').length - 1, 2);
  t.is(d.split('L').length - 1, 1);
});
