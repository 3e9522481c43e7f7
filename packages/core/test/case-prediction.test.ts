import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { argmaxLabels, buildUNet, computeSegmentationMetrics, createRandom, isRwsegError, predictCase, slidingWindowPredict, tf, useBackend, validate } from '../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

/** One slice along `axis` of a channels-last [...shape, C] array, by explicit index arithmetic. */
function sliceByHand(data: Float32Array, shape: readonly number[], channels: number, axis: number, index: number): Float32Array {
  const [a, b, c] = shape as [number, number, number];
  const out: number[] = [];
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) {
    if ([i, j, k][axis] !== index) continue;
    for (let ch = 0; ch < channels; ch++) out.push(data[((i * b + j) * c + k) * channels + ch]!);
  }
  return Float32Array.from(out);
}

// A real (untrained) 2D U-Net: its output at a pixel depends on the neighbourhood, so a wrong slice, a wrong
// stride or a transposed slice would change the numbers.
const unet2d = () => buildUNet({ dims: 2, inputChannels: 1, numClasses: 3, depth: 2, baseFilters: 4, seed: 7 }, [8, 8]);

for (const { axis, shape } of [
  { axis: 0, shape: [4, 11, 9] },
  { axis: 2, shape: [10, 9, 3] },
]) {
  test(`a 2D model on a 3D volume gives each slice's 2D sliding-window prediction, stacked along axis ${axis}`, async (t) => {
    const model = unet2d();
    const rng = createRandom(11 + axis);
    const image = Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.next() * 4 - 2);
    const got = await predictCase(model, image, shape, 1, { patch: [8, 8], overlap: 0.5, sliceAxis: axis });
    t.is(got.length, image.length * 3);
    const sliceShape = shape.filter((_, a) => a !== axis);
    const bySlice: Float32Array[] = [];
    for (let index = 0; index < shape[axis]!; index++) {
      const want = await slidingWindowPredict(model, sliceByHand(image, shape, 1, axis, index), sliceShape, 1, { patch: [8, 8], overlap: 0.5 });
      const have = sliceByHand(got, shape, 3, axis, index);
      t.deepEqual(have, want, `slice ${index}`);
      bySlice.push(want);
    }
    // The slices differ from one another, so the comparison above could tell a misplaced slice.
    t.notDeepEqual(bySlice[0], bySlice[1]);
    model.dispose();
  });
}

test('validating a 2D model on 3D cases gives the 3D metrics with the volume\'s spacing', async (t) => {
  // 1x1 convolution with weights (+1, -1) and softmax: class 1 exactly where the image is negative, so the
  // expected labels follow from the image alone, independently of the slicing.
  const model = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 1, useBias: false }), tfl.layers.activation({ activation: 'softmax' })] });
  model.setWeights([tf.tensor4d([1, -1], [1, 1, 1, 2])]);
  const shape = [6, 7, 5];
  const spacing = [3, 1, 0.5];
  const image = new Float32Array(6 * 7 * 5);
  const reference = new Int32Array(image.length);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 7; j++) for (let k = 0; k < 5; k++) {
    const v = (i * 7 + j) * 5 + k;
    image[v] = i >= 1 && i <= 3 && j >= 2 && j <= 5 && k <= 3 ? -1 : 1; // predicted foreground: a box
    reference[v] = i >= 2 && i <= 4 && j >= 2 && j <= 4 && k >= 1 ? 1 : 0; // reference: a shifted box
  }
  const expectedLabels = Int32Array.from(image, (x) => (x < 0 ? 1 : 0));
  const c = { id: 'vol', image: { data: image, shape, spacing }, labels: { data: reference, shape, spacing } };
  for (const sliceAxis of [0, 2]) {
    const { result, predictions } = await validate(model, [c], { patch: [8, 8], sliceAxis, numClasses: 2, metrics: computeSegmentationMetrics });
    t.deepEqual(predictions[0]!.labels, expectedLabels);
    t.deepEqual(predictions[0]!.shape, shape);
    const want = computeSegmentationMetrics(expectedLabels, reference, shape, spacing, { numClasses: 2 });
    t.deepEqual(result.cases[0]!.metrics, want);
    // The spacing matters here: isotropic 1 mm would give another Hausdorff distance.
    const iso = computeSegmentationMetrics(expectedLabels, reference, shape, [1, 1, 1], { numClasses: 2 });
    t.not(want[0]!.hd, iso[0]!.hd);
  }
  t.deepEqual(argmaxLabels(await predictCase(model, image, shape, 1, { patch: [8, 8], sliceAxis: 1 }), 2), expectedLabels);
});

test('a patch that fits neither the case nor its slices is a clear error', async (t) => {
  const model = unet2d();
  const e4 = await t.throwsAsync(predictCase(model, new Float32Array(2 * 3 * 4 * 5), [2, 3, 4, 5], 1, { patch: [8, 8] }));
  t.true(isRwsegError(e4, 'INVALID_INPUT'));
  t.regex(e4!.message, /2D model \(patch \[8, 8\]\) to a 4D case of shape \[2, 3, 4, 5\]/);
  const e1 = await t.throwsAsync(predictCase(model, new Float32Array(9), [9], 1, { patch: [8, 8] }));
  t.true(isRwsegError(e1, 'INVALID_INPUT'));
  const axis = await t.throwsAsync(predictCase(model, new Float32Array(60), [3, 4, 5], 1, { patch: [8, 8], sliceAxis: 3 }));
  t.true(isRwsegError(axis, 'INVALID_OPTIONS'));
  t.regex(axis!.message, /sliceAxis 3/);
  model.dispose();
});
