// classDistances (bounding-box inside transforms, shared transforms for two-class maps) against the plain way:
// one full EDT per class and side. Label maps: background plus 3 blob classes, and a binary map.
// Usage (after `npx tsc -b`): node bench/edt-classes.js
import { classDistances, EdtScratch, euclideanDistanceTransform } from '../packages/core/dist/src/index.js';
import { blobMask } from './edt-masks.js';

function labelMap(shape, classes, balls) {
  const labels = new Int32Array(shape.reduce((p, s) => p * s, 1));
  for (let k = 1; k < classes; k++) {
    const mask = blobMask(shape, 300 + k, balls);
    for (let i = 0; i < labels.length; i++) if (mask[i]) labels[i] = k;
  }
  return labels;
}

/** One full transform per class and side; like classDistances it returns every result in its own array. */
function naive(labels, shape, spacing, K, outside) {
  const scratch = new EdtScratch();
  const mask = new Uint8Array(labels.length);
  const results = [];
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < labels.length; i++) mask[i] = labels[i] === k ? 1 : 0;
    results.push(euclideanDistanceTransform(mask, shape, spacing, { scratch }));
    if (outside) {
      for (let i = 0; i < labels.length; i++) mask[i] = labels[i] === k ? 0 : 1;
      results.push(euclideanDistanceTransform(mask, shape, spacing, { scratch }));
    }
  }
  return results;
}

/** Median times of two functions run alternately, so machine load hits both alike. */
function timePair(fa, fb, repeats = 5) {
  fa();
  fb();
  const ta = [];
  const tb = [];
  for (let r = 0; r < repeats; r++) {
    for (const [fn, ts] of [
      [fa, ta],
      [fb, tb],
    ]) {
      const t = performance.now();
      fn();
      ts.push(performance.now() - t);
    }
  }
  const median = (ts) => ts.sort((x, y) => x - y)[Math.floor(ts.length / 2)];
  return [median(ta), median(tb)];
}

console.log('| label map | K | balls per class | what | K full transforms | classDistances | speed-up |');
console.log('|---|---|---|---|---|---|---|');
// 4 balls per class spread over the volume, or 1 ball per class (small structures, as in a hippocampus patch).
for (const [shape, K, balls] of [
  [[128, 128, 128], 4, 4],
  [[128, 128, 128], 4, 1],
  [[128, 128, 128], 2, 4],
  [[1024, 1024], 4, 4],
  [[1024, 1024], 4, 1],
]) {
  const labels = labelMap(shape, K, balls);
  const spacing = shape.length === 3 ? [2.5, 0.8, 0.8] : [1, 0.7];
  for (const outside of [false, true]) {
    const [a, b] = timePair(
      () => naive(labels, shape, spacing, K, outside),
      () => classDistances(labels, shape, spacing, K, { inside: true, outside, validate: false }),
    );
    const what = outside ? 'inside + outside (boundary maps)' : 'inside only (rrw)';
    console.log(
      `| ${shape.join('x')} | ${K} | ${balls} | ${what} | ${a.toFixed(0)} ms | ${b.toFixed(0)} ms | ${(a / b).toFixed(1)}x |`,
    );
  }
}
