import test from 'ava';
import {
  checkMapPrinciples,
  createRegistry,
  defineMap,
  definePlugin,
  isRwsegError,
  PLUGIN_API_VERSION,
  upsampleNearest,
  z,
  type LabelMapInput,
  type PluginRegistry,
} from '../../src/index.js';

const SPEC: LabelMapInput = {
  labels: [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 2, 0, 0, 0, 0, 0, 2],
  shape: [5, 6],
  numClasses: 3,
  spacing: [1, 1],
};

// A third-party-style map written the wrong way round: the true class gets the LARGEST value (1), others 0.
const inverted = defineMap({
  name: 'inverted-indicator',
  description: '1 on the true class, 0 elsewhere (violates P1 on purpose)',
  options: z.object({}),
  generate: ({ labels, numClasses }) => {
    const out = new Float32Array(labels.length * numClasses);
    for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]!] = 1;
    return out;
  },
});
const flat = defineMap({
  name: 'flat',
  description: 'all zeros: every voxel a tie',
  options: z.object({}),
  generate: ({ labels, numClasses }) => new Float32Array(labels.length * numClasses),
});
const wrongLength = defineMap({
  name: 'short-map',
  description: 'one value too few',
  options: z.object({}),
  generate: ({ labels }) => new Float32Array(labels.length),
});

let registry: PluginRegistry;
test.before(async () => {
  registry = await createRegistry({
    packageJson: false,
    plugins: [
      definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'third-party-maps', maps: [inverted, flat, wrongLength] }),
    ],
  });
});

/** Two discs of different sizes on a 2D grid, K = 3. */
function discs(size: number): LabelMapInput {
  const labels = new Int32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if ((y - size * 0.3) ** 2 + (x - size * 0.35) ** 2 < (size * 0.2) ** 2) labels[y * size + x] = 1;
      else if ((y - size * 0.7) ** 2 + (x - size * 0.7) ** 2 < (size * 0.12) ** 2) labels[y * size + x] = 2;
    }
  }
  return { labels, shape: [size, size], numClasses: 3, spacing: [1, 1] };
}

test('upsampleNearest repeats every voxel factor times along every axis', (t) => {
  const up = upsampleNearest([1, 2, 3, 4, 5, 6], [2, 3], 2);
  t.deepEqual(up.shape, [4, 6]);
  t.deepEqual([...up.labels], [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6]);
});

test('rrw on the spec vector: strict minimum, margins in (1, 2], scale-free under x2 upsampling', (t) => {
  const report = checkMapPrinciples(registry.createMapGenerator('rrw'), SPEC);
  t.is(report.violations, 0);
  t.is(report.ties, 0);
  t.true(report.strictMinimum);
  // Weakest push: a background voxel next to the object, -1/sqrt(5) against +1; strongest: a deepest voxel, -1 against +1.
  t.true(Math.abs(report.minMargin - (1 + 1 / Math.sqrt(5))) < 1e-6);
  t.true(Math.abs(report.maxMargin - 2) < 1e-6);
  t.true(Math.abs(report.marginRatio - 2 / (1 + 1 / Math.sqrt(5))) < 1e-6);
  t.is(report.maxAbs, 1);
  t.true(Math.abs(report.gradientBound - 2 / 90) < 1e-9);
  t.is(report.upsampled.factor, 2);
  t.true(Math.abs(report.upsampled.maxMarginRatio - 1) < 1e-6);
  t.true(report.upsampled.minMargin > 1);
  t.true(report.scaleFree);
  t.true(report.pass);
});

test('rrw passes on 2D discs and a 3D anisotropic volume; boundary is strict but not scale-free', (t) => {
  const labels3d = new Int32Array(6 * 10 * 12).map((_, i) =>
    i % 12 > 3 && Math.floor(i / 12) % 10 > 2 && Math.floor(i / 120) > 1 ? 1 : 0,
  );
  const cases = [discs(24), { labels: labels3d, shape: [6, 10, 12], numClasses: 2, spacing: [3, 1, 0.8] }];
  for (const input of cases) {
    const rrw = checkMapPrinciples(registry.createMapGenerator('rrw'), input);
    t.true(rrw.pass, JSON.stringify(rrw));
    t.true(rrw.minMargin > 1 && rrw.maxMargin <= 2 + 1e-6);
    const boundary = checkMapPrinciples(registry.createMapGenerator('boundary'), input);
    t.true(boundary.strictMinimum);
    // Distances in voxels double when every object spans twice as many voxels: the largest push grows.
    t.true(
      boundary.upsampled.maxMargin > boundary.maxMargin * 1.5,
      `${boundary.maxMargin} -> ${boundary.upsampled.maxMargin}`,
    );
    t.false(boundary.scaleFree);
    t.false(boundary.pass);
  }
});

test('boundary: strict above 0.5 mm, ties at 0.5 mm and violates P1 below, its -1 being in mm; rrw passes at every spacing', (t) => {
  const input = discs(24);
  const at = (s: number) => checkMapPrinciples(registry.createMapGenerator('boundary'), { ...input, spacing: [s, s] });
  const coarse = at(0.6);
  t.true(coarse.strictMinimum);
  t.deepEqual(coarse.spacing, [0.6, 0.6]);
  // On the inner border the true class is 1 - s and its neighbor class s: margin 2 s - 1.
  t.true(Math.abs(coarse.minMargin - 0.2) < 1e-6, String(coarse.minMargin));
  const half = at(0.5);
  t.false(half.strictMinimum);
  t.is(half.violations, 0);
  t.true(half.ties > 0);
  const fine = at(0.4);
  t.true(fine.violations > 0);
  t.true(Math.abs(fine.minMargin - -0.2) < 1e-6);
  // The report says where: an inner-border voxel of a disc against the class across the border.
  const where = fine.minMarginAt!;
  t.not(where.trueClass, where.otherClass);
  t.is(input.labels[where.voxel[0]! * 24 + where.voxel[1]!], where.trueClass);
  for (const s of [0.3, 0.5, 2])
    t.true(checkMapPrinciples(registry.createMapGenerator('rrw'), { ...input, spacing: [s, s] }).pass, String(s));
});

test('a third-party map that gives the true class the largest value is reported as violating P1', (t) => {
  const report = checkMapPrinciples(registry.createMapGenerator('inverted-indicator'), SPEC);
  t.is(report.violations, 30);
  t.false(report.strictMinimum);
  t.false(report.pass);
  t.is(report.minMargin, -1);
  t.is(report.maxMargin, -1);
});

test('a constant map is all ties, and a map of the wrong size is an error naming the map', (t) => {
  const flatReport = checkMapPrinciples(registry.createMapGenerator('flat'), SPEC);
  t.is(flatReport.violations, 0);
  t.is(flatReport.ties, 30);
  t.false(flatReport.strictMinimum);
  const error = t.throws(() => checkMapPrinciples(registry.createMapGenerator('short-map'), SPEC));
  t.true(isRwsegError(error, 'INVALID_PLUGIN'));
  t.regex(error!.message, /map 'short-map' returned a Float32Array of 30 values; expected .* = 90 values/);
  const bad = t.throws(() => checkMapPrinciples(registry.createMapGenerator('rrw'), { ...SPEC, numClasses: 2 }));
  t.regex(bad!.message, /principle check of map 'rrw': label 2 at voxel 23/);
});

test('mapFigurePng draws the labels and each map on a diverging scale with its color bar', async (t) => {
  const { mapFigurePng } = await import('../../src/index.js');
  const { PNG } = await import('pngjs');
  const rrw = registry.createMapGenerator('rrw').generate(SPEC);
  const figure = mapFigurePng(SPEC.labels, SPEC.shape, 3, 1, [{ name: 'rrw', map: rrw }]);
  t.deepEqual(figure.panels, [{ name: 'rrw', limit: 1, min: -1, max: 1 }]);
  const png = PNG.sync.read(figure.png);
  t.is(png.width, figure.width);
  // 5x6 labels are drawn at 26x per voxel (at least 128 px on the short side), panels 8 px apart.
  const scale = 26;
  const pixel = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
  t.is(figure.scale, scale);
  t.is(figure.panelWidth, 6 * scale);
  const center = (panel: number, row: number, col: number) =>
    pixel(8 + panel * (6 * scale + 8) + col * scale + 13, figure.panelTop + row * scale + 13);
  t.deepEqual(center(0, 0, 0), [0, 0, 0]); // class 0: black
  t.deepEqual(center(0, 2, 2), [255, 215, 0]); // class 1
  t.deepEqual(center(1, 2, 2), [0, 0, 255]); // rrw = -1 at the center of class 1: full blue
  t.deepEqual(center(1, 1, 1), [128, 128, 255]); // -0.5 on its ring
  t.deepEqual(center(1, 0, 0), [255, 0, 0]); // +1 outside
  // Titles above the panels and values under the bar are drawn (dark text pixels on the white margin).
  const dark = (x0: number, y0: number, w: number, h: number) => {
    let n = 0;
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (pixel(x, y).every((v) => v < 128)) n++;
    return n;
  };
  t.true(dark(8, 8, 6 * scale, figure.panelTop - 8) > 20, 'the labels panel has a title');
  t.true(dark(8 + 6 * scale + 8, 8, 6 * scale, figure.panelTop - 8) > 20, 'the rrw panel has a title');
  const barBottom = figure.panelTop + 5 * scale + 4 + 12;
  t.true(dark(8 + 6 * scale + 8, barBottom + 2, 6 * scale, 13) > 20, 'the color bar has its values');
});
