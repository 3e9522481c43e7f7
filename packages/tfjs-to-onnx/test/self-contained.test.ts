/**
 * Self-contained export: the graph takes raw whole images. References: numpy (test/fixtures/normalization.json,
 * made by make_normalization_fixture.py) for the in-graph normalization, and TF.js running the same network
 * on the numpy-normalized image zero-padded to the size grid, then cropped, for the whole model.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import {
  convertLayersModel,
  decodeModel,
  inferSizeGrid,
  normalizationFromMetadata,
  type InGraphNormalization,
  type SelfContainedOptions,
} from '../src/index.js';
import { onnxCheckerAvailability, randomizeWeights, runOnnxChecker, tf, useCpuBackend } from './helpers.js';
import { InstanceNormalization } from './custom-layers.js';

test.before(async () => {
  await useCpuBackend();
});

type ST = tfl.SymbolicTensor;

interface FixtureCase {
  normalization: InGraphNormalization;
  expected: number[];
}
interface Fixture {
  shape: number[];
  raw: number[];
  cases: FixtureCase[];
  volume: { shape: number[]; raw: number[]; cases: FixtureCase[] };
}
const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/normalization.json', import.meta.url), 'utf8'),
) as Fixture;

/** A U-Net as rwseg builds it: a FIXED training patch, two poolings (size grid 4), softmax over classes. */
function fixedUNet(dims: 2 | 3, patch: number[], channels: number, classes: number): tfl.LayersModel {
  const conv = (filters: number, name: string, k = 3) =>
    dims === 2
      ? tfl.layers.conv2d({ filters, kernelSize: k, padding: 'same', name })
      : tfl.layers.conv3d({ filters, kernelSize: k, padding: 'same', name });
  const block = (x: ST, filters: number, name: string) => {
    let y = conv(filters, `${name}_conv`).apply(x) as ST;
    y = (
      dims === 2
        ? tfl.layers.batchNormalization({ name: `${name}_bn` })
        : new InstanceNormalization({ name: `${name}_in` })
    ).apply(y) as ST;
    return tfl.layers.leakyReLU({ alpha: 0.01, name: `${name}_act` }).apply(y) as ST;
  };
  const pool = (name: string) =>
    dims === 2 ? tfl.layers.maxPooling2d({ poolSize: 2, name }) : tfl.layers.maxPooling3d({ poolSize: 2, name });
  const up = (filters: number, name: string) =>
    dims === 2
      ? tfl.layers.conv2dTranspose({ filters, kernelSize: 2, strides: 2, name })
      : tfl.layers.conv3dTranspose({ filters, kernelSize: 2, strides: 2, name });
  const input = tfl.input({ shape: [...patch, channels], name: 'image' });
  const levels = 3;
  const skips: ST[] = [];
  let x: ST = input;
  for (let l = 0; l < levels; l++) {
    if (l > 0) x = pool(`pool${l}`).apply(x) as ST;
    x = block(x, 4 * (l + 1), `enc${l}`);
    skips.push(x);
  }
  for (let l = levels - 2; l >= 0; l--) {
    x = up(4 * (l + 1), `up${l}`).apply(x) as ST;
    x = block(tfl.layers.concatenate({ name: `cat${l}` }).apply([skips[l]!, x]) as ST, 4 * (l + 1), `dec${l}`);
  }
  const logits = conv(classes, 'head', 1).apply(x) as ST;
  const probabilities = tfl.layers.softmax({ axis: -1, name: 'probabilities' }).apply(logits) as ST;
  const model = tfl.model({ inputs: input, outputs: probabilities, name: `unet${dims}d` });
  randomizeWeights(model, 40 + dims);
  return model;
}

/**
 * TF.js whole-image reference, padded as rwseg's inference engine pads: zeros up to the grid, floor(extra / 2)
 * before each axis and the rest after; run; crop the image back out.
 */
function tfjsWholeImage(
  model: tfl.LayersModel,
  normalized: Float32Array,
  shape: number[],
  grid: number[],
): { probs: Float32Array; classes: number } {
  return tf.tidy(() => {
    const spatial = shape.slice(1, -1);
    const extra = spatial.map((s, a) => (grid[a]! - (s % grid[a]!)) % grid[a]!);
    const pads: [number, number][] = [
      [0, 0],
      ...extra.map((e): [number, number] => [Math.floor(e / 2), e - Math.floor(e / 2)]),
      [0, 0],
    ];
    const padded = tf.pad(tf.tensor(normalized, shape), pads);
    // apply() runs the functional graph eagerly on any size; predict() would insist on the training patch.
    const out = model.apply(padded) as tf.Tensor;
    const begin = [0, ...extra.map((e) => Math.floor(e / 2)), 0];
    const cropped = tf.slice(out, begin, [...shape.slice(0, -1), -1]);
    return { probs: cropped.dataSync() as Float32Array, classes: out.shape[out.shape.length - 1]! };
  });
}

/** First-max arg-max over the last axis, as rwseg's argmaxLabels. */
function argmax(probs: Float32Array, classes: number): Uint8Array {
  const out = new Uint8Array(probs.length / classes);
  for (let v = 0; v < out.length; v++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probs[v * classes + k]! > probs[v * classes + best]!) best = k;
    out[v] = best;
  }
  return out;
}

async function runOnnx(
  bytes: Uint8Array,
  raw: Float32Array,
  shape: number[],
  quiet = false,
): Promise<ort.InferenceSession.ReturnType> {
  // quiet: a run expected to fail need not print onnxruntime's error log.
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    ...(quiet ? { logSeverityLevel: 4 as const } : {}),
  });
  try {
    return await session.run({ input: new ort.Tensor('float32', raw, shape) });
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A pass-through network (fixed size, like a trained model), so the graph's output is its normalized input. */
function passThrough(shape: number[]): tfl.LayersModel {
  const input = tfl.input({ shape });
  return tfl.model({ inputs: input, outputs: tfl.layers.activation({ activation: 'linear' }).apply(input) as ST });
}

for (const opset of [17, 21]) {
  const title = `in-graph normalization per image and channel equals numpy (outliers, flat channel), opset ${opset}`;
  test(title, async (t) => {
    const model = passThrough([8, 8, 2]);
    for (const c of fixture.cases) {
      const { bytes, io } = convertLayersModel(model, { opset, selfContained: { normalization: c.normalization } });
      t.deepEqual(io.inputs[0]!.shape, ['batch', 'height', 'width', 2]);
      const out = await runOnnx(bytes, Float32Array.from(fixture.raw), fixture.shape);
      const got = out['output']!.data as Float32Array;
      const err = maxAbsDiff(got, c.expected);
      t.log(`${JSON.stringify(c.normalization)}: max abs error ${err.toExponential(2)}`);
      // float64 statistics cast to float32 once: within a float32 rounding of the numpy value.
      t.true(err < 2e-6, `${c.normalization.method}: ${err}`);
      if (c.normalization.method !== 'fixed') {
        const constantChannel = Array.from({ length: 13 * 17 }, (_, v) => got[(13 * 17 + v) * 2 + 1]!);
        t.true(
          constantChannel.every((v) => v === 0),
          'a constant channel normalizes to zeros',
        );
      }
    }
  });
}

test('fixed normalization computes (x - mean[c]) / std[c]', async (t) => {
  const { bytes } = convertLayersModel(passThrough([4, 4, 2]), {
    selfContained: { normalization: { method: 'fixed', mean: [10, -3], std: [2, 0.5] } },
  });
  const raw = Float32Array.from({ length: 2 * 3 * 5 * 2 }, (_, i) => ((i * 7.3) % 41) - 9);
  const got = (await runOnnx(bytes, raw, [2, 3, 5, 2]))['output']!.data as Float32Array;
  const want = Array.from(raw, (x, i) => (i % 2 === 0 ? (x - 10) / 2 : (x + 3) / 0.5));
  t.true(maxAbsDiff(got, want) < 1e-5);
});

for (const [i, c] of fixture.cases.slice(0, 2).entries()) {
  const title =
    `2-D U-Net (patch 16x16), ${c.normalization.method}: the self-contained graph on a RAW 13x17 image equals ` +
    'TF.js on the normalized image padded to 16x20, cropped';
  test(title, async (t) => {
    const model = fixedUNet(2, [16, 16], 2, 3);
    t.deepEqual(inferSizeGrid(model), [4, 4]);
    const options: SelfContainedOptions = { normalization: c.normalization, argmaxOutput: true };
    const { bytes, io } = convertLayersModel(model, { selfContained: options });
    t.deepEqual(io.outputs, [
      { name: 'output', dtype: 'float32', shape: ['batch', 'height', 'width', 3], layout: 'NHWC' },
      { name: 'labels', dtype: 'uint8', shape: ['batch', 'height', 'width'], layout: 'NHW' },
    ]);
    const ops = decodeModel(bytes).graph.node.map((n) => n.op_type);
    for (const op of ['Pad', 'Slice', 'ArgMax', 'ReduceMean', ...(i === 1 ? ['TopK'] : [])])
      t.true(ops.includes(op), `graph has ${op}`);
    const out = await runOnnx(bytes, Float32Array.from(fixture.raw), fixture.shape);
    const want = tfjsWholeImage(model, Float32Array.from(c.expected), fixture.shape, [4, 4]);
    const probs = out['output']!;
    t.deepEqual(probs.dims, [2, 13, 17, 3]);
    const err = maxAbsDiff(probs.data as Float32Array, want.probs);
    t.log(`max abs error of the probabilities ${err.toExponential(2)}`);
    t.true(err < 1e-5, `max abs error ${err}`);
    const labels = out['labels']!;
    t.is(labels.type, 'uint8');
    t.deepEqual(labels.dims, [2, 13, 17]);
    t.deepEqual(Array.from(labels.data as Uint8Array), Array.from(argmax(want.probs, 3)));
    t.true(new Set(labels.data as Uint8Array).size > 1, 'the labels are not one class everywhere');
  });
}

test('3-D U-Net (patch 8x8x8, InstanceNormalization): a RAW 5x7x9 volume gives TF.js padded to 8x8x12', async (t) => {
  const model = fixedUNet(3, [8, 8, 8], 1, 2);
  t.deepEqual(inferSizeGrid(model), [4, 4, 4]);
  for (const c of fixture.volume.cases) {
    const { bytes, io } = convertLayersModel(model, {
      selfContained: { normalization: c.normalization, argmaxOutput: 'segmentation' },
    });
    t.deepEqual(io.outputs[1], {
      name: 'segmentation',
      dtype: 'uint8',
      shape: ['batch', 'depth', 'height', 'width'],
      layout: 'NDHW',
    });
    const out = await runOnnx(bytes, Float32Array.from(fixture.volume.raw), fixture.volume.shape);
    const want = tfjsWholeImage(model, Float32Array.from(c.expected), fixture.volume.shape, [4, 4, 4]);
    const err = maxAbsDiff(out['output']!.data as Float32Array, want.probs);
    t.log(`${c.normalization.method}: max abs error ${err.toExponential(2)}`);
    t.true(err < 1e-5, `max abs error ${err}`);
    t.deepEqual(Array.from(out['segmentation']!.data as Uint8Array), Array.from(argmax(want.probs, 2)));
  }
});

test("dynamicSpatial 'grid' takes any size on the grid without padding and refuses others", async (t) => {
  const model = fixedUNet(2, [16, 16], 2, 3);
  const { bytes } = convertLayersModel(model, {
    selfContained: { dynamicSpatial: 'grid', normalization: { method: 'none' } },
  });
  t.false(decodeModel(bytes).graph.node.some((n) => n.op_type === 'Pad'));
  const shape = [1, 12, 20, 2];
  const x = Float32Array.from({ length: 12 * 20 * 2 }, (_, i) => Math.sin(i * 0.37));
  const got = (await runOnnx(bytes, x, shape))['output']!;
  t.deepEqual(got.dims, [1, 12, 20, 3]);
  t.true(maxAbsDiff(got.data as Float32Array, tfjsWholeImage(model, x, shape, [4, 4]).probs) < 1e-5);
  await t.throwsAsync(runOnnx(bytes, new Float32Array(13 * 17 * 2), [1, 13, 17, 2], true), { message: /Concat/ });
});

test("dynamicSpatial 'fixed' keeps the model's size; without selfContained nothing changes", (t) => {
  const model = fixedUNet(2, [16, 16], 1, 2);
  const fixed = convertLayersModel(model, {
    selfContained: { dynamicSpatial: 'fixed', normalization: { method: 'zscore' } },
  });
  t.deepEqual(fixed.io.inputs[0]!.shape, ['batch', 16, 16, 1]);
  const plain = convertLayersModel(model);
  t.deepEqual(plain.io.inputs[0]!.shape, ['batch', 16, 16, 1]);
  t.deepEqual(
    plain.io.outputs.map((o) => o.name),
    ['output'],
  );
  t.false(decodeModel(plain.bytes).graph.node.some((n) => ['Pad', 'ReduceMean', 'ArgMax'].includes(n.op_type)));
});

test("normalizationFromMetadata reads rwseg.json's and the model artifact's records (scope decides fixed)", (t) => {
  const cases: [Record<string, unknown>, InGraphNormalization][] = [
    [{ method: 'zscore', scope: 'per-image-and-channel' }, { method: 'zscore' }],
    [
      { method: 'zscore', mean: 71.2, std: 12.5 },
      { method: 'fixed', mean: [71.2], std: [12.5] },
    ],
    [
      { method: 'zscore', scope: 'fixed', mean: [1, 2], std: [3, 4] },
      { method: 'fixed', mean: [1, 2], std: [3, 4] },
    ],
    [{ method: 'minmax', scope: 'per-image-and-channel' }, { method: 'minmax' }],
    [
      { method: 'minmax', min: 0, max: 255 },
      { method: 'fixed', mean: [0], std: [255] },
    ],
    [
      { method: 'percentile', scope: 'per-image-and-channel', percentiles: [1, 99] },
      { method: 'percentile', percentiles: [1, 99] },
    ],
    [{ method: 'percentile' }, { method: 'percentile', percentiles: [0.5, 99.5] }],
    [{ method: 'none' }, { method: 'none' }],
  ];
  for (const [record, want] of cases) t.deepEqual(normalizationFromMetadata(record as { method: string }), want);
  t.throws(() => normalizationFromMetadata({ method: 'zscore', scope: 'dataset' }), { message: /scope 'dataset'/ });
  t.throws(() => normalizationFromMetadata({ method: 'minmax', scope: 'fixed', min: [0, 1], max: [1] }), {
    message: /minmax min and max have 2 and 1 values/,
  });
});

test('the size grid follows strides: pooling and strided convs multiply it, up-sampling does not lower it', (t) => {
  const input = tfl.input({ shape: [null, null, 1] });
  let x = tfl.layers.conv2d({ filters: 2, kernelSize: 3, strides: [2, 1], padding: 'same' }).apply(input) as ST;
  x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as ST;
  x = tfl.layers.upSampling2d({ size: [4, 2] }).apply(x) as ST;
  t.deepEqual(inferSizeGrid(tfl.model({ inputs: input, outputs: x })), [4, 2]);
});

test('bad self-contained options fail with a message naming the option', (t) => {
  const model = fixedUNet(2, [16, 16], 1, 2);
  const convert = (selfContained: unknown) => () =>
    convertLayersModel(model, { selfContained: selfContained as SelfContainedOptions });
  t.throws(convert({ normalization: { method: 'robust' } }), {
    message:
      /selfContained\.normalization\.method must be 'zscore', 'percentile', 'minmax', 'fixed' or 'none', got "robust"/,
  });
  t.throws(convert({ normalization: { method: 'percentile', percentiles: [99, 1] } }), {
    message: /selfContained\.normalization\.percentiles must be \[lower, upper\]/,
  });
  t.throws(convert({ dynamicSpatial: 'huge' }), {
    message: /selfContained\.dynamicSpatial must be 'any', 'grid' or 'fixed'/,
  });
  t.throws(convert({ sizeGrid: [3] }), {
    message: /size grid \[3,3\] does not divide the model's own input size \[16,16\]/,
  });
  t.throws(convert({ normalization: { method: 'fixed', mean: [0, 1], std: [1, 1] } }), {
    message: /normalization\.mean has 2 values for a model with 1 input channels/,
  });
  const input = tfl.input({ shape: [8, 8, 1] });
  const sigmoid = tfl.model({
    inputs: input,
    outputs: tfl.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid' }).apply(input) as ST,
  });
  t.throws(() => convertLayersModel(sigmoid, { selfContained: { argmaxOutput: true } }), {
    message: /argmaxOutput needs at least 2 classes/,
  });
  const twoHeads = tfl.model({ inputs: input, outputs: [sigmoid.outputs[0]!, input] });
  t.throws(() => convertLayersModel(twoHeads, { selfContained: {} }), { message: /one input and one output/ });
  t.throws(() => convertLayersModel(model, { selfContained: { argmaxOutput: 'output' } }), {
    message: /'output' is used twice/,
  });
});

const checker = onnxCheckerAvailability();
if (checker.ok) {
  test('self-contained graphs pass onnx.checker.check_model (full check, shape inference) in python3-onnx', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-self-contained-'));
    const cases: [string, tfl.LayersModel, SelfContainedOptions][] = [
      ['zscore2d', fixedUNet(2, [16, 16], 2, 3), { normalization: { method: 'zscore' }, argmaxOutput: true }],
      ['percentile2d', fixedUNet(2, [16, 16], 1, 2), { normalization: { method: 'percentile' }, argmaxOutput: true }],
      ['minmax2d', fixedUNet(2, [16, 16], 1, 2), { normalization: { method: 'minmax' }, argmaxOutput: true }],
      [
        'fixed3d',
        fixedUNet(3, [8, 8, 8], 1, 2),
        { normalization: { method: 'fixed', mean: 100, std: 20 }, argmaxOutput: true },
      ],
    ];
    for (const [name, model, selfContained] of cases) {
      const path = join(dir, `${name}.onnx`);
      writeFileSync(path, convertLayersModel(model, { selfContained }).bytes);
      const r = runOnnxChecker(path);
      t.is(r.status, 0, `${name}: ${r.output}`);
      const info = JSON.parse(r.output) as { outputs: string[]; input_dims: unknown[][] };
      t.deepEqual(info.outputs, ['output', 'labels']);
      t.is(info.input_dims[0]![1], name.endsWith('3d') ? 'depth' : 'height');
    }
  });
} else {
  console.warn(`tfjs-to-onnx: self-contained ONNX checker test SKIPPED: ${checker.reason}`);
  const title = `SKIPPED (python3-onnx absent: ${checker.reason}): self-contained graphs pass onnx.checker`;
  test.skip(title, () => {});
}
