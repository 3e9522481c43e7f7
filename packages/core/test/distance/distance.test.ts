import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  classDistances,
  EdtScratch,
  euclideanDistanceTransform,
  euclideanDistanceTransformAt,
  isRwsegError,
  MapWorkerPool,
  signedDistanceTransform,
  squaredDistanceTransform,
} from '../../src/index.js';

/** Deterministic PRNG so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function coordinates(index: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    c[a] = index % shape[a]!;
    index = Math.floor(index / shape[a]!);
  }
  return c;
}

/** The definition, in O(N^2): distance from each nonzero voxel to the nearest zero voxel. */
function bruteForceEdt(mask: ArrayLike<number>, shape: readonly number[], spacing: readonly number[]): number[] {
  const n = mask.length;
  const coords = Array.from({ length: n }, (_, i) => coordinates(i, shape));
  return Array.from({ length: n }, (_, i) => {
    if (mask[i] === 0) return 0;
    let best = Infinity;
    for (let j = 0; j < n; j++) {
      if (mask[j] !== 0) continue;
      let d2 = 0;
      for (let a = 0; a < shape.length; a++) d2 += ((coords[i]![a]! - coords[j]![a]!) * spacing[a]!) ** 2;
      best = Math.min(best, d2);
    }
    return Math.sqrt(best);
  });
}

function assertClose(
  t: import('ava').ExecutionContext,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
): void {
  t.is(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let where = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (e === Infinity || e === -Infinity) {
      if (a !== e) t.fail(`${what}: voxel ${i} expected ${e}, got ${a}`);
      continue;
    }
    const err = Math.abs(a - e);
    if (!(err <= worst)) {
      worst = err;
      where = i;
    }
  }
  t.true(
    worst <= tolerance,
    `${what}: worst error ${worst} at voxel ${where} (expected ${expected[where]}, got ${actual[where]})`,
  );
}

function randomCase(rand: () => number, rank: number, maxSide: number) {
  const shape = Array.from({ length: rank }, () => 1 + Math.floor(rand() * maxSide));
  const spacing = shape.map(() => 0.2 + rand() * 2.8);
  const n = shape.reduce((p, s) => p * s, 1);
  const density = rand();
  const mask = Uint8Array.from({ length: n }, () => (rand() < density ? 1 : 0));
  return { shape, spacing, mask };
}

test('matches the brute-force definition on random 1D, 2D and 3D masks with anisotropic spacing', (t) => {
  const rand = random(7);
  for (let trial = 0; trial < 150; trial++) {
    const rank = 1 + (trial % 3);
    const { shape, spacing, mask } = randomCase(rand, rank, rank === 3 ? 6 : 11);
    assertClose(
      t,
      euclideanDistanceTransform(mask, shape, spacing),
      bruteForceEdt(mask, shape, spacing),
      1e-12,
      `trial ${trial} shape ${shape}`,
    );
  }
});

test('handles a 4D mask (N-D) exactly', (t) => {
  const rand = random(11);
  const shape = [3, 4, 2, 5];
  const spacing = [0.7, 1.3, 2.1, 0.4];
  const mask = Uint8Array.from({ length: 120 }, () => (rand() < 0.8 ? 1 : 0));
  assertClose(t, euclideanDistanceTransform(mask, shape, spacing), bruteForceEdt(mask, shape, spacing), 1e-12, '4D');
});

interface EdtFixture {
  generator: string;
  cases: { shape: number[]; spacing: number[]; mask: string; distances: number[] }[];
}

test('matches scipy.ndimage.distance_transform_edt on the checked-in random 2D and 3D fixtures', (t) => {
  const fixture = JSON.parse(
    readFileSync(new URL('../../../test/fixtures/edt/edt_cases.json', import.meta.url), 'utf8'),
  ) as EdtFixture;
  t.true(fixture.cases.some((c) => c.shape.length === 2) && fixture.cases.some((c) => c.shape.length === 3));
  const scratch = new EdtScratch();
  for (const c of fixture.cases) {
    const mask = Uint8Array.from(c.mask, (ch) => (ch === '1' ? 1 : 0));
    assertClose(
      t,
      euclideanDistanceTransform(mask, c.shape, c.spacing, { scratch }),
      c.distances,
      1e-9,
      `scipy case ${c.shape} spacing ${c.spacing}`,
    );
  }
});

test('the squared transform is the square of the transform, and `out` is filled in place', (t) => {
  const { shape, spacing, mask } = randomCase(random(3), 3, 7);
  const out = new Float64Array(mask.length);
  const squared = squaredDistanceTransform(mask, shape, spacing, { out });
  t.is(squared, out);
  const plain = euclideanDistanceTransform(mask, shape, spacing);
  assertClose(
    t,
    Array.from(plain, (d) => d * d),
    squared,
    1e-9,
    'squared',
  );
});

test('a scratch reused across shapes and ranks gives the same answers as fresh buffers', (t) => {
  const rand = random(5);
  const scratch = new EdtScratch();
  for (let trial = 0; trial < 30; trial++) {
    const { shape, spacing, mask } = randomCase(rand, 2 + (trial % 2), 20);
    t.deepEqual(
      euclideanDistanceTransform(mask, shape, spacing, { scratch }),
      euclideanDistanceTransform(mask, shape, spacing),
    );
  }
});

test('edge cases: all zeros, all ones (no zero voxel: +Infinity), single voxels, 1-D-like shapes', (t) => {
  t.deepEqual([...euclideanDistanceTransform(new Uint8Array(12), [3, 4], [1, 2])], new Array(12).fill(0));
  t.deepEqual(
    [...euclideanDistanceTransform(new Uint8Array(24).fill(1), [2, 3, 4], [1, 1, 1])],
    new Array(24).fill(Infinity),
  );
  t.deepEqual([...euclideanDistanceTransform([1], [1], [1])], [Infinity]);
  t.deepEqual([...euclideanDistanceTransform([0], [1, 1], [1, 1])], [0]);
  // One zero in a line: distances grow by the spacing of that axis, whichever axis the line lies along.
  const line = [1, 1, 0, 1, 1, 1];
  const expected = [2, 1, 0, 1, 2, 3].map((d) => d * 0.5);
  for (const shape of [[6], [1, 6], [6, 1], [1, 6, 1], [1, 1, 6]]) {
    const spacing = shape.map((n) => (n === 6 ? 0.5 : 9));
    assertClose(t, euclideanDistanceTransform(line, shape, spacing), expected, 1e-12, `shape ${shape}`);
  }
  // The border is not a boundary: a lone zero in a corner is the only target.
  const corner = new Uint8Array(9).fill(1);
  corner[0] = 0;
  assertClose(
    t,
    euclideanDistanceTransform(corner, [3, 3], [1, 1]),
    [0, 1, 2, 1, Math.SQRT2, Math.sqrt(5), 2, Math.sqrt(5), Math.sqrt(8)],
    1e-12,
    'corner',
  );
});

test('bad spacing or shape is an INVALID_INPUT error naming the problem', (t) => {
  const mask = new Uint8Array(6);
  const cases: [readonly number[], readonly number[], RegExp][] = [
    [[2, 3], [1, 0], /spacing\[1\] must be a finite positive number.*got 0/],
    [[2, 3], [-1, 1], /spacing\[0\] must be a finite positive number.*got -1/],
    [[2, 3], [1, Number.NaN], /spacing\[1\].*got NaN/],
    [[2, 3], [1], /spacing \[1\] has 1 entries but shape \[2,3\] has 2 axes/],
    [[2, 2], [1, 1], /shape \[2,2\] needs 4 voxels but the data has 6/],
    [[2, 3.5], [1, 1], /shape\[1\] must be a positive integer, got 3.5/],
    [[], [], /shape must be a non-empty array/],
  ];
  for (const [shape, spacing, message] of cases) {
    const error = t.throws(() => euclideanDistanceTransform(mask, shape, spacing));
    t.true(isRwsegError(error, 'INVALID_INPUT'), String(error));
    t.regex(error!.message, message);
  }
});

test('signed distance: -EDT inside, +EDT of the complement outside, against brute force', (t) => {
  const rand = random(13);
  for (let trial = 0; trial < 40; trial++) {
    const { shape, spacing, mask } = randomCase(rand, 2 + (trial % 2), 8);
    const inside = bruteForceEdt(mask, shape, spacing);
    const outside = bruteForceEdt(
      Uint8Array.from(mask, (v) => 1 - v),
      shape,
      spacing,
    );
    const expected = Array.from(mask, (v, i) => (v ? -inside[i]! : outside[i]!));
    assertClose(t, signedDistanceTransform(mask, shape, spacing), expected, 1e-12, `signed trial ${trial}`);
  }
});

test('class distances equal one brute-force EDT per class and side, including absent, two-class and filling cases', (t) => {
  const rand = random(17);
  const check = (labels: Int32Array, shape: number[], spacing: number[], K: number, what: string) => {
    const result = classDistances(labels, shape, spacing, K, { inside: true, outside: true });
    for (let k = 0; k < K; k++) {
      const count = labels.filter((l) => l === k).length;
      t.is(result.counts[k], count);
      const inClass = Uint8Array.from(labels, (l) => (l === k ? 1 : 0));
      const expectedInside = count === 0 ? new Array(labels.length).fill(0) : bruteForceEdt(inClass, shape, spacing);
      const expectedOutside =
        count === 0
          ? new Array(labels.length).fill(Infinity)
          : bruteForceEdt(
              Uint8Array.from(inClass, (v) => 1 - v),
              shape,
              spacing,
            );
      assertClose(t, result.inside[k]!, expectedInside, 1e-12, `${what} inside class ${k}`);
      assertClose(t, result.outside[k]!, expectedOutside, 1e-12, `${what} outside class ${k}`);
    }
  };
  for (let trial = 0; trial < 40; trial++) {
    const rank = 2 + (trial % 2);
    const shape = Array.from({ length: rank }, () => 1 + Math.floor(rand() * (rank === 3 ? 6 : 10)));
    const spacing = shape.map(() => 0.3 + rand() * 2);
    const K = 2 + Math.floor(rand() * 4);
    // Some trials use fewer labels than K (absent classes) or exactly two labels (the shared-transform path).
    const used = trial % 3 === 0 ? 2 : K;
    const labels = Int32Array.from({ length: shape.reduce((p, s) => p * s, 1) }, () => Math.floor(rand() * used));
    check(labels, shape, spacing, K, `trial ${trial}`);
  }
  check(new Int32Array(12).fill(1), [3, 4], [1, 1], 3, 'class 1 fills the grid');
  // Bounding-box path with a small object far from the corner and a third class.
  const labels = new Int32Array(8 * 9);
  labels[3 * 9 + 4] = 1;
  labels[3 * 9 + 5] = 1;
  labels[7 * 9 + 8] = 2;
  check(labels, [8, 9], [0.6, 1.7], 3, 'small objects');
});

test('class distances only compute what is asked', (t) => {
  const result = classDistances([0, 1, 2, 1], [2, 2], [1, 1], 3);
  t.true(result.inside.every((d) => d instanceof Float64Array));
  t.true(result.outside.every((d) => d === null));
});

test('class distances reject bad labels naming the voxel', (t) => {
  const error = t.throws(() => classDistances([0, 1, 3, 1], [2, 2], [1, 1], 3));
  t.true(isRwsegError(error, 'INVALID_INPUT'));
  t.regex(error!.message, /label 3 at voxel 2 \(\[1,0\]\) is not below numClasses=3/);
});

test('the worker pool computes distance transforms in parallel threads, transfers results, and closes cleanly', async (t) => {
  const pool = new MapWorkerPool({ size: 2, builtins: false });
  try {
    const rand = random(23);
    const cases = Array.from({ length: 6 }, () => randomCase(rand, 3, 9));
    const results = await Promise.all(cases.map((c) => pool.distanceTransform(c.mask, c.shape, c.spacing)));
    results.forEach((r, i) =>
      t.deepEqual(r, euclideanDistanceTransform(cases[i]!.mask, cases[i]!.shape, cases[i]!.spacing)),
    );
    // transfer: the input buffer moves to the worker.
    const moved = Uint8Array.from([1, 0, 1, 1]);
    const d = await pool.distanceTransform(moved, [4], [2], { transfer: true });
    t.deepEqual([...d], [2, 0, 2, 4]);
    t.is(moved.length, 0);
    const error = await t.throwsAsync(pool.distanceTransform([1, 0], [3], [1]));
    t.true(isRwsegError(error, 'INVALID_INPUT'), String(error));
    t.regex(error!.message, /shape \[3\] needs 3 voxels but the data has 2/);
  } finally {
    await pool.close();
  }
  await t.throwsAsync(pool.distanceTransform([0], [1], [1]), { message: /closed/ });
});

test('euclideanDistanceTransformAt is exact at the query voxels and skips lines without one', (t) => {
  const rand = random(29);
  for (let trial = 0; trial < 20; trial++) {
    const { shape, spacing, mask } = randomCase(rand, 2 + (trial % 2), 9);
    const query = Uint8Array.from(mask, () => (rand() < 0.2 ? 1 : 0));
    const full = euclideanDistanceTransform(mask, shape, spacing);
    const at = euclideanDistanceTransformAt(mask, shape, spacing, query);
    const n = shape[shape.length - 1]!;
    for (let i = 0; i < mask.length; i++) {
      const line = Math.floor(i / n) * n;
      const lineHasQuery = query.subarray(line, line + n).some((v) => v !== 0);
      if (query[i]) t.is(at[i], full[i], `trial ${trial} voxel ${i}`);
      else if (!lineHasQuery && shape.length > 1 && n > 1)
        t.true(Number.isNaN(at[i]), `trial ${trial} voxel ${i} should be skipped`);
    }
  }
});
