import test from 'ava';
import {
  augmentIntensity,
  createRandom,
  drawSample,
  generateSyntheticCase,
  normalizeChannels,
  prepareCase,
  resampleAxis,
  resampleCase,
  resolveAugment,
  resolveSyntheticOptions,
  samplePatch,
  type Case,
} from '../../src/index.js';

const NONE = resolveAugment(false, 2);

/** A [H, W] ramp image value = 10*y + x, with its label = (x + y) % 3. */
function ramp(h: number, w: number) {
  const image = Float32Array.from({ length: h * w }, (_, i) => 10 * Math.floor(i / w) + (i % w));
  const label = Int32Array.from({ length: h * w }, (_, i) => (Math.floor(i / w) + (i % w)) % 3);
  return { image, label, shape: [h, w], channels: 1 };
}

test('augment: an identity transform crops exactly and pads outside the image', (t) => {
  const src = ramp(6, 7);
  // Patch [3, 4] with corner (2, 1): center = corner + (P - 1) / 2.
  const { image, label } = samplePatch(
    src,
    [3, 4],
    [2 + 1, 1 + 1.5],
    [
      [1, 0],
      [0, 1],
    ],
  );
  t.deepEqual(Array.from(image), [21, 22, 23, 24, 31, 32, 33, 34, 41, 42, 43, 44]);
  t.deepEqual(Array.from(label), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
  // Corner (-1, 5) hangs over the top and right edges: those voxels read the pad value.
  const padded = samplePatch(
    src,
    [2, 3],
    [-1 + 0.5, 5 + 1],
    [
      [1, 0],
      [0, 1],
    ],
    -9,
  );
  t.deepEqual(Array.from(padded.image), [-9, -9, -9, 5, 6, -9]);
  t.deepEqual(Array.from(padded.label), [0, 0, 0, 2, 0, 0]);
});

test('augment: flips and quarter turns permute voxels exactly; half-voxel shifts interpolate linearly', (t) => {
  const src = ramp(4, 4);
  const center = [1.5, 1.5];
  const flipX = samplePatch(src, [4, 4], center, [
    [1, 0],
    [0, -1],
  ]);
  t.deepEqual(Array.from(flipX.image.subarray(0, 4)), [3, 2, 1, 0]);
  const turn = samplePatch(src, [4, 4], center, [
    [0, -1],
    [1, 0],
  ]);
  // source = center + M (q - h) = (1.5 - (x - 1.5), 1.5 + (y - 1.5)): out[y][x] = src[3 - x][y].
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) t.is(turn.image[y * 4 + x], src.image[(3 - x) * 4 + y]);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) t.is(turn.label[y * 4 + x], src.label[(3 - x) * 4 + y]);
  const shifted = samplePatch(
    src,
    [2, 2],
    [1.5, 1.0],
    [
      [1, 0],
      [0, 1],
    ],
  );
  t.deepEqual(Array.from(shifted.image), [10.5, 11.5, 20.5, 21.5]);
});

function discCase(size: number, radius: number): Case {
  const n = size * size;
  const label = new Int32Array(n);
  const c = (size - 1) / 2;
  for (let i = 0; i < n; i++)
    if ((Math.floor(i / size) - c) ** 2 + ((i % size) - c) ** 2 <= radius * radius) label[i] = 1;
  return {
    id: 'disc',
    image: { data: Float32Array.from(label), shape: [size, size, 1], spacing: [1, 1], channels: 1 },
    label: { data: label, shape: [size, size], spacing: [1, 1] },
    source: 'test',
  };
}

test('augment: free rotation keeps a disc, zooming by f scales its area by f^2', (t) => {
  const c = discCase(64, 12);
  const area = (l: Int32Array) => l.reduce((a, b) => a + b, 0);
  const src = { image: c.image.data, label: c.label!.data, shape: [64, 64], channels: 1 };
  const base = area(
    samplePatch(
      src,
      [64, 64],
      [31.5, 31.5],
      [
        [1, 0],
        [0, 1],
      ],
    ).label,
  );
  const a = 0.7;
  const rotated = area(
    samplePatch(
      src,
      [64, 64],
      [31.5, 31.5],
      [
        [Math.cos(a), -Math.sin(a)],
        [Math.sin(a), Math.cos(a)],
      ],
    ).label,
  );
  t.true(Math.abs(rotated - base) / base < 0.03, `${rotated} vs ${base}`);
  const zoomed = area(
    samplePatch(
      src,
      [64, 64],
      [31.5, 31.5],
      [
        [1 / 1.4, 0],
        [0, 1 / 1.4],
      ],
    ).label,
  );
  t.true(Math.abs(zoomed / base - 1.96) < 0.08, `ratio ${zoomed / base}`);
  const shrunk = area(
    samplePatch(
      src,
      [64, 64],
      [31.5, 31.5],
      [
        [1 / 0.7, 0],
        [0, 1 / 0.7],
      ],
    ).label,
  );
  t.true(Math.abs(shrunk / base - 0.49) < 0.05, `ratio ${shrunk / base}`);
});

test('augment: intensity scale, gamma and blur match their closed forms', (t) => {
  const fixed = (o: object) => ({ ...NONE, ...o });
  const img = Float32Array.from([0, 1, 2, 4]);
  t.deepEqual(
    Array.from(
      augmentIntensity(
        Float32Array.from(img),
        [2, 2],
        1,
        fixed({ intensityScale: 1, intensityRange: [2, 2] }),
        createRandom(1),
      ),
    ),
    [0, 2, 4, 8],
  );
  const gamma = augmentIntensity(
    Float32Array.from(img),
    [2, 2],
    1,
    fixed({ gamma: 1, gammaRange: [2, 2] }),
    createRandom(1),
  );
  t.deepEqual(Array.from(gamma), [0, 4 * (1 / 4) ** 2, 4 * (2 / 4) ** 2, 4]);
  // Blurring a delta gives the normalized Gaussian: neighbors relative to the peak are exp(-1 / (2 sigma^2)).
  const delta = new Float32Array(81);
  delta[40] = 1;
  const blurred = augmentIntensity(delta, [9, 9], 1, fixed({ blur: 1, blurSigma: [1, 1] }), createRandom(1));
  t.true(Math.abs(blurred.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  t.true(Math.abs(blurred[41]! / blurred[40]! - Math.exp(-0.5)) < 1e-5);
  t.true(Math.abs(blurred[50]! / blurred[40]! - Math.exp(-1)) < 1e-5);
  const noisy = augmentIntensity(
    new Float32Array(10000),
    [100, 100],
    1,
    fixed({ noise: 1, noiseVariance: 0.04 }),
    createRandom(3),
  );
  const m = noisy.reduce((a, b) => a + b, 0) / noisy.length;
  const sd = Math.sqrt(noisy.reduce((a, b) => a + (b - m) ** 2, 0) / noisy.length);
  t.true(Math.abs(m) < 0.01 && sd > 0.001 && sd <= 0.2 + 0.01, `mean ${m}, sd ${sd}`);
});

test('augment: z-score and percentile normalization per channel', (t) => {
  const data = new Float32Array(200);
  for (let i = 0; i < 100; i++) {
    data[2 * i] = i;
    data[2 * i + 1] = i === 99 ? 1e6 : 5;
  }
  const z = Float32Array.from(data);
  normalizeChannels(z, 2, { normalization: 'zscore' });
  const channel = (a: Float32Array, c: number) => Array.from({ length: 100 }, (_, i) => a[2 * i + c]!);
  const stats = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
  };
  for (const c of [0, 1]) {
    const [m, s] = stats(channel(z, c));
    t.true(Math.abs(m!) < 1e-5 && Math.abs(s! - 1) < 1e-5);
  }
  // Percentile clipping stops the one outlier from flattening the rest of the channel.
  const p = Float32Array.from(data);
  normalizeChannels(p, 2, { normalization: 'percentile', percentiles: [0, 98] });
  t.is(channel(p, 1)[99], channel(p, 1)[0], 'the outlier is clipped to the 98th percentile (5)');
  // Unsorted input: 1e6, then 99..0 descending. numpy.percentile gives 2 and 97 for the 2nd and 97th percentiles
  // of these 101 values, so the channel is clipped to [2, 97] before the z-score.
  const shuffled = Float32Array.from([1e6, ...Array.from({ length: 100 }, (_, i) => 99 - i)]);
  const expected = Array.from(shuffled, (v) => Math.min(97, Math.max(2, v)));
  const mean = expected.reduce((a, b) => a + b, 0) / expected.length;
  const sd = Math.sqrt(expected.reduce((a, b) => a + (b - mean) ** 2, 0) / expected.length);
  normalizeChannels(shuffled, 1, { normalization: 'percentile', percentiles: [2, 97] });
  shuffled.forEach((v, i) => t.true(Math.abs(v - (expected[i]! - mean) / sd) < 1e-5, `value ${i}`));
});

test('augment: resampling images linearly and labels by nearest neighbor', (t) => {
  // Upsampling [0, 10] by 2 with center alignment: positions -0.25, 0.25, 0.75, 1.25 clamp/interpolate.
  t.deepEqual(Array.from(resampleAxis(Float32Array.from([0, 10]), [2], 1, 0, 4, 'linear')), [0, 2.5, 7.5, 10]);
  t.deepEqual(Array.from(resampleAxis(Int32Array.from([0, 1, 2]), [3], 1, 0, 6, 'nearest')), [0, 0, 1, 1, 2, 2]);
  const c: Case = {
    id: 'r',
    source: 't',
    image: {
      data: Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => i),
      shape: [2, 4, 3, 1],
      spacing: [3, 1, 1],
      channels: 1,
    },
    label: { data: Int32Array.from({ length: 24 }, (_, i) => i % 2), shape: [2, 4, 3], spacing: [3, 1, 1] },
  };
  const r = resampleCase(c, [1, 2, 1]);
  t.deepEqual(r.image.shape, [6, 2, 3, 1]);
  t.deepEqual(r.label!.shape, [6, 2, 3]);
  t.deepEqual(r.image.spacing, [1, 2, 1]);
  t.true(r.label!.data.every((v) => v === 0 || v === 1));
});

test('augment: foreground oversampling puts the object in every forced patch, and draws are reproducible', (t) => {
  const c = discCase(96, 3);
  const prepared = prepareCase(c, 2, createRandom(0));
  const options = { patchShape: [24, 24], sliceAxis: 0, augment: resolveAugment({}, 2) };
  let withFg = 0,
    uniformFg = 0;
  for (let i = 0; i < 60; i++) {
    if (drawSample(prepared, options, createRandom(i), true).labels.includes(1)) withFg++;
    if (drawSample(prepared, options, createRandom(i), false).labels.includes(1)) uniformFg++;
  }
  t.is(withFg, 60);
  t.true(uniformFg < 20, `${uniformFg} uniform patches hit a 3-voxel disc`);
  const a = drawSample(prepared, options, createRandom(5), true);
  const b = drawSample(prepared, options, createRandom(5), true);
  t.deepEqual(a, b);
  // 2D slices from a 3D case drop the sliced axis from the spacing.
  const vol = generateSyntheticCase(resolveSyntheticOptions({ dim: 3, size: [10, 20, 30], spacing: [3, 2, 1] }), 0);
  const s = drawSample(
    prepareCase(vol, 3, createRandom(0)),
    { patchShape: [16, 16], sliceAxis: 0, augment: resolveAugment(false, 2) },
    createRandom(1),
    true,
  );
  t.deepEqual(s.spacing, [2, 1]);
  t.is(s.labels.length, 256);
  t.regex(t.throws(() => resolveAugment({ mirror: 2 }, 2))!.message, /augment\.mirror/);
});
