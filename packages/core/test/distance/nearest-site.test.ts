import test from 'ava';
import {
  EdtScratch,
  euclideanDistanceTransform,
  extractSurface,
  isRwsegError,
  nearestSiteDistances,
  surfaceIndices,
} from '../../src/index.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Ascending indices of the voxels where `keep` holds. */
function indicesWhere(n: number, keep: (i: number) => boolean): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep(i)) out.push(i);
  return Int32Array.from(out);
}

/** Worst relative difference between got[q] and dense[queries[q]], Infinity matching Infinity exactly. */
function worstDifference(got: Float64Array, dense: Float64Array, queries: Int32Array): { worst: number; at: number } {
  let worst = 0;
  let at = -1;
  queries.forEach((v, q) => {
    const e = dense[v]!;
    const infinite = e === Infinity || got[q] === Infinity;
    const diff = infinite ? (got[q] === e ? 0 : Infinity) : Math.abs(got[q]! - e) / Math.max(1, e);
    if (!(diff <= worst)) {
      worst = diff;
      at = q;
    }
  });
  return { worst, at };
}

test("equal the dense EDT of the sites' complement read at the queries (1-D to 4-D, anisotropic)", (t) => {
  const rand = random(7);
  const scratch = new EdtScratch();
  for (let trial = 0; trial < 120; trial++) {
    const rank = 1 + (trial % 4);
    const maxSide = [40, 24, 12, 6][rank - 1]!;
    const shape = Array.from({ length: rank }, () => 1 + Math.floor(rand() * maxSide));
    const spacing = shape.map(() => 0.2 + rand() * 2.8);
    const n = shape.reduce((p, s) => p * s, 1);
    // Sparse and dense site sets, as surfaces of small and of large structures give.
    const siteDensity = [0.01, 0.05, 0.3, 0.9][trial % 4]!;
    const siteMask = Uint8Array.from({ length: n }, () => (rand() < siteDensity ? 1 : 0));
    if (!siteMask.includes(1)) siteMask[Math.floor(rand() * n)] = 1;
    const sites = indicesWhere(n, (i) => siteMask[i] === 1);
    const queries = indicesWhere(n, () => rand() < 0.2);
    const dense = euclideanDistanceTransform(
      siteMask.map((v) => 1 - v),
      shape,
      spacing,
    );
    const got = nearestSiteDistances(sites, queries, shape, spacing, trial % 2 === 0 ? scratch : undefined);
    // Near queries are answered by a search over offsets, far ones by the separable transform: the same values
    // up to the rounding of a differently ordered sum.
    const { worst, at } = worstDifference(got, dense, queries);
    const where = `shape ${JSON.stringify(shape)}: query ${at} (voxel ${queries[at]})`;
    t.true(worst <= 1e-12, `${where} gave ${got[at]}, dense ${dense[queries[at]!]}`);
  }
});

test('queries far from every site (beyond the nearby search) are exact too, at the grid edges included', (t) => {
  // A few sites in one corner of a 3-D grid, every voxel a query: most are answered by the separable transform.
  const shape = [14, 33, 29];
  const spacing = [2.5, 0.8, 0.7];
  const n = shape.reduce((p, s) => p * s, 1);
  const siteMask = new Uint8Array(n);
  for (const [i, j, k] of [
    [0, 0, 0],
    [1, 2, 3],
    [0, 5, 1],
    [13, 0, 28],
  ]) {
    siteMask[(i! * shape[1]! + j!) * shape[2]! + k!] = 1;
  }
  const sites = indicesWhere(n, (i) => siteMask[i] === 1);
  const queries = indicesWhere(n, () => true);
  const dense = euclideanDistanceTransform(
    siteMask.map((v) => 1 - v),
    shape,
    spacing,
  );
  const { worst, at } = worstDifference(nearestSiteDistances(sites, queries, shape, spacing), dense, queries);
  t.true(worst <= 1e-12, `voxel ${at}: ${worst}`);
  // The farthest voxel from the corner sites is well beyond the search ball (about 300 voxels).
  t.true(Math.max(...dense) > 20);
});

test('no site gives +Infinity; no query gives an empty result; a query on a site is 0', (t) => {
  t.deepEqual([...nearestSiteDistances(new Int32Array(0), Int32Array.of(0, 5), [2, 3], [1, 1])], [Infinity, Infinity]);
  t.is(nearestSiteDistances(Int32Array.of(1), new Int32Array(0), [2, 3], [1, 1]).length, 0);
  // Sites at (0, 1) and (1, 2) of a 2 x 3 grid with 2 mm rows and 0.5 mm columns; (1, 0) is 1 mm from (1, 2) and
  // 2.06 mm from (0, 1). With 0.2 mm rows, (0, 1) is nearer: hypot(0.2, 0.5).
  const d = nearestSiteDistances(Int32Array.of(1, 5), Int32Array.of(0, 1, 3, 5), [2, 3], [2, 0.5]);
  t.deepEqual([...d], [0.5, 0, 1, 0]);
  const thin = nearestSiteDistances(Int32Array.of(1, 5), Int32Array.of(3), [2, 3], [0.2, 0.5])[0]!;
  t.true(Math.abs(thin - Math.hypot(0.2, 0.5)) < 1e-15);
});

test('index lists that are not ascending or leave the grid are INVALID_INPUT errors naming the list', (t) => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => nearestSiteDistances(Int32Array.of(3, 2), Int32Array.of(0), [2, 3], [1, 1]),
      /sites\[1\] = 2 breaks the strictly ascending order/,
    ],
    [
      () => nearestSiteDistances(Int32Array.of(1), Int32Array.of(0, 6), [2, 3], [1, 1]),
      /queries\[1\] = 6 is outside the grid of 6 voxels/,
    ],
    [() => nearestSiteDistances(Int32Array.of(1), Int32Array.of(0), [2, 3], [1, 0]), /spacing\[1\]/],
  ];
  for (const [fn, message] of cases) {
    const error = t.throws(fn, { message });
    t.true(isRwsegError(error) && error.code === 'INVALID_INPUT');
  }
});

test("surfaceIndices lists extractSurface's voxels in order, the array border counting as outside", (t) => {
  const rand = random(11);
  for (let trial = 0; trial < 60; trial++) {
    const rank = 1 + (trial % 4);
    const shape = Array.from({ length: rank }, () => 1 + Math.floor(rand() * [30, 16, 9, 5][rank - 1]!));
    const n = shape.reduce((p, s) => p * s, 1);
    const mask = Uint8Array.from({ length: n }, () => (rand() < 0.6 ? 1 : 0));
    const indices = surfaceIndices(mask, shape);
    // The definition by coordinates: a mask voxel with a face neighbor outside the mask or the array.
    const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, s) => p * s, 1));
    const expected = indicesWhere(n, (i) => {
      if (mask[i] === 0) return false;
      return shape.some((side, a) => {
        const c = Math.floor(i / strides[a]!) % side;
        return c === 0 || c === side - 1 || mask[i - strides[a]!] === 0 || mask[i + strides[a]!] === 0;
      });
    });
    t.deepEqual([...indices], [...expected], `shape ${JSON.stringify(shape)}`);
    t.deepEqual(
      [...extractSurface(mask, shape)],
      Array.from({ length: n }, (_, i) => (expected.includes(i) ? 1 : 0)),
    );
  }
});
