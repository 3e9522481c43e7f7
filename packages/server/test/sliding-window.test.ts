/** Sliding-window maths against brute force: every voxel's weighted mean over the windows that cover it. */
import test from 'ava';
import { argmaxLabels, gaussianImportance, slidingWindowProbabilities, windowStarts } from '../src/index.js';

test('window starts cover the axis, begin at 0, end flush, and step at most patch*(1-overlap)', (t) => {
  t.deepEqual(windowStarts(8, 8, 0.5), [0]);
  t.deepEqual(windowStarts(5, 8, 0.5), [0]);
  t.deepEqual(windowStarts(20, 8, 0.5), [0, 4, 8, 12]);
  t.deepEqual(windowStarts(13, 8, 0.5), [0, 3, 5]);
  for (const [size, patch] of [[100, 16], [17, 5], [33, 32]]) {
    const starts = windowStarts(size, patch, 0.5);
    t.is(starts[0], 0);
    t.is(starts.at(-1)! + patch, size);
    for (let i = 1; i < starts.length; i++) t.true(starts[i] - starts[i - 1] <= patch / 2 && starts[i] > starts[i - 1]);
  }
});

test('Gaussian importance: peak 1 at the centre, symmetric, sigma = patch/8, never zero', (t) => {
  const w = gaussianImportance([9]);
  t.is(w[4], 1);
  t.is(w[0], w[8]);
  const sigma = 9 / 8;
  t.true(Math.abs(w[5] - Math.exp(-1 / (2 * sigma * sigma))) < 1e-6);
  const w2 = gaussianImportance([4, 64]);
  t.true(w2.every((v) => v > 0));
  t.true(Math.abs(w2[1 * 64 + 10] - gaussianImportance([4])[1] * gaussianImportance([64])[10]) < 1e-6);
});

/** A position-dependent fake model: class scores depend on the window's absolute position, so blending matters. */
function positionalRunner(classes: number) {
  return async (patches: Float32Array, n: number, patch: readonly number[]) => {
    const voxels = patch.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n * voxels * classes);
    for (let b = 0; b < n; b++) {
      for (let v = 0; v < voxels; v++) {
        const value = patches[b * voxels + v];
        const logits = Array.from({ length: classes }, (_, k) => Math.sin(value * (k + 1) + v * 0.37 + k));
        const sum = logits.reduce((s, l) => s + Math.exp(l), 0);
        logits.forEach((l, k) => (out[(b * voxels + v) * classes + k] = Math.exp(l) / sum));
      }
    }
    return { data: out, classes };
  };
}

test('2D sliding window equals the brute-force Gaussian-weighted mean over covering windows', async (t) => {
  const [h, w, ph, pw, K] = [11, 14, 6, 5, 3];
  const image = Float32Array.from({ length: h * w }, (_, i) => Math.cos(i * 0.7));
  const run = positionalRunner(K);
  const got = await slidingWindowProbabilities(image, [h, w], 1, [ph, pw], run, { overlap: 0.5, batchSize: 3 });
  t.is(got.classes, K);
  const weights = gaussianImportance([ph, pw]);
  const acc = new Float64Array(h * w * K);
  const wsum = new Float64Array(h * w);
  for (const y0 of windowStarts(h, ph, 0.5)) {
    for (const x0 of windowStarts(w, pw, 0.5)) {
      const patch = new Float32Array(ph * pw);
      for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) patch[y * pw + x] = image[(y0 + y) * w + x0 + x];
      const { data } = await run(patch, 1, [ph, pw]);
      for (let y = 0; y < ph; y++) {
        for (let x = 0; x < pw; x++) {
          const v = (y0 + y) * w + x0 + x;
          const wt = weights[y * pw + x];
          wsum[v] += wt;
          for (let k = 0; k < K; k++) acc[v * K + k] += wt * data[(y * pw + x) * K + k];
        }
      }
    }
  }
  let maxDiff = 0;
  for (let v = 0; v < h * w; v++) for (let k = 0; k < K; k++) maxDiff = Math.max(maxDiff, Math.abs(acc[v * K + k] / wsum[v] - got.probabilities[v * K + k]));
  t.true(maxDiff < 1e-5, `max difference ${maxDiff}`);
});

test('images smaller than the patch are zero-padded and cropped back; leading axes are independent slices', async (t) => {
  const K = 2;
  const run = positionalRunner(K);
  const image = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 10);
  const got = await slidingWindowProbabilities(image, [2, 3, 4], 1, [5, 5], run);
  t.is(got.probabilities.length, 2 * 3 * 4 * K);
  for (let s = 0; s < 2; s++) {
    const padded = new Float32Array(25);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) padded[y * 5 + x] = image[s * 12 + y * 4 + x];
    const { data } = await run(padded, 1, [5, 5]);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) for (let k = 0; k < K; k++) {
      t.true(Math.abs(got.probabilities[(s * 12 + y * 4 + x) * K + k] - data[(y * 5 + x) * K + k]) < 1e-6);
    }
  }
});

test('argmax picks the largest class and the lower index on ties', (t) => {
  t.deepEqual(Array.from(argmaxLabels(new Float32Array([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0, 1]), 3)), [1, 0, 2]);
});
