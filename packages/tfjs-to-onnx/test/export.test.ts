/** fileSystemIO round trip, and exportModel's ONNX and Triton folders with rwseg.json. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import { exportModel, fileSystemIO, TfjsToOnnxError, tritonConfig } from '../src/index.js';
import { randomizeWeights, randomTensor, tf, useCpuBackend } from './helpers.js';
import { InstanceNormalization } from './custom-layers.js';

test.before(async () => {
  await useCpuBackend();
});

type ST = tfl.SymbolicTensor;
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `tfjs-to-onnx-${name}-`));

function segmenter(): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 1] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as ST;
  x = new InstanceNormalization({ name: 'norm' }).apply(x) as ST;
  x = tfl.layers.reLU().apply(x) as ST;
  x = tfl.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'softmax', name: 'head' }).apply(x) as ST;
  const model = tfl.model({ inputs: input, outputs: x, name: 'segmenter' });
  randomizeWeights(model, 21);
  return model;
}

test('fileSystemIO saves and loads a model: same weights, same predictions, custom layers included', async (t) => {
  const dir = join(tmp('io'), 'nested', 'model');
  const model = segmenter();
  await model.save(fileSystemIO(dir));
  t.true(existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin')));
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  t.deepEqual(json.weightsManifest[0]!.paths, ['weights.bin']);
  const loaded = await tfl.loadLayersModel(fileSystemIO(dir));
  t.deepEqual(
    loaded.layers.map((l) => l.getClassName()),
    model.layers.map((l) => l.getClassName()),
  );
  const x = randomTensor([1, 6, 5, 1], 3);
  const diff = tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor))).dataSync()[0]!;
  t.is(diff, 0);
});

test('fileSystemIO load of a missing or broken folder names the file', async (t) => {
  const dir = tmp('missing');
  const missing = await t.throwsAsync(tfl.loadLayersModel(fileSystemIO(join(dir, 'nope'))));
  t.regex(missing!.message, /cannot read .*nope\/model\.json/);
  writeFileSync(join(dir, 'model.json'), '{not json');
  const broken = await t.throwsAsync(tfl.loadLayersModel(fileSystemIO(dir)), { instanceOf: TfjsToOnnxError });
  t.regex(broken!.message, /model\.json is not valid JSON/);
});

test("exportModel (format 'onnx') from a saved folder writes model.onnx and rwseg.json, after a passing parity check", async (t) => {
  const saved = tmp('saved');
  const model = segmenter();
  await model.save(fileSystemIO(saved));
  const out = tmp('export');
  const image = randomTensor([1, 12, 10, 1], 9);
  const result = await exportModel({
    model: saved,
    outDir: out,
    format: 'onnx',
    metadata: {
      classes: ['background', 'liver', 'tumour'],
      spacing: [0.8, 0.8],
      normalization: { method: 'zscore', mean: 71.2, std: 12.5 },
      patchSize: [128, 128],
      rwsegVersion: '0.1.0',
      loss: { name: 'rw', map: 'rrw' },
    },
    parity: { inputs: [[image]], randomShapes: [[2, 9, 13, 1]] },
  });
  t.deepEqual(result.files, [join(out, 'model.onnx'), join(out, 'rwseg.json')]);
  t.true(result.parity!.maxAbsError < 1e-4);
  t.is(result.parity!.cases.length, 3);
  const meta = JSON.parse(readFileSync(join(out, 'rwseg.json'), 'utf8'));
  t.is(meta.schema, 'rwseg-model-metadata/1');
  t.deepEqual(meta.classes, [
    { index: 0, name: 'background' },
    { index: 1, name: 'liver' },
    { index: 2, name: 'tumour' },
  ]);
  t.deepEqual(meta.model.inputs, [
    { name: 'input', dtype: 'float32', shape: ['batch', 'height', 'width', 1], layout: 'NHWC' },
  ]);
  t.is(meta.model.outputs[0].activation, 'softmax');
  t.is(meta.model.file, 'model.onnx');
  t.is(meta.model.opset, 17);
  t.deepEqual(meta.loss, { name: 'rw', map: 'rrw' });
  t.deepEqual(meta.normalization, { method: 'zscore', mean: 71.2, std: 12.5 });
  t.is(meta.parity.maxAbsError, result.parity!.maxAbsError);
  // Whoever has only the folder can run it: a fresh session on the file reproduces TF.js.
  const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
  const y = (await session.run({ input: new ort.Tensor('float32', image.dataSync() as Float32Array, image.shape) }))[
    'output'
  ]!;
  const want = (model.predict(image) as tf.Tensor).dataSync();
  t.true(Array.from(want).every((w, i) => Math.abs(w - (y.data as Float32Array)[i]!) < 1e-4));
});

test("exportModel (format 'triton') writes a model repository with config.pbtxt", async (t) => {
  const out = tmp('triton');
  const result = await exportModel({
    model: segmenter(),
    outDir: out,
    format: 'triton',
    name: 'liver',
    maxBatchSize: 4,
    metadata: { classes: ['bg', 'fg', 'x'] },
  });
  t.deepEqual(result.files, [
    join(out, 'liver', 'config.pbtxt'),
    join(out, 'liver', '1', 'model.onnx'),
    join(out, 'liver', 'rwseg.json'),
  ]);
  t.is(
    readFileSync(join(out, 'liver', 'config.pbtxt'), 'utf8'),
    [
      'name: "liver"',
      'platform: "onnxruntime_onnx"',
      'max_batch_size: 4',
      'input [\n  {\n    name: "input"\n    data_type: TYPE_FP32\n    dims: [ -1, -1, 1 ]\n  }\n]',
      'output [\n  {\n    name: "output"\n    data_type: TYPE_FP32\n    dims: [ -1, -1, 3 ]\n  }\n]',
      '',
    ].join('\n'),
  );
  const session = await ort.InferenceSession.create(join(out, 'liver', '1', 'model.onnx'));
  t.deepEqual(session.inputNames, ['input']);
  t.is(JSON.parse(readFileSync(result.metadataPath, 'utf8')).model.file, '1/model.onnx');
});

test('tritonConfig with a fixed batch size uses max_batch_size 0 and full dims', (t) => {
  const config = tritonConfig('fixed', {
    inputs: [{ name: 'input', dtype: 'float32', shape: [1, 64, 64, 1], layout: 'NHWC' }],
    outputs: [{ name: 'output', dtype: 'float32', shape: [1, 64, 64, 2], layout: 'NHWC' }],
  });
  t.regex(config, /max_batch_size: 0\n/);
  t.regex(config, /dims: \[ 1, 64, 64, 1 \]/);
});

test('exportModel refuses bad metadata and formats with a message naming them', async (t) => {
  const out = tmp('bad');
  await t.throwsAsync(exportModel({ model: segmenter(), outDir: out, parity: false, metadata: { spacing: [1, -2] } }), {
    message: /metadata\.spacing must be a list of positive numbers/,
  });
  await t.throwsAsync(exportModel({ model: segmenter(), outDir: out, format: 'tflite' as 'onnx' }), {
    message: /format must be 'onnx' or 'triton', got 'tflite'/,
  });
});
