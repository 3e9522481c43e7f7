/**
 * Every config.pbtxt the exporter writes is parsed against Triton's ModelConfig schema
 * (test/fixtures/triton-model-config.proto) and checked against the ONNX graph beside it, as Triton's
 * onnxruntime backend does at load: names, data types, and dims (-1 where dynamic; batch left out exactly when
 * max_batch_size > 0). The parser itself is shown to fail on unknown fields and wrong types.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import {
  decodeModel,
  exportModel,
  TfjsToOnnxError,
  tritonConfig,
  type ExportOptions,
  type ModelMetadataInput,
} from '../src/index.js';
import { randomizeWeights, useCpuBackend } from './helpers.js';
import { parsePbtxt } from './pbtxt.js';

test.before(async () => {
  await useCpuBackend();
});

type ST = tfl.SymbolicTensor;
const SCHEMA = readFileSync(new URL('../../test/fixtures/triton-model-config.proto', import.meta.url), 'utf8');
const parseConfig = (text: string) => parsePbtxt(text, SCHEMA, 'inference.ModelConfig');

/** A fixed-patch segmenter with one pooling (size grid 2), two classes. */
function segmenter(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 1] });
  const e = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as ST;
  let x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(e) as ST;
  x = tfl.layers.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2 }).apply(x) as ST;
  x = tfl.layers.concatenate().apply([e, x]) as ST;
  x = tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'softmax' }).apply(x) as ST;
  const model = tfl.model({ inputs: input, outputs: x, name: 'segmenter' });
  randomizeWeights(model, 61);
  return model;
}

const TRITON_TYPE: Record<number, string> = { 1: 'TYPE_FP32', 2: 'TYPE_UINT8' };

/** Triton's load-time check of a config against the ONNX graph's inputs and outputs. */
function checkAgainstModel(config: Record<string, any>, onnxPath: string): void {
  const graph = decodeModel(readFileSync(onnxPath)).graph;
  const batched = config['max_batch_size'] > 0;
  for (const [kind, values, entries] of [
    ['input', graph.input, config['input']],
    ['output', graph.output, config['output']],
  ] as const) {
    if (entries.length !== values.length)
      throw new Error(`${kind}: ${entries.length} in config.pbtxt, ${values.length} in the model`);
    for (const v of values) {
      const entry = (entries as { name: string; data_type: string; dims: number[] }[]).find((e) => e.name === v.name);
      if (!entry) throw new Error(`${kind} '${v.name}' of the model is missing from config.pbtxt`);
      const type = TRITON_TYPE[v.type.tensor_type.elem_type];
      if (entry.data_type !== type)
        throw new Error(`${kind} '${v.name}': config says ${entry.data_type}, the model ${type}`);
      const dims = v.type.tensor_type.shape.dim.map((d) =>
        'dim_value' in d && d.dim_value !== undefined ? Number(d.dim_value) : -1,
      );
      if (batched && dims[0] !== -1)
        throw new Error(`${kind} '${v.name}': max_batch_size > 0 needs a dynamic first axis`);
      const want = batched ? dims.slice(1) : dims;
      if (entry.dims.join(',') !== want.join(','))
        throw new Error(`${kind} '${v.name}': dims [${entry.dims}] in config.pbtxt, [${want}] expected`);
    }
  }
}

test('the pbtxt parser accepts a config in Triton style and rejects unknown fields, wrong types and bad enums', (t) => {
  const good = parseConfig(
    [
      'name: "seg"  # a comment',
      'platform: "onnxruntime_onnx"',
      'max_batch_size: 4',
      'input [ { name: "input", data_type: TYPE_FP32, dims: [ -1, -1, 1 ] } ]',
      'output: [ { name: "output" data_type: TYPE_FP32 dims: [ -1, -1, 2 ] } ]',
      'instance_group { kind: KIND_GPU count: 2 gpus: [0, 1] }',
    ].join('\n'),
  );
  t.is(good['max_batch_size'], 4);
  t.deepEqual(good['input'][0].dims, [-1, -1, 1]);
  t.is(good['instance_group'][0].kind, 'KIND_GPU');
  const bad: [string, RegExp][] = [
    ['max_batch: 8', /ModelConfig has no field 'max_batch'/],
    ['max_batch_size: "8"', /max_batch_size is an int32, expected an integer, got '"8"'/],
    ['max_batch_size: 2.5', /max_batch_size is an int32, expected an integer/],
    ['max_batch_size: 4294967296', /out of range for int32/],
    ['name: seg', /name is a string, expected a quoted string/],
    [
      'input [ { name: "x" data_type: TYPE_FLOAT32 } ]',
      /input\.data_type is an enum DataType; 'TYPE_FLOAT32' is not one of/,
    ],
    ['input [ { name: "x" dims: [ 1, "2" ] } ]', /input\.dims is an int64, expected an integer/],
    ['input [ { name: "x" shape: [ 1 ] } ]', /ModelInput has no field 'shape' \(input\.shape\)/],
    ['input: "x"', /input is a ModelInput message, expected '\{'/],
    ['max_batch_size 4', /scalar field max_batch_size needs ':'/],
    ['name: "a"\nname: "b"', /line 2: name is not repeated but is set twice/],
    ['output [ { name: "y" }', /missing '\}'|expected ',' or '\]'/],
  ];
  for (const [text, message] of bad) t.throws(() => parseConfig(text), { message }, text);
});

/**
 * Metadata recording a normalization under both spellings: rwseg.json 1 says `normalisation`, the model artifact
 * `normalization`; exportModel reads either, and this test holds whichever the metadata type has.
 */
function recordedNormalization(n: { method: string; [key: string]: unknown }): ModelMetadataInput {
  return { normalisation: n, normalization: n } as unknown as ModelMetadataInput;
}

async function exportTriton(out: string, name: string, extra: Partial<ExportOptions>) {
  return exportModel({
    model: segmenter(),
    outDir: out,
    format: 'triton',
    name,
    parity: { randomShapes: [[1, 8, 8, 1]] },
    metadata: { classes: ['bg', 'fg'] },
    ...extra,
  });
}

test('self-contained Triton exports (max_batch_size 4, 0): config passes the schema, fits the graph', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-triton-sc-'));
  for (const maxBatchSize of [4, 0]) {
    const name = `seg_b${maxBatchSize}`;
    const result = await exportTriton(out, name, {
      maxBatchSize,
      selfContained: { normalization: { method: 'zscore' }, argmaxOutput: true },
    });
    const config = parseConfig(readFileSync(join(out, name, 'config.pbtxt'), 'utf8'));
    t.is(config['name'], name);
    t.is(config['platform'], 'onnxruntime_onnx');
    t.is(config['max_batch_size'], maxBatchSize);
    t.notThrows(() => checkAgainstModel(config, result.onnxPath));
    const outputs = config['output'] as { name: string; data_type: string; dims: number[] }[];
    t.deepEqual(
      outputs.map((o) => [o.name, o.data_type, o.dims]),
      [
        ['output', 'TYPE_FP32', maxBatchSize > 0 ? [-1, -1, 2] : [-1, -1, -1, 2]],
        ['labels', 'TYPE_UINT8', maxBatchSize > 0 ? [-1, -1] : [-1, -1, -1]],
      ],
    );
    t.deepEqual(config['input'][0].dims, maxBatchSize > 0 ? [-1, -1, 1] : [-1, -1, -1, 1]);
    // The repository's model runs on a raw image of a size off the grid, off the patch.
    const session = await ort.InferenceSession.create(result.onnxPath);
    const raw = Float32Array.from({ length: 2 * 11 * 7 }, (_, i) => 300 + 50 * Math.cos(i));
    const y = await session.run({ input: new ort.Tensor('float32', raw, [2, 11, 7, 1]) });
    t.deepEqual(y['labels']!.dims, [2, 11, 7]);
    await session.release();
    const meta = JSON.parse(readFileSync(result.metadataPath, 'utf8'));
    t.deepEqual(
      meta.model.outputs.map((o: { name: string; activation: string }) => [o.name, o.activation]),
      [
        ['output', 'softmax'],
        ['labels', 'argmax'],
      ],
    );
    t.deepEqual(meta.extra.selfContained, {
      dynamicSpatial: 'any',
      sizeGrid: [2, 2],
      normalization: { method: 'zscore' },
      labels: 'labels',
    });
    const props = decodeModel(readFileSync(result.onnxPath)).metadata_props;
    t.deepEqual(JSON.parse(props.find((p) => p.key === 'rwseg.selfContained')!.value), meta.extra.selfContained);
  }
});

test("plain exports pass the schema; max_batch_size 0 writes full dims, batch too (Triton's rule)", async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-triton-plain-'));
  for (const maxBatchSize of [8, 0]) {
    const name = `plain_b${maxBatchSize}`;
    const result = await exportTriton(out, name, { maxBatchSize });
    const config = parseConfig(readFileSync(join(out, name, 'config.pbtxt'), 'utf8'));
    t.notThrows(() => checkAgainstModel(config, result.onnxPath));
    t.deepEqual(config['input'][0].dims, maxBatchSize > 0 ? [8, 8, 1] : [-1, 8, 8, 1]);
  }
  const fixedBatch = tritonConfig('fixed', {
    inputs: [{ name: 'input', dtype: 'float32', shape: [1, 64, 64, 1], layout: 'NHWC' }],
    outputs: [{ name: 'output', dtype: 'float32', shape: [1, 64, 64, 2], layout: 'NHWC' }],
  });
  t.deepEqual(parseConfig(fixedBatch)['input'][0].dims, [1, 64, 64, 1]);
});

test('selfContained: true embeds the normalization rwseg.json records; without one it refuses', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-triton-meta-'));
  const result = await exportModel({
    model: segmenter(),
    outDir: out,
    parity: false,
    selfContained: true,
    metadata: recordedNormalization({ method: 'percentile', scope: 'per-image-and-channel', percentiles: [1, 99] }),
  });
  t.deepEqual(result.selfContained, {
    dynamicSpatial: 'any',
    sizeGrid: [2, 2],
    normalization: { method: 'percentile', percentiles: [1, 99] },
    labels: 'labels',
  });
  t.true(decodeModel(readFileSync(result.onnxPath)).graph.node.some((n) => n.op_type === 'TopK'));
  const fixed = await exportModel({
    model: segmenter(),
    outDir: out,
    parity: false,
    selfContained: true,
    metadata: recordedNormalization({ method: 'zscore', mean: 71.2, std: 12.5 }),
  });
  t.deepEqual(fixed.selfContained!.normalization, { method: 'fixed', mean: [71.2], std: [12.5] });
  await t.throwsAsync(exportModel({ model: segmenter(), outDir: out, selfContained: true }), {
    instanceOf: TfjsToOnnxError,
    message:
      /selfContained needs the normalization to embed: pass selfContained\.normalization or metadata\.normalization/,
  });
  await t.throwsAsync(
    exportModel({
      model: segmenter(),
      outDir: out,
      selfContained: true,
      metadata: recordedNormalization({ method: 'histogram' }),
    }),
    {
      message: /the recorded method 'histogram' cannot be embedded in the graph/,
    },
  );
});
