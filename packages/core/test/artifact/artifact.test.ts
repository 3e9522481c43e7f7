/**
 * The model artifact (artifact/): written by training, read by everything downstream through one reader. Round
 * trips, every bad field named with its file, older formats migrated with a notice or rejected saying what to do.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import {
  buildModelArtifact,
  buildUNet,
  isRwsegError,
  labelValuesOf,
  parseModelArtifact,
  readModelArtifact,
  saveModelDir,
  writeModelArtifact,
  type ArtifactFacts,
  type ModelArtifact,
} from '../../src/index.js';
import { TINY_UNET } from '../helpers/toy-training.js';

const temp = () => mkdtempSync(path.join(tmpdir(), 'rwseg-artifact-'));

const facts: ArtifactFacts = {
  config: {
    seed: 4,
    preprocessing: { normalization: 'zscore', patch: [32, 48], sliceAxis: 2 },
    model: { depth: 3 },
    loss: 'dice',
    training: { epochs: 7 },
    dataset: { kind: 'msd' },
  },
  dataDims: 3,
  inputChannels: 2,
  classNames: ['background', 'anterior', 'posterior'],
  labelMap: { '0': 0, '128': 1, '255': 2 },
  unet: { depth: 3, baseFilters: 8, deepSupervision: 2 },
  metrics: { epoch: 5, selection: 'best-validation-dice', meanDice: 0.81, classes: null },
};

function warnings(): { logger: { warn: (m: string) => void }; lines: string[] } {
  const lines: string[] = [];
  return { logger: { warn: (m) => lines.push(m) }, lines };
}

test('what training knows becomes the artifact: size grid from the depth, slice axis for a 2D model on 3D data, label values', (t) => {
  const a = buildModelArtifact(facts);
  t.is(a.schema, 'rwseg-model/2');
  t.is(a.dims, 2);
  t.deepEqual(a.patchSize, [32, 48]);
  t.deepEqual(a.sizeGrid, [4, 4]);
  t.is(a.sliceAxis, 2);
  t.deepEqual(a.labelValues, [0, 128, 255]);
  t.is(a.spacing, null);
  t.deepEqual(a.normalization, { method: 'zscore', scope: 'per-image-and-channel' });
  t.deepEqual(
    a.classes.map((c) => c.index),
    [0, 1, 2],
  );
  t.is(a.architecture!.heads, 2);
  t.is(a.metrics.epoch, 5);
  // A 2D model on 2D data has no slice axis; the synthetic set is on a 1 mm grid.
  const flat = buildModelArtifact({
    ...facts,
    dataDims: 2,
    config: { ...facts.config, dataset: { kind: 'synthetic' } },
  });
  t.is(flat.sliceAxis, null);
  t.deepEqual(flat.spacing, [1, 1]);
  // Several stored values for one class: the smallest is written back; a class no value maps to: no label values.
  t.deepEqual(labelValuesOf({ '10': 1, '5': 1, '0': 0 }, 2), [0, 5]);
  t.is(labelValuesOf({ '0': 0 }, 2), null);
});

test('write then read gives the same artifact; the file is validated before it is written', (t) => {
  const dir = temp();
  const a = buildModelArtifact(facts);
  writeModelArtifact(dir, a);
  t.deepEqual(readModelArtifact(dir), a);
  t.deepEqual(readModelArtifact(path.join(dir, 'rwseg.json')), a);
  const error = t.throws(() => writeModelArtifact(dir, { ...a, classes: [{ index: 0, name: 'only' }] }));
  t.regex(error!.message, /rwseg\.json: field 'classes'/);
  t.deepEqual(readModelArtifact(dir), a, 'the invalid document never reached the file');
});

test('hand-edited fields are errors naming the file and the field', (t) => {
  const a = buildModelArtifact(facts);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...a, normalization: { method: 'histogram' } }, /m\/rwseg\.json: field 'normalization\.method'/],
    [
      { ...a, normalization: { method: 'zscore', scope: 'fixed', mean: [1] } },
      /field 'normalization\.std': required with scope 'fixed'/,
    ],
    [
      { ...a, normalization: { method: 'zscore', scope: 'fixed', mean: [1, 2, 3], std: [1] } },
      /field 'normalization\.mean': needs 1 or 2 values/,
    ],
    [{ ...a, patchSize: [32] }, /field 'patchSize': has 1 axes but the model is 2D/],
    [{ ...a, spacing: [1, -1] }, /field 'spacing\[1\]'/],
    [
      {
        ...a,
        classes: [
          { index: 1, name: 'a' },
          { index: 0, name: 'b' },
        ],
      },
      /field 'classes\[0\]\.index': expected 0/,
    ],
    [{ ...a, labelValues: [0, 1] }, /field 'labelValues': has 2 values for 3 classes/],
    [{ ...a, metrics: { ...a.metrics, epoch: 0 } }, /field 'metrics\.epoch'/],
    [{ ...a, surprise: 1 }, /field '\(top level\)'|surprise/],
    [
      { ...a, schema: 'rwseg-model/3' },
      /field 'schema': 'rwseg-model\/3' is not a model format this rwseg reads .*export the model again/,
    ],
  ];
  for (const [json, message] of bad) {
    const error = t.throws(() => parseModelArtifact(json, 'm/rwseg.json'), { message });
    t.true(isRwsegError(error, 'INVALID_CONFIG'));
  }
});

test('the British spelling is read with a deprecation notice', (t) => {
  const { normalization, ...rest } = buildModelArtifact(facts);
  const { logger, lines } = warnings();
  t.deepEqual(
    parseModelArtifact({ ...rest, normalisation: normalization }, 'x.json', { logger }).normalization,
    normalization,
  );
  t.regex(lines[0]!, /x\.json: 'normalisation' is deprecated; spell it 'normalization'/);
});

test('an exporter rwseg.json of schema rwseg-model-metadata/1 is migrated: 0-based best epoch to 1-based, sha256 taken', (t) => {
  const dir = temp();
  writeFileSync(path.join(dir, 'model.onnx'), 'onnx bytes');
  const { logger, lines } = warnings();
  const a = parseModelArtifact(
    {
      schema: 'rwseg-model-metadata/1',
      createdAt: '2026-01-01T00:00:00Z',
      rwsegVersion: '0.1.0',
      converter: '@rwseg/tfjs-to-onnx 0.1.0',
      model: {
        file: 'model.onnx',
        format: 'onnx',
        opset: 17,
        layout: 'channels-last',
        inputs: [{ name: 'input', shape: ['batch', 64, 64, 1] }],
        outputs: [{ name: 'output', shape: ['batch', 64, 64, 3] }],
      },
      classes: [
        { index: 0, name: 'background' },
        { index: 1, name: 'a' },
        { index: 2, name: 'b' },
      ],
      spacing: null,
      normalisation: { method: 'percentile', scope: 'per-image-and-channel', percentiles: [0.5, 99.5] },
      patchSize: [64, 64],
      loss: { name: 'rrw' },
      parity: { maxAbsError: 1e-6, maxRelError: 1e-5, tolerance: { abs: 1e-4 } },
      extra: { bestEpoch: 3, bestDice: 0.9, seed: 1, droppedDeepSupervisionHeads: 1, modelConfig: { depth: 4 } },
    },
    path.join(dir, 'rwseg.json'),
    { logger, dir },
  );
  t.is(a.metrics.epoch, 4);
  t.is(a.metrics.meanDice, 0.9);
  t.deepEqual(a.normalization, { method: 'percentile', scope: 'per-image-and-channel', percentiles: [0.5, 99.5] });
  t.is(a.dims, 2);
  t.is(a.inputChannels, 1);
  t.is(a.spacing, null);
  t.is(a.export!.file, 'model.onnx');
  t.is(a.export!.sha256, createHash('sha256').update('onnx bytes').digest('hex'));
  t.is(a.export!.droppedDeepSupervisionHeads, 1);
  t.is(a.architecture!.heads, 2);
  t.regex(lines[0]!, /rwseg-model-metadata\/1 model metadata is deprecated; read as rwseg-model\/2/);
});

/** A run folder as rwseg 0.1 left it: model/ without rwseg.json, config.json and a 0-based summary. */
async function oldRun(withConfig: boolean): Promise<string> {
  const run = temp();
  await saveModelDir(buildUNet(TINY_UNET, [16, 16]), path.join(run, 'model'), { bestEpoch: 1 });
  if (withConfig) {
    const config = {
      name: 'old',
      dataset: { kind: 'synthetic', shape: [16, 16] },
      preprocessing: { normalization: 'percentile', patch: [16, 16] },
      loss: 'dice',
      training: { epochs: 3, iterationsPerEpoch: 2 },
    };
    writeFileSync(path.join(run, 'config.json'), JSON.stringify(config));
    writeFileSync(
      path.join(run, 'summary.json'),
      JSON.stringify({ bestEpoch: 1, bestDice: 0.5, epochsRun: 3, startEpoch: 0 }),
    );
  }
  return run;
}

test('a model folder trained by rwseg 0.1 (no rwseg.json) is rebuilt from its run folder, with a notice', async (t) => {
  const run = await oldRun(true);
  const { logger, lines } = warnings();
  const a: ModelArtifact = readModelArtifact(path.join(run, 'model'), { logger });
  t.is(a.dims, 2);
  t.is(a.inputChannels, 1);
  t.is(a.classes.length, 2);
  t.deepEqual(a.normalization, { method: 'percentile', scope: 'per-image-and-channel', percentiles: [0.5, 99.5] });
  t.is(a.metrics.epoch, 2, 'the 0-based best epoch 1 of the old summary is epoch 2');
  t.is(a.training.loss, 'dice');
  t.regex(lines[0]!, /no rwseg\.json \(a model trained by rwseg 0\.1\); rebuilt from the run's config\.json/);
  // The run folder itself is accepted too.
  t.is(readModelArtifact(run, { logger }).metrics.epoch, 2);
});

test('an old model folder without a run config, or a folder that is no model, is rejected saying what to do', async (t) => {
  const run = await oldRun(false);
  const error = t.throws(() => readModelArtifact(path.join(run, 'model')));
  t.regex(
    error!.message,
    /model\/rwseg\.json: missing, and the run folder has no config\.json to rebuild it from: retrain, or resume the run/,
  );
  const empty = temp();
  mkdirSync(path.join(empty, 'x'));
  t.regex(
    t.throws(() => readModelArtifact(path.join(empty, 'x')))!.message,
    /holds no rwseg\.json: pass a model folder that rwseg train/,
  );
  t.regex(t.throws(() => readModelArtifact(path.join(empty, 'nope')))!.message, /does not exist/);
  writeFileSync(path.join(empty, 'x', 'rwseg.json'), '{ "schema": ');
  t.regex(t.throws(() => readModelArtifact(path.join(empty, 'x')))!.message, /x\/rwseg\.json: not valid JSON/);
});
