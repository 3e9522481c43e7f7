import test from 'ava';
import {
  buildUNet,
  checkPatchShape,
  InstanceNormalization,
  isRwsegError,
  nearestValidPatch,
  nearestValidSize,
} from '../../src/index.js';
import { parameterCount, patchGrid, tf, useBackend, type UNetConfigInput } from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

/** The parameter count of the U-Net written out from the architecture, independently of the builder. */
function closedFormCount(c: {
  dims: 2 | 3;
  depth: number;
  baseFilters: number;
  inputChannels: number;
  numClasses: number;
  normalization: 'batch' | 'instance' | 'none';
  upsampling: 'transposed' | 'resize';
  deepSupervision: number;
}): number {
  const k = 3 ** c.dims;
  const normPerChannel = { batch: 4, instance: 2, none: 0 }[c.normalization];
  const bias = c.normalization === 'none' ? 1 : 0;
  const f = (l: number) => c.baseFilters * 2 ** l;
  const block = (cin: number, cout: number) => k * cin * cout + k * cout * cout + 2 * cout * (normPerChannel + bias);
  let n = 0;
  for (let l = 0; l < c.depth; l++) n += block(l === 0 ? c.inputChannels : f(l - 1), f(l));
  for (let l = c.depth - 2; l >= 0; l--) {
    const upKernel = c.upsampling === 'transposed' ? 2 ** c.dims : k;
    n += upKernel * f(l + 1) * f(l) + f(l);
    n += block(2 * f(l), f(l));
  }
  for (let s = 0; s < c.deepSupervision; s++) n += f(s) * c.numClasses + c.numClasses;
  return n;
}

const base = {
  dims: 2 as const,
  depth: 3,
  baseFilters: 4,
  inputChannels: 1,
  numClasses: 3,
  normalization: 'batch' as const,
  upsampling: 'transposed' as const,
  deepSupervision: 1,
};

for (const variant of [
  base,
  { ...base, normalization: 'instance' as const },
  { ...base, normalization: 'none' as const, upsampling: 'resize' as const, inputChannels: 2 },
  { ...base, depth: 4, deepSupervision: 3 },
  { ...base, dims: 3 as const, depth: 2 },
]) {
  test(`parameter count equals the closed form: ${JSON.stringify(variant)}`, (t) => {
    const model = buildUNet(variant, variant.dims === 2 ? [16, 16] : [8, 8, 8]);
    t.is(parameterCount(model), closedFormCount(variant));
    model.dispose();
  });
}

test('2D output is [B, H, W, K] of probabilities summing to one per pixel', (t) => {
  const model = buildUNet({ ...base, activation: 'relu' }, [16, 24]);
  const x = tf.randomNormal([2, 16, 24, 1], 0, 1, 'float32', 1);
  const y = model.predict(x) as tf.Tensor;
  t.deepEqual(y.shape, [2, 16, 24, 3]);
  const sums = tf.sum(y, -1).dataSync();
  for (const s of sums) t.true(Math.abs(s - 1) < 1e-5);
  tf.dispose([x, y]);
  model.dispose();
});

test('deep supervision gives one softmax head per decoder scale, full resolution first', (t) => {
  const model = buildUNet({ ...base, depth: 4, deepSupervision: 3 }, [32, 16]);
  const ys = model.predict(tf.zeros([1, 32, 16, 1])) as tf.Tensor[];
  t.deepEqual(
    ys.map((y) => y.shape),
    [
      [1, 32, 16, 3],
      [1, 16, 8, 3],
      [1, 8, 4, 3],
    ],
  );
  t.deepEqual(model.outputNames, ['output', 'output_ds1', 'output_ds2']);
});

test('3D U-Net outputs [B, D, H, W, K]', (t) => {
  const model = buildUNet({ ...base, dims: 3, depth: 2, normalization: 'instance' }, [4, 8, 8]);
  const y = model.predict(tf.zeros([1, 4, 8, 8, 1])) as tf.Tensor;
  t.deepEqual(y.shape, [1, 4, 8, 8, 3]);
});

test('a patch size not divisible by 2^(depth-1) is rejected with the axis and valid sizes named', (t) => {
  const error = t.throws(() => buildUNet({ ...base, depth: 4 }, [32, 20]));
  t.true(isRwsegError(error, 'INVALID_CONFIG'));
  t.regex(error!.message, /patch size 20 on axis 1 of patch \[32, 20\] is not a multiple of 8.*use 16 or 24: /);
  t.regex(error!.message, /the nearest valid patch is \[32, 24\]/);
});

test('the nearest valid patch rounds each axis to the size grid, at least one step, ties up', (t) => {
  t.is(patchGrid(4), 8);
  t.deepEqual(nearestValidPatch([40, 56, 36], 4), [40, 56, 40]);
  t.deepEqual(nearestValidPatch([35, 51, 35], 4), [32, 48, 32]);
  t.deepEqual(nearestValidPatch([3, 13, 1], 3), [4, 12, 4]);
  t.is(nearestValidSize(44, 4), 48);
  t.is(nearestValidSize(43, 4), 40);
  // Every suggestion is itself accepted.
  for (const patch of [
    [40, 56, 36],
    [3, 13, 1],
    [100, 7],
  ]) {
    t.notThrows(() => checkPatchShape(nearestValidPatch(patch, 4), 4, patch.length));
  }
});

test('more deep-supervision heads than decoder scales is refused', (t) => {
  const error = t.throws(() => buildUNet({ ...base, depth: 3, deepSupervision: 3 }, [16, 16]));
  t.regex(error!.message, /deepSupervision 3 exceeds the 2 decoder scale/);
});

test('bad model options name the option', (t) => {
  const error = t.throws(() => buildUNet({ ...base, normalization: 'group' } as unknown as UNetConfigInput, [16, 16]));
  t.regex(error!.message, /model\.normalization/);
});

test('the same seed gives the same weights; another seed different ones', (t) => {
  const first = (seed: number) =>
    buildUNet({ ...base, seed }, [16, 16])
      .getWeights()[0]!
      .dataSync()
      .slice(0, 8);
  t.deepEqual(first(3), first(3));
  t.notDeepEqual(first(3), first(4));
});

test('instance normalization: zero mean, unit variance per sample and channel; survives serialization', (t) => {
  const layer = new InstanceNormalization({ name: 'in' });
  const x = tf.randomNormal([2, 6, 5, 3], 4, 3, 'float32', 7);
  const y = layer.apply(x) as tf.Tensor;
  const { mean, variance } = tf.moments(y, [1, 2]);
  for (const m of mean.dataSync()) t.true(Math.abs(m) < 1e-4);
  for (const v of variance.dataSync()) t.true(Math.abs(v - 1) < 1e-3);
  const model = buildUNet({ ...base, normalization: 'instance' }, [16, 16]);
  const json = model.toJSON(null, false) as unknown as { config: { layers: { class_name: string }[] } };
  t.true(json.config.layers.some((l) => l.class_name === 'InstanceNormalization'));
});

test('conv3dTranspose has a gradient, matching central finite differences for input and filter', (t) => {
  const x = tf.randomNormal([1, 2, 3, 2, 2], 0, 1, 'float32', 11) as tf.Tensor5D;
  const w = tf.randomNormal([2, 2, 2, 3, 2], 0, 1, 'float32', 12) as tf.Tensor5D; // [d, h, w, outC, inC]
  const probe = tf.randomNormal([1, 4, 6, 4, 3], 0, 1, 'float32', 13);
  const f = (xi: tf.Tensor5D, wi: tf.Tensor5D) =>
    tf.sum(tf.mul(tf.conv3dTranspose(xi, wi, [1, 4, 6, 4, 3], 2, 'same'), probe));
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor5D, b as tf.Tensor5D))([x, w]);
  const eps = 1e-2;
  const numeric = (which: 0 | 1, index: number) => {
    const bump = (s: number) => {
      const arrays = [x, w].map((v) => v.dataSync().slice());
      arrays[which]![index]! += s;
      return f(
        tf.tensor(arrays[0]!, x.shape) as tf.Tensor5D,
        tf.tensor(arrays[1]!, w.shape) as tf.Tensor5D,
      ).dataSync()[0]!;
    };
    return (bump(eps) - bump(-eps)) / (2 * eps);
  };
  for (const i of [0, 5, 17, 23]) t.true(Math.abs(gx!.dataSync()[i]! - numeric(0, i)) < 2e-2, `dx[${i}]`);
  for (const i of [0, 9, 30, 47]) t.true(Math.abs(gw!.dataSync()[i]! - numeric(1, i)) < 2e-2, `dw[${i}]`);
});
