/**
 * The inference engine (src/inference) against an independent brute-force reference: the image padded by hand
 * (centered), every window cut out by explicit index arithmetic and run alone through the model, the Gaussian
 * weights from their closed form, accumulated in float64. Real (untrained) U-Nets, whose output at a voxel depends
 * on its neighborhood and on the padding, so a misplaced window, a wrong weight or a wrong slice would show.
 */
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  argmaxLabels,
  buildUNet,
  createRandom,
  GAUSSIAN_FLOOR,
  gaussianImportance,
  isRwsegError,
  applyNormalization,
  planWindows,
  predictProbabilities,
  segmentImage,
  tf,
  TfjsWindowPredictor,
  toStoredValues,
  useBackend,
  windowStarts,
  withAnySpatialSize,
} from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const voxels = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function randomImage(n: number, seed: number): Float32Array {
  const rng = createRandom(seed);
  return Float32Array.from({ length: n }, () => rng.next() * 4 - 2);
}

/** Row-major index of `coord` in `shape`. */
const flat = (coord: readonly number[], shape: readonly number[]) => coord.reduce((i, c, a) => i * shape[a]! + c, 0);

/** Every coordinate of `shape`, row-major. */
function coords(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const size of shape) out = out.flatMap((prefix) => Array.from({ length: size }, (_, i) => [...prefix, i]));
  return out;
}

/** The Gaussian weight of patch voxel `coord`, from its closed form (sigma = patch / 8, floored). */
function gaussianWeight(coord: readonly number[], patch: readonly number[]): number {
  let w = 1;
  coord.forEach((c, a) => {
    const sigma = patch[a]! / 8;
    w *= Math.exp(-((c - (patch[a]! - 1) / 2) ** 2) / (2 * sigma * sigma));
  });
  return Math.max(w, GAUSSIAN_FLOOR);
}

/** Brute-force sliding window for an image of the model's rank: float64 probabilities [...shape, K]. */
async function bruteForce(
  model: tfl.LayersModel,
  image: Float32Array,
  shape: readonly number[],
  channels: number,
  patch: readonly number[],
  overlap: number,
): Promise<Float64Array> {
  const padded = shape.map((s, a) => Math.max(s, patch[a]!));
  const before = shape.map((s, a) => Math.floor((padded[a]! - s) / 2));
  const paddedImage = new Float32Array(voxels(padded) * channels);
  for (const c of coords(shape)) {
    for (let ch = 0; ch < channels; ch++)
      paddedImage[
        flat(
          c.map((x, a) => x + before[a]!),
          padded,
        ) *
          channels +
          ch
      ] = image[flat(c, shape) * channels + ch]!;
  }
  let sum: Float64Array | undefined;
  const weight = new Float64Array(voxels(padded));
  let classes = 0;
  const startLists = padded.map((s, a) => windowStarts(s, patch[a]!, overlap));
  for (const pick of coords(startLists.map((l) => l.length))) {
    const start = pick.map((i, a) => startLists[a]![i]!);
    const cut = new Float32Array(voxels(patch) * channels);
    for (const p of coords(patch)) {
      for (let ch = 0; ch < channels; ch++)
        cut[flat(p, patch) * channels + ch] =
          paddedImage[
            flat(
              p.map((x, a) => x + start[a]!),
              padded,
            ) *
              channels +
              ch
          ]!;
    }
    const out = tf.tidy(() => (model.predict(tf.tensor(cut, [1, ...patch, channels])) as tf.Tensor).dataSync());
    classes = out.length / voxels(patch);
    sum ??= new Float64Array(voxels(padded) * classes);
    for (const p of coords(patch)) {
      const v = flat(
        p.map((x, a) => x + start[a]!),
        padded,
      );
      const w = gaussianWeight(p, patch);
      weight[v]! += w;
      for (let k = 0; k < classes; k++) sum[v * classes + k]! += w * out[flat(p, patch) * classes + k]!;
    }
  }
  const result = new Float64Array(voxels(shape) * classes);
  for (const c of coords(shape)) {
    const v = flat(
      c.map((x, a) => x + before[a]!),
      padded,
    );
    for (let k = 0; k < classes; k++) result[flat(c, shape) * classes + k] = sum![v * classes + k]! / weight[v]!;
  }
  return result;
}

/** One slice along `axis` of a channels-last [...shape, C] array, by explicit index arithmetic. */
function sliceByHand(
  data: ArrayLike<number>,
  shape: readonly number[],
  channels: number,
  axis: number,
  index: number,
): Float32Array {
  const out: number[] = [];
  for (const c of coords(shape))
    if (c[axis] === index) for (let ch = 0; ch < channels; ch++) out.push(data[flat(c, shape) * channels + ch]!);
  return Float32Array.from(out);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const unet2d = () => buildUNet({ dims: 2, inputChannels: 2, numClasses: 3, depth: 2, baseFilters: 4, seed: 7 }, [8, 8]);

test('window starts: evenly spread, first at 0, last flush with the end; one window when the axis fits', (t) => {
  t.deepEqual(windowStarts(20, 8, 0.5), [0, 4, 8, 12]);
  t.deepEqual(windowStarts(21, 8, 0.5), [0, 3, 7, 10, 13]);
  t.deepEqual(windowStarts(13, 8, 0.5), [0, 3, 5]);
  t.deepEqual(windowStarts(8, 8, 0.5), [0]);
  t.deepEqual(windowStarts(5, 8, 0.5), [0]);
  t.deepEqual(windowStarts(12, 8, 0), [0, 4]);
  for (const [size, patch, overlap] of [
    [37, 8, 0.5],
    [100, 16, 0.25],
    [9, 8, 0.9],
  ] as const) {
    const starts = windowStarts(size, patch, overlap);
    t.is(starts.at(-1)! + patch, size);
    for (let i = 1; i < starts.length; i++)
      t.true(starts[i]! - starts[i - 1]! <= Math.max(1, Math.floor(patch * (1 - overlap))));
  }
});

test('Gaussian importance equals its closed form (sigma = patch / 8, peak 1 at the center, floor 1e-6)', (t) => {
  for (const patch of [[9], [8, 6], [4, 6, 5], [64, 64]]) {
    const w = gaussianImportance(patch);
    t.is(w.length, voxels(patch));
    let worst = 0;
    for (const c of coords(patch))
      worst = Math.max(worst, Math.abs(w[flat(c, patch)]! - Math.fround(gaussianWeight(c, patch))));
    t.is(worst, 0, `patch [${patch.join(', ')}]`);
  }
  t.is(gaussianImportance([9])[4], 1);
  // A 64x64 corner is exp(-15.75) ~ 1.4e-7 before the floor: the floor, not zero and not 1e-3.
  t.is(gaussianImportance([64, 64])[0], Math.fround(GAUSSIAN_FLOOR));
  t.is(GAUSSIAN_FLOOR, 1e-6);
});

for (const { name, shape, overlap } of [
  { name: 'odd sizes larger than the patch', shape: [13, 11], overlap: 0.5 },
  { name: 'one axis shorter than the patch (centered zero padding)', shape: [5, 19], overlap: 0.5 },
  { name: 'both axes shorter than the patch', shape: [3, 6], overlap: 0.5 },
  { name: 'overlap 0.25', shape: [17, 9], overlap: 0.25 },
]) {
  test(`2D sliding window equals the brute-force reference: ${name} [${shape.join('x')}]`, async (t) => {
    const model = unet2d();
    const image = randomImage(voxels(shape) * 2, shape[0]! * 31 + shape[1]!);
    const want = await bruteForce(model, image, shape, 2, [8, 8], overlap);
    const predictor = new TfjsWindowPredictor(model);
    const got = await predictProbabilities(predictor, image, shape, 2, { patch: [8, 8], overlap, batchSize: 3 });
    t.is(got.classes, 3);
    const err = maxAbsDiff(got.probabilities, want);
    t.true(err < 2e-6, `max abs error ${err}`);
    // Batching changes nothing: the accumulation order is the windows' order, whatever the batch.
    for (const batchSize of [1, 16]) {
      const again = await predictProbabilities(predictor, image, shape, 2, { patch: [8, 8], overlap, batchSize });
      t.deepEqual(again.probabilities, got.probabilities, `batch ${batchSize}`);
    }
    model.dispose();
  });
}

test('the plan pads short axes centered, as nnU-Net does (the odd voxel after)', (t) => {
  const predictor = new TfjsWindowPredictor(unet2d());
  const plan = planWindows(predictor, [5, 19], 2, { patch: [8, 8] });
  t.deepEqual(plan.before, [1, 0]);
  t.deepEqual(plan.starts, [
    [0, 0],
    [0, 4],
    [0, 7],
    [0, 11],
  ]);
  t.deepEqual(plan.window, [8, 8]);
});

for (const { axis, shape } of [
  { axis: 0, shape: [3, 11, 9] },
  { axis: 1, shape: [7, 2, 10] },
  { axis: 2, shape: [10, 5, 3] },
]) {
  test(`2D model on a 3D volume along axis ${axis}: each slice is the brute-force 2D prediction`, async (t) => {
    const model = unet2d();
    const image = randomImage(voxels(shape) * 2, 50 + axis);
    const got = await predictProbabilities(new TfjsWindowPredictor(model), image, shape, 2, {
      patch: [8, 8],
      sliceAxis: axis,
    });
    const sliceShape = shape.filter((_, a) => a !== axis);
    const slices: Float32Array[] = [];
    for (let index = 0; index < shape[axis]!; index++) {
      const want = await bruteForce(model, sliceByHand(image, shape, 2, axis, index), sliceShape, 2, [8, 8], 0.5);
      const have = sliceByHand(got.probabilities, shape, 3, axis, index);
      t.true(maxAbsDiff(have, want) < 2e-6, `slice ${index}`);
      slices.push(have);
    }
    // The slices differ, so a misplaced slice would have shown.
    t.notDeepEqual(slices[0], slices[1]);
    model.dispose();
  });
}

test('3D model: sliding window equals the brute-force reference, a short axis padded', async (t) => {
  const model = buildUNet({ dims: 3, inputChannels: 1, numClasses: 2, depth: 2, baseFilters: 2, seed: 3 }, [4, 4, 4]);
  const shape = [6, 3, 5];
  const image = randomImage(voxels(shape), 9);
  const got = await predictProbabilities(new TfjsWindowPredictor(model), image, shape, 1, { batchSize: 2 });
  const want = await bruteForce(model, image, shape, 1, [4, 4, 4], 0.5);
  t.true(maxAbsDiff(got.probabilities, want) < 2e-6);
  model.dispose();
});

test('whole-image mode: one window padded (centered) to the size grid, as the model on the padded image', async (t) => {
  const fixed = buildUNet({ dims: 2, inputChannels: 2, numClasses: 3, depth: 3, baseFilters: 4, seed: 5 }, [16, 16]);
  const model = await withAnySpatialSize(fixed);
  const shape = [10, 13];
  const image = randomImage(voxels(shape) * 2, 4);
  const plan = planWindows(new TfjsWindowPredictor(model), shape, 2, { mode: 'whole-image', sizeGrid: 4 });
  t.deepEqual([plan.window, plan.before, plan.starts], [[12, 16], [1, 1], [[0, 0]]]);
  const got = await predictProbabilities(new TfjsWindowPredictor(model), image, shape, 2, {
    mode: 'whole-image',
    sizeGrid: 4,
  });
  const padded = new Float32Array(12 * 16 * 2);
  for (const [y, x] of coords(shape))
    for (let c = 0; c < 2; c++) padded[((y! + 1) * 16 + x! + 1) * 2 + c] = image[(y! * 13 + x!) * 2 + c]!;
  const out = (model.predict(tf.tensor(padded, [1, 12, 16, 2])) as tf.Tensor).dataSync();
  const want = new Float32Array(voxels(shape) * 3);
  for (const [y, x] of coords(shape))
    for (let k = 0; k < 3; k++) want[(y! * 13 + x!) * 3 + k] = out[((y! + 1) * 16 + x! + 1) * 3 + k]!;
  t.deepEqual(got.probabilities, want);
  // A model saved for a fixed patch pads a smaller image up to it, and refuses a larger one.
  const small = await predictProbabilities(new TfjsWindowPredictor(fixed), image, shape, 2, { mode: 'whole-image' });
  t.is(small.probabilities.length, voxels(shape) * 3);
  const big = await t.throwsAsync(
    predictProbabilities(new TfjsWindowPredictor(fixed), randomImage(20 * 4 * 2, 1), [20, 4], 2, {
      mode: 'whole-image',
      imageName: 'big.png',
    }),
  );
  t.true(isRwsegError(big, 'INVALID_INPUT'));
  t.regex(big!.message, /big\.png \(2D, shape \[20, 4\]\) is larger than the model's fixed input window \[16, 16\]/);
  fixed.dispose();
  model.dispose();
});

test('bad input and options are RwsegErrors naming the image and the option', async (t) => {
  const predictor = new TfjsWindowPredictor(unet2d());
  const cases: [Promise<unknown>, string, RegExp][] = [
    [
      predictProbabilities(predictor, new Float32Array(2 * 3 * 4 * 5 * 2), [2, 3, 4, 5], 2, { imageName: 'vol.nii' }),
      'INVALID_INPUT',
      /cannot apply a 2D model to vol\.nii \(4D, shape \[2, 3, 4, 5\]\): the image must be 2D, or 3D/,
    ],
    [predictProbabilities(predictor, new Float32Array(9 * 2), [9], 2), 'INVALID_INPUT', /cannot apply a 2D model/],
    [
      predictProbabilities(predictor, new Float32Array(64), [8, 8], 1, { imageName: 'gray.png' }),
      'INVALID_INPUT',
      /gray\.png .* has 1 channel\(s\); the model takes 2/,
    ],
    [
      predictProbabilities(predictor, new Float32Array(120), [3, 4, 5], 2, { sliceAxis: 3 }),
      'INVALID_OPTIONS',
      /sliceAxis 3 is not an axis/,
    ],
    [
      predictProbabilities(predictor, new Float32Array(128), [8, 8], 2, { overlap: 1 }),
      'INVALID_OPTIONS',
      /overlap 1 is not in \[0, 1\)/,
    ],
    [
      predictProbabilities(predictor, new Float32Array(128), [8, 8], 2, { patch: [16, 16] }),
      'INVALID_OPTIONS',
      /patch \[16, 16\] is not the model's input window \[8, 8\]/,
    ],
  ];
  for (const [promise, code, message] of cases) {
    const error = await t.throwsAsync(promise);
    t.true(isRwsegError(error, code as never), String(message));
    t.regex(error!.message, message);
  }
});

test('argmax ties go to the lower class; class indices become the stored label values', (t) => {
  t.deepEqual(Array.from(argmaxLabels(new Float32Array([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0, 1]), 3)), [1, 0, 2]);
  t.true(argmaxLabels(new Float32Array(300), 300) instanceof Uint16Array);
  const stored = toStoredValues(Uint8Array.from([0, 1, 1, 0]), [255, 0]);
  t.true(stored instanceof Uint8Array);
  t.deepEqual(Array.from(stored), [255, 0, 0, 255]);
  t.true(toStoredValues(Uint8Array.from([1]), [0, 1000]) instanceof Uint16Array);
});

test("segmentImage: normalizes, predicts, writes the user's label values; names non-finite voxels", async (t) => {
  // 1x1 convolution (+1, -1) and softmax: class 1 exactly where the normalized image is negative.
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 1, useBias: false }),
      tfl.layers.activation({ activation: 'softmax' }),
    ],
  });
  model.setWeights([tf.tensor4d([1, -1], [1, 1, 1, 2])]);
  const shape = [11, 6];
  const raw = Float32Array.from({ length: 66 }, (_, i) => (i % 7) * 10 + 5);
  const zscore = { method: 'zscore', scope: 'per-image-and-channel' } as const;
  const normalized = applyNormalization(raw, 1, zscore);
  const expected = Uint8Array.from(normalized, (v) => (v < 0 ? 0 : 255));
  const result = await segmentImage(
    new TfjsWindowPredictor(model),
    { data: raw, shape, spacing: [1, 1] },
    { normalization: zscore, labelValues: [255, 0] },
  );
  t.deepEqual(result.labels, expected);
  t.deepEqual(result.shape, shape);
  t.deepEqual(result.voxelsPerClass, [
    expected.filter((v) => v === 255).length,
    expected.filter((v) => v === 0).length,
  ]);
  const nan = await t.throwsAsync(
    segmentImage(
      new TfjsWindowPredictor(model),
      { data: Float32Array.from(raw).fill(Number.NaN, 7, 8), shape, spacing: [1, 1] },
      { normalization: { method: 'none' }, imageName: 'scan.nii' },
    ),
  );
  t.regex(nan!.message, /scan\.nii holds a non-finite value at voxel 7/);
  model.dispose();
});
