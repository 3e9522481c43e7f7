import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  computeSegmentationMetrics,
  isRwsegError,
  nanMean,
  percentile,
  summarizeClassMetrics,
  type ClassMetrics,
} from '../../src/index.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** The metrics straight from their definitions, O(N^2), with neighbors found by coordinates. */
function bruteForceMetrics(
  pred: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: number[],
  spacing: number[],
  c: number,
  tolerance: number,
): Omit<ClassMetrics, 'classIndex'> {
  const n = pred.length;
  const coords = Array.from({ length: n }, (_, i) =>
    shape.map((_, a) => Math.floor(i / shape.slice(a + 1).reduce((p, s) => p * s, 1)) % shape[a]!),
  );
  const index = (co: number[]) => co.reduce((p, v, a) => p * shape[a]! + v, 0);
  const inMask = (labels: ArrayLike<number>, co: number[]) =>
    co.every((v, a) => v >= 0 && v < shape[a]!) && labels[index(co)] === c;
  const surface = (labels: ArrayLike<number>) =>
    coords.filter(
      (co) =>
        inMask(labels, co) &&
        shape.some((_, a) =>
          [-1, 1].some(
            (step) =>
              !inMask(
                labels,
                co.map((v, b) => (b === a ? v + step : v)),
              ),
          ),
        ),
    );
  const A = coords.filter((co) => inMask(pred, co)).length;
  const B = coords.filter((co) => inMask(ref, co)).length;
  const both = coords.filter((co) => inMask(pred, co) && inMask(ref, co)).length;
  if (A === 0 && B === 0) return { dice: 1, hd: 0, hd95: 0, assd: 0, nsd: 1 };
  if (A === 0 || B === 0) return { dice: 0, hd: NaN, hd95: NaN, assd: NaN, nsd: 0 };
  const sp = surface(pred);
  const sr = surface(ref);
  const directed = (from: number[][], to: number[][]) =>
    from.map((x) => Math.min(...to.map((y) => Math.hypot(...x.map((v, a) => (v - y[a]!) * spacing[a]!)))));
  const dpr = directed(sp, sr);
  const drp = directed(sr, sp);
  const p95 = (d: number[]) => {
    const s = [...d].sort((x, y) => x - y);
    const h = 0.95 * (s.length - 1);
    const lo = Math.floor(h);
    return s[lo]! + (h - lo) * (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!);
  };
  const all = [...dpr, ...drp];
  return {
    dice: (2 * both) / (A + B),
    hd: Math.max(...all),
    hd95: Math.max(p95(dpr), p95(drp)),
    assd: all.reduce((p, v) => p + v, 0) / all.length,
    nsd: all.filter((d) => d <= tolerance).length / all.length,
  };
}

function near(
  t: import('ava').ExecutionContext,
  actual: number,
  expected: number,
  what: string,
  tolerance = 1e-9,
): void {
  if (Number.isNaN(expected)) t.true(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
  else t.true(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected}, got ${actual}`);
}

test('match their brute-force definitions on random 2D and 3D label maps with anisotropic spacing', (t) => {
  const rand = random(42);
  for (let trial = 0; trial < 40; trial++) {
    const rank = 2 + (trial % 2);
    const shape = Array.from({ length: rank }, () => 2 + Math.floor(rand() * (rank === 2 ? 9 : 5)));
    const spacing = shape.map(() => 0.4 + rand() * 2);
    const K = 2 + Math.floor(rand() * 3);
    const n = shape.reduce((p, s) => p * s, 1);
    const ref = Int32Array.from({ length: n }, () => (rand() < 0.5 ? 0 : Math.floor(rand() * K)));
    // The prediction is the reference with some voxels changed, so the classes overlap partly.
    const pred = ref.map((l) => (rand() < 0.3 ? Math.floor(rand() * K) : l));
    const tolerance = 0.5 + rand() * 2;
    const metrics = computeSegmentationMetrics(pred, ref, shape, spacing, {
      numClasses: K,
      includeBackground: true,
      nsdTolerance: tolerance,
    });
    t.deepEqual(
      metrics.map((m) => m.classIndex),
      Array.from({ length: K }, (_, k) => k),
    );
    for (const m of metrics) {
      const expected = bruteForceMetrics(pred, ref, shape, spacing, m.classIndex, tolerance);
      for (const key of ['dice', 'hd', 'hd95', 'assd', 'nsd'] as const)
        near(t, m[key], expected[key], `trial ${trial} class ${m.classIndex} ${key}`);
    }
  }
});

test('hand-computed: a 3x3 square and the same square shifted by one column', (t) => {
  const shape = [5, 6];
  const square = (col: number) =>
    Array.from({ length: 30 }, (_, i) =>
      Math.floor(i / 6) >= 1 && Math.floor(i / 6) <= 3 && i % 6 >= col && i % 6 <= col + 2 ? 1 : 0,
    );
  const [m] = computeSegmentationMetrics(square(2), square(1), shape, [1, 1], { numClasses: 2 });
  // Each ring has 8 voxels; 4 of each lie on the other ring (distance 0), the other 4 are 1 away.
  t.is(m!.classIndex, 1);
  near(t, m!.dice, (2 * 6) / 18, 'dice');
  near(t, m!.hd, 1, 'hd');
  near(t, m!.hd95, 1, 'hd95');
  near(t, m!.assd, 0.5, 'assd');
  near(t, m!.nsd, 1, 'nsd at 1 mm');
  const [strict] = computeSegmentationMetrics(square(2), square(1), shape, [1, 1], {
    numClasses: 2,
    nsdTolerance: 0.5,
  });
  near(t, strict!.nsd, 0.5, 'nsd at 0.5 mm');
});

test('hand-computed: two single voxels three columns apart with 2 mm columns are 6 mm apart', (t) => {
  const pred = [0, 0, 0, 1, 0, 0, 0, 0];
  const ref = [1, 0, 0, 0, 0, 0, 0, 0];
  const [m] = computeSegmentationMetrics(pred, ref, [2, 4], [0.5, 2], { numClasses: 2, nsdTolerance: 5.9 });
  t.deepEqual(m, { classIndex: 1, dice: 0, hd: 6, hd95: 6, assd: 6, nsd: 0 });
});

test('HD95 takes the larger of the two directed 95th percentiles (not the pooled percentile)', (t) => {
  // Reference: a 1x12 bar; prediction: its first voxel only. pred->ref is 0; ref->pred runs 0..11 mm.
  const ref = new Array(12).fill(1);
  const pred = ref.map((_, i) => (i === 0 ? 1 : 0));
  const [m] = computeSegmentationMetrics(pred, ref, [1, 12], [1, 1], { numClasses: 2 });
  // Directed ref->pred distances 0..11: p95 = 0.95 * 11 = 10.45. Pooled with the one 0 it would be 10.4.
  near(t, m!.hd95, 10.45, 'hd95');
  near(t, m!.hd, 11, 'hd');
  near(t, m!.assd, 66 / 13, 'assd');
});

test('empty-mask policy: both empty gives Dice 1 and distances 0; one empty gives Dice 0 and NaN distances', (t) => {
  const metrics = computeSegmentationMetrics([0, 2, 2, 0], [0, 2, 0, 0], [2, 2], [1, 1], { numClasses: 4 });
  t.deepEqual(metrics[0], { classIndex: 1, dice: 1, hd: 0, hd95: 0, assd: 0, nsd: 1 });
  t.is(metrics[1]!.classIndex, 2);
  near(t, metrics[1]!.dice, 2 / 3, 'dice class 2');
  t.deepEqual(metrics[2], { classIndex: 3, dice: 1, hd: 0, hd95: 0, assd: 0, nsd: 1 });
  const missed = computeSegmentationMetrics([0, 0, 0, 0], [0, 1, 0, 0], [2, 2], [1, 1], { numClasses: 2 })[0]!;
  t.is(missed.dice, 0);
  t.true(Number.isNaN(missed.hd) && Number.isNaN(missed.hd95) && Number.isNaN(missed.assd));
  t.is(missed.nsd, 0);
  const hallucinated = computeSegmentationMetrics([0, 1, 0, 0], [0, 0, 0, 0], [2, 2], [1, 1], { numClasses: 2 })[0]!;
  t.is(hallucinated.dice, 0);
  t.true(Number.isNaN(hallucinated.hd));
});

test('an object cut by the image edge has a surface on the edge', (t) => {
  // Ref fills the 3x3 image: its surface is the 8 border voxels. Pred is the center voxel alone.
  const [m] = computeSegmentationMetrics([0, 0, 0, 0, 1, 0, 0, 0, 0], new Array(9).fill(1), [3, 3], [1, 1], {
    numClasses: 2,
  });
  near(t, m!.hd, Math.SQRT2, 'hd');
  near(t, m!.assd, (4 * 1 + 4 * Math.SQRT2 + 1) / 9, 'assd');
});

test('matches the scipy-based HD95 fixture on a 3D pair (MONAI/DeepMind definitions)', (t) => {
  const f = JSON.parse(
    readFileSync(new URL('../../../test/fixtures/edt/hd95_3d.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown> & {
    shape: number[];
    spacing: number[];
    pred: string;
    ref: string;
    nsdTolerance: number;
  };
  const toMask = (s: string) => Uint8Array.from(s, (ch) => (ch === '1' ? 1 : 0));
  const [m] = computeSegmentationMetrics(toMask(f.pred), toMask(f.ref), f.shape, f.spacing, {
    numClasses: 2,
    nsdTolerance: f.nsdTolerance,
  });
  for (const key of ['dice', 'hd', 'hd95', 'assd', 'nsd'] as const) near(t, m![key], f[key] as number, key, 1e-9);
});

test('bad input is an error naming the array and the problem', (t) => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => computeSegmentationMetrics([0, 1, 2], [0, 1, 1], [3], [1], { numClasses: 2 }),
      /metrics: prediction: label 2 at voxel 2/,
    ],
    [
      () => computeSegmentationMetrics([0, 1, 1], [0, 0.5, 1], [3], [1], { numClasses: 2 }),
      /metrics: reference: label 0.5 .* not an integer/,
    ],
    [
      () => computeSegmentationMetrics([0, 1, 1], [0, 1], [3], [1], { numClasses: 2 }),
      /reference: shape \[3\] needs 3 voxels but the data has 2/,
    ],
    [
      () => computeSegmentationMetrics([0, 1, 1], [0, 1, 1], [3], [0], { numClasses: 2 }),
      /spacing\[0\] must be a finite positive number/,
    ],
    [
      () => computeSegmentationMetrics([0, 1, 1], [0, 1, 1], [3], [1], { numClasses: 2, nsdTolerance: -1 }),
      /nsdTolerance must be a finite number >= 0/,
    ],
  ];
  for (const [run, message] of cases) {
    const error = t.throws(run);
    t.true(isRwsegError(error), String(error));
    t.regex(error!.message, message);
  }
});

test('nanMean ignores NaN; percentile interpolates linearly like numpy', (t) => {
  t.is(nanMean([1, Number.NaN, 3]), 2);
  t.true(Number.isNaN(nanMean([Number.NaN])));
  t.true(Number.isNaN(nanMean([])));
  t.is(percentile(Float64Array.from([4, 1, 3, 2]), 50), 2.5);
  t.is(percentile(Float64Array.from([0, 10]), 95), 9.5);
  t.true(Number.isNaN(percentile(new Float64Array(0), 95)));
});

test('summarizeClassMetrics averages each class over volumes ignoring NaN and says how many values each mean is over', (t) => {
  const volume = (dice: number, hd: number): ClassMetrics[] => [
    { classIndex: 1, dice, hd, hd95: hd, assd: hd, nsd: dice },
  ];
  const [summary] = summarizeClassMetrics([volume(0.8, 2), volume(0, Number.NaN), volume(0.6, 4)]);
  t.is(summary!.classIndex, 1);
  t.is(summary!.volumes, 3);
  near(t, summary!.dice.mean, 1.4 / 3, 'dice');
  t.is(summary!.hd.mean, 3);
  t.is(summary!.hd.sd, Math.SQRT2);
  // n counts the finite values: one volume's NaN distances drop out of hd, hd95 and assd, not of dice or nsd.
  t.deepEqual([summary!.dice.n, summary!.hd.n, summary!.hd95.n, summary!.assd.n, summary!.nsd.n], [3, 2, 2, 2, 3]);
});
