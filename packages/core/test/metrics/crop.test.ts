import test from 'ava';
import { readFileSync } from 'node:fs';
import { computeSegmentationMetrics } from '../../src/index.js';

// Surface metrics are computed per class on the bounding box of pred ∪ ref. These fixtures (scipy, on the whole
// uncropped volume, fixtures/metrics/make_crop_fixtures.py) are the cases where that crop could go wrong: masks
// on the volume border, tiny masks far apart, a small box in a large anisotropic image, classes with separate
// boxes (background included), an empty mask.

interface CropCase {
  name: string;
  shape: number[];
  spacing: number[];
  numClasses: number;
  includeBackground: boolean;
  nsdTolerance: number;
  pred: string;
  ref: string;
  /** null: NaN (one mask empty). */
  metrics: {
    classIndex: number;
    dice: number;
    hd: number | null;
    hd95: number | null;
    assd: number | null;
    nsd: number;
  }[];
}

const fixturePath = new URL('../../../test/fixtures/metrics/crop_cases.json', import.meta.url);
const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as { cases: CropCase[] };

for (const c of fixture.cases) {
  test(`matches scipy on the uncropped volume: ${c.name}`, (t) => {
    const labels = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0) - 48);
    const got = computeSegmentationMetrics(labels(c.pred), labels(c.ref), c.shape, c.spacing, {
      numClasses: c.numClasses,
      includeBackground: c.includeBackground,
      nsdTolerance: c.nsdTolerance,
    });
    t.deepEqual(
      got.map((m) => m.classIndex),
      c.metrics.map((m) => m.classIndex),
    );
    c.metrics.forEach((expected, i) => {
      for (const key of ['dice', 'hd', 'hd95', 'assd', 'nsd'] as const) {
        const want = expected[key] ?? Number.NaN;
        const value = got[i]![key];
        const what = `class ${expected.classIndex} ${key}: expected ${want}, got ${value}`;
        if (Number.isNaN(want)) t.true(Number.isNaN(value), what);
        else t.true(Math.abs(value - want) <= 1e-9, what);
      }
    });
  });
}

test('integer typed label maps are checked too: a label >= numClasses is an error naming the voxel', (t) => {
  const pred = Uint8Array.of(0, 1, 1, 0, 0, 0);
  for (const ref of [Uint8Array.of(0, 1, 0, 0, 2, 0), Int32Array.of(0, 1, 0, 0, -1, 0)]) {
    t.throws(() => computeSegmentationMetrics(pred, ref, [2, 3], [1, 1], { numClasses: 2 }), {
      message: /metrics: reference: label -?\d at voxel 4 \(\[1,1\]\) is (not below numClasses=2|negative)/,
    });
  }
});
