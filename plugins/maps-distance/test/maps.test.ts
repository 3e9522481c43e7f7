import test from 'ava';
import { createRegistry, isRwsegError, type PluginRegistry } from '@rwseg/core';
import { MapWorkerPool } from '@rwseg/core/distance';
import { type LabelMapInput } from '@rwseg/core/plugin';

// The spec's test vector (../shared/spec/region-wise-loss.md): 2D, K = 3, spacing 1.
const SPEC_LABELS = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 2, 0, 0, 0, 0, 0, 2];
const SPEC: LabelMapInput = { labels: SPEC_LABELS, shape: [5, 6], numClasses: 3, spacing: [1, 1] };
const RRW_CLASS0 = [
  -0.632456, -0.447214, -0.447214, -0.447214, -0.632456, -1.0, -0.447214, 1, 1, 1, -0.447214, -0.894427, -0.447214, 1,
  1, 1, -0.447214, -0.447214, -0.447214, 1, 1, 1, -0.447214, 1, -0.632456, -0.447214, -0.447214, -0.447214, -0.447214,
  1,
];
const RRW_CLASS1 = SPEC_LABELS.map((l, i) => (l !== 1 ? 1 : i === 2 * 6 + 2 ? -1 : -0.5));
const RRW_CLASS2 = SPEC_LABELS.map((l) => (l === 2 ? -1 : 1));
const BOUNDARY_RW_CLASS0 = [
  -1.414214, -1, -1, -1, -1.414214, -2.236068, -1, 1, 1, 1, -1, -2, -1, 1, 2, 1, -1, -1, -1, 1, 1, 1, -1, 1, -1.414214,
  -1, -1, -1, -1, 1,
];

let registry: PluginRegistry;
test.before(async () => {
  // The real registry, with the built-in plugins loaded by package name as users get them.
  registry = await createRegistry({ packageJson: false });
});

function channel(map: Float32Array, k: number, K: number): number[] {
  return Array.from({ length: map.length / K }, (_, i) => map[i * K + k]!);
}

function close(
  t: import('ava').ExecutionContext,
  actual: readonly number[],
  expected: readonly number[],
  tolerance: number,
  what: string,
): void {
  t.is(actual.length, expected.length, what);
  const worst = Math.max(0, ...actual.map((a, i) => Math.abs(a - expected[i]!)));
  t.true(
    worst <= tolerance,
    `${what}: worst error ${worst}\nactual   ${actual.map((v) => v.toFixed(6)).join(' ')}\nexpected ${expected.join(' ')}`,
  );
}

/** L_RW = mean over k, i of softmax(logits) * z, B = 1: the spec's second check on the maps. */
function regionWiseLoss(
  map: Float32Array,
  logits: (label: number, k: number) => number,
  labels: readonly number[],
  K: number,
): number {
  let total = 0;
  labels.forEach((label, i) => {
    const a = Array.from({ length: K }, (_, k) => logits(label, k));
    const m = Math.max(...a);
    const e = a.map((v) => Math.exp(v - m));
    const s = e.reduce((p, v) => p + v, 0);
    for (let k = 0; k < K; k++) total += (e[k]! / s) * map[i * K + k]!;
  });
  return total / (labels.length * K);
}

test('rrw reproduces the spec vector for classes 0, 1 and 2, and its L_RW values', (t) => {
  const map = registry.createMapGenerator('rrw').generate(SPEC);
  t.true(map instanceof Float32Array);
  t.is(map.length, 30 * 3);
  close(t, channel(map, 0, 3), RRW_CLASS0, 1e-6, 'rrw class 0');
  close(t, channel(map, 1, 3), RRW_CLASS1, 1e-6, 'rrw class 1');
  close(t, channel(map, 2, 3), RRW_CLASS2, 1e-6, 'rrw class 2');
  t.true(Math.abs(regionWiseLoss(map, () => 0, SPEC_LABELS, 3) - 0.15906376) < 1e-6);
  t.true(Math.abs(regionWiseLoss(map, (l, k) => (l === k ? 10 : 0), SPEC_LABELS, 3) - -0.18942791) < 1e-6);
});

test('boundary-rw reproduces the spec vector for class 0, and its L_RW values', (t) => {
  const map = registry.createMapGenerator('boundary-rw').generate(SPEC);
  close(t, channel(map, 0, 3), BOUNDARY_RW_CLASS0, 1e-6, 'boundary-rw class 0');
  t.true(Math.abs(regionWiseLoss(map, () => 0, SPEC_LABELS, 3) - 0.36316198) < 1e-6);
  t.true(Math.abs(regionWiseLoss(map, (l, k) => (l === k ? 10 : 0), SPEC_LABELS, 3) - -0.38299513) < 1e-6);
});

test('boundary (Kervadec) is boundary-rw shifted by +1 inside each class: 0 on the inner border', (t) => {
  const kervadec = registry.createMapGenerator('boundary').generate(SPEC);
  const rw = registry.createMapGenerator('boundary-rw').generate(SPEC);
  for (let i = 0; i < 30; i++) {
    for (let k = 0; k < 3; k++) {
      const expected = rw[i * 3 + k]! + (SPEC_LABELS[i] === k ? 1 : 0);
      t.true(Math.abs(kervadec[i * 3 + k]! - expected) < 1e-6, `voxel ${i} class ${k}`);
    }
  }
  // Class 1's ring is on its inner border (0), its center one voxel deeper (-1); outside it the distance to it.
  t.is(kervadec[(1 * 6 + 1) * 3 + 1], 0);
  t.is(kervadec[(2 * 6 + 2) * 3 + 1], -1);
  t.true(Math.abs(kervadec[0 * 3 + 1]! - Math.SQRT2) < 1e-6);
});

/** Brute-force EDT to the nearest voxel where `isZero` holds (the definition), for an independent check. */
function bruteDistance(shape: number[], spacing: number[], from: number, isZero: (j: number) => boolean): number {
  const coord = (index: number) =>
    shape.map((_, a) => Math.floor(index / shape.slice(a + 1).reduce((p, s) => p * s, 1)) % shape[a]!);
  const c = coord(from);
  let best = Infinity;
  const n = shape.reduce((p, s) => p * s, 1);
  for (let j = 0; j < n; j++) {
    if (!isZero(j)) continue;
    const d = coord(j);
    best = Math.min(best, Math.hypot(...c.map((v, a) => (v - d[a]!) * spacing[a]!)));
  }
  return best;
}

test('on a 3D anisotropic label map every map matches its definition computed by brute force', (t) => {
  const shape = [4, 5, 6];
  const spacing = [2.5, 0.7, 1.2];
  const labels: number[] = Array.from({ length: 120 }, (_, i) => ((i * 7919) % 13 < 6 ? 0 : (i * 31) % 5 < 3 ? 1 : 2));
  const input = { labels, shape, spacing, numClasses: 4 };
  const maps = Object.fromEntries(
    ['rrw', 'boundary', 'boundary-rw'].map((name) => [name, registry.createMapGenerator(name).generate(input)]),
  );
  for (let k = 0; k < 4; k++) {
    const present = labels.includes(k);
    const inside = labels.map((l, i) => (l === k ? bruteDistance(shape, spacing, i, (j) => labels[j] !== k) : 0));
    const outside = labels.map((l, i) =>
      l !== k && present ? bruteDistance(shape, spacing, i, (j) => labels[j] === k) : 0,
    );
    const max = Math.max(...inside);
    const expectedRrw = labels.map((l, i) => (!present ? 1 : l === k ? -inside[i]! / max : 1));
    const expectedBoundaryRw = labels.map((l, i) => (!present ? 0 : l === k ? -inside[i]! : outside[i]!));
    const expectedBoundary = labels.map((l, i) => (!present ? 0 : l === k ? 1 - inside[i]! : outside[i]!));
    close(t, channel(maps.rrw!, k, 4), expectedRrw, 1e-6, `rrw class ${k}`);
    close(t, channel(maps['boundary-rw']!, k, 4), expectedBoundaryRw, 1e-5, `boundary-rw class ${k}`);
    close(t, channel(maps.boundary!, k, 4), expectedBoundary, 1e-5, `boundary class ${k}`);
  }
});

test('spec edge cases: an absent class and a class filling the patch', (t) => {
  const filled: LabelMapInput = { labels: new Array(12).fill(1), shape: [3, 4], numClasses: 3, spacing: [1, 1] };
  const gen = (name: string, options?: Record<string, unknown>) =>
    registry.createMapGenerator(name, options).generate(filled);
  // Class 1 fills the patch, classes 0 and 2 are absent.
  t.deepEqual(channel(gen('rrw'), 1, 3), new Array(12).fill(-1));
  t.deepEqual(channel(gen('rrw'), 0, 3), new Array(12).fill(1));
  t.deepEqual(channel(gen('rrw'), 2, 3), new Array(12).fill(1));
  for (const name of ['boundary', 'boundary-rw']) {
    for (let k = 0; k < 3; k++) t.deepEqual(channel(gen(name), k, 3), new Array(12).fill(0), `${name} class ${k}`);
  }
  const balanced = gen('rw-class-balance', { weights: [0.3, 0.5, 0.2] });
  t.deepEqual(channel(balanced, 1, 3), new Array(12).fill(-1));
  t.deepEqual(channel(balanced, 0, 3), new Array(12).fill(Math.fround(0.3)));
  t.deepEqual(channel(balanced, 2, 3), new Array(12).fill(Math.fround(0.2)));
});

test('rw-class-balance: rrw inside, the given weight outside; derived weights are the class frequencies', (t) => {
  const rrw = registry.createMapGenerator('rrw').generate(SPEC);
  const given = registry.createMapGenerator('rw-class-balance', { weights: [0.95, 0.05, 0.5] }).generate(SPEC);
  const derived = registry.createMapGenerator('rw-class-balance').generate(SPEC);
  const frequencies = [19 / 30, 9 / 30, 2 / 30];
  for (let i = 0; i < 30; i++) {
    for (let k = 0; k < 3; k++) {
      const inClass = SPEC_LABELS[i] === k;
      t.is(given[i * 3 + k], inClass ? rrw[i * 3 + k] : Math.fround([0.95, 0.05, 0.5][k]!));
      t.is(derived[i * 3 + k], inClass ? rrw[i * 3 + k] : Math.fround(frequencies[k]!));
    }
  }
  const error = t.throws(() => registry.createMapGenerator('rw-class-balance', { weights: [0.5, 0.5] }).generate(SPEC));
  t.true(isRwsegError(error, 'INVALID_OPTIONS'));
  t.regex(error!.message, /option 'weights' has 2 entries but the label map has 3 classes/);
  const negative = t.throws(() => registry.createMapGenerator('rw-class-balance', { weights: [0.5, -1, 0] }));
  t.true(isRwsegError(negative, 'INVALID_OPTIONS'));
  t.regex(negative!.message, /rw-class-balance.*option 'weights\.1'/);
});

test('bad label maps are rejected naming what was wrong', (t) => {
  const base = { labels: [0, 1, 1, 0], shape: [2, 2], numClasses: 2, spacing: [1, 1] };
  const cases: [Partial<LabelMapInput>, RegExp][] = [
    [{ labels: [0, 1.5, 1, 0] }, /map 'rrw': label 1.5 at voxel 1 \(\[0,1\]\) is not an integer/],
    [{ labels: [0, 1, -1, 0] }, /label -1 at voxel 2 \(\[1,0\]\) is negative/],
    [{ labels: [0, 1, 2, 0] }, /label 2 at voxel 2 .* is not below numClasses=2/],
    [{ shape: [3, 2] }, /shape \[3,2\] needs 6 voxels but the data has 4/],
    [{ spacing: [1] }, /spacing \[1\] has 1 entries but shape \[2,2\] has 2 axes/],
    [{ spacing: [1, 0] }, /spacing\[1\] must be a finite positive number/],
    [{ spacing: [-2, 1] }, /spacing\[0\] must be a finite positive number/],
  ];
  for (const name of ['rrw', 'rw-class-balance', 'boundary', 'boundary-rw']) {
    for (const [override, message] of cases) {
      const error = t.throws(() =>
        registry.createMapGenerator(name).generate({ ...base, ...override } as LabelMapInput),
      );
      t.true(isRwsegError(error, 'INVALID_INPUT'), `${name}: ${String(error)}`);
      t.regex(
        error!.message,
        name === 'rrw' ? message : new RegExp(message.source.replace("map 'rrw'", `map '${name}'`)),
      );
    }
  }
  const unknown = t.throws(() => registry.createMapGenerator('rrw', { spacing: [1, 1] }));
  t.regex(unknown!.message, /unknown option 'spacing'/);
});

test('the worker pool computes a batch of maps with the registered generators', async (t) => {
  const pool = new MapWorkerPool({ size: 2 });
  try {
    const inputs = Array.from({ length: 5 }, (_, b) => ({
      labels: Int32Array.from({ length: 8 * 9 * 7 }, (_, i) => ((i * (b + 3)) % 11 < 4 ? 0 : i % 3 === 0 ? 2 : 1)),
      shape: [8, 9, 7],
      spacing: [1.5, 0.5, 1],
      numClasses: 3,
    }));
    for (const name of ['rrw', 'boundary']) {
      const maps = await pool.generateBatch(name, {}, inputs);
      maps.forEach((map, b) =>
        t.deepEqual(map, registry.createMapGenerator(name).generate(inputs[b]!), `${name} sample ${b}`),
      );
    }
    const error = await t.throwsAsync(pool.generate('rrw', {}, { ...inputs[0]!, numClasses: 2 }));
    t.true(isRwsegError(error, 'INVALID_INPUT'));
    t.regex(error!.message, /not below numClasses=2/);
  } finally {
    await pool.close();
  }
});
