/**
 * `rwseg export` on a real trained run: a quickstart U-Net (instance norm, transposed convs) trained briefly with
 * two deep-supervision heads, exported to ONNX with its metadata, checked by Debian's ONNX checker, and every
 * user error the command documents.
 */
import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { RWSEG_VERSION, useBackend } from '@rwseg/core';
import { buildModelArtifact } from '@rwseg/core/artifact';
import { encodePng } from '@rwseg/core/io';
import { saveModelDir } from '@rwseg/core/training';
import { errorText, parseJson, runCli } from '@rwseg/test-helpers/cli';
import { checkOnnxFile, onnxCheckerAvailability } from '@rwseg/test-helpers/onnx-checker';

const work = mkdtempSync(path.join(tmpdir(), 'rwseg-export-'));
const run = path.join(work, 'run');

test.before(async () => {
  await useBackend('cpu');
  const trained = await runCli(
    [
      'train',
      '--config',
      'pipelines/quickstart.yaml',
      '--out',
      run,
      '--backend',
      'wasm',
      '--epochs',
      '1',
      '--iterations',
      '3',
      '--json',
      '--set',
      'model.deepSupervision=2',
      '--set',
      'export.format=triton',
      '--set',
      'export.name=ds',
      '--set',
      'dataset.train=4',
      '--set',
      'dataset.validation=1',
      '--set',
      'evaluation.overlays=0',
    ],
    { timeoutMs: 120_000 },
  );
  if (trained.code !== 0) throw new Error(`training failed: ${errorText(trained)}`);
  trainedJson = parseJson(trained);
});

let trainedJson: any;

test("the training run's export step (export.format: triton) leaves a model repository with the same metadata", (t) => {
  t.is(trainedJson.onnx, path.join(run, 'model_repository', 'ds', '1', 'model.onnx'));
  t.regex(
    readFileSync(path.join(run, 'model_repository', 'ds', 'config.pbtxt'), 'utf8'),
    /^name: "ds"\nplatform: "onnxruntime_onnx"/,
  );
  const meta = JSON.parse(readFileSync(path.join(run, 'model_repository', 'ds', 'rwseg.json'), 'utf8'));
  t.is(meta.schema, 'rwseg-model/2');
  t.is(meta.export.file, '1/model.onnx');
  t.is(meta.export.droppedDeepSupervisionHeads, 1);
  t.deepEqual(meta.normalization, { method: 'zscore', scope: 'per-image-and-channel' });
  t.true(meta.export.parity.maxAbsError < 1e-4);
  // The version folder is self-contained: its own rwseg.json names the model.onnx beside it, same sha256.
  const versionMeta = JSON.parse(readFileSync(path.join(run, 'model_repository', 'ds', '1', 'rwseg.json'), 'utf8'));
  t.is(versionMeta.export.file, 'model.onnx');
  t.is(versionMeta.export.sha256, meta.export.sha256);
  // What model/ holds is what was exported: the training artifact plus the export section.
  const trainedMeta = JSON.parse(readFileSync(path.join(run, 'model', 'rwseg.json'), 'utf8'));
  t.deepEqual({ ...meta, export: undefined }, { ...trainedMeta, export: undefined });
});

test('--image adds a real image to the parity check, normalized and cropped to the patch', async (t) => {
  const image = path.join(work, 'image.png');
  const gray = new Uint8Array(80 * 70).map((_, i) => (i * 37) % 251);
  writeFileSync(image, encodePng({ data: gray, shape: [80, 70], spacing: [1, 1] }, image));
  const result = await runCli([
    'export',
    '--model',
    run,
    '--out',
    path.join(work, 'with-image'),
    '--image',
    image,
    '--json',
  ]);
  t.is(result.code, 0, errorText(result));
  const first = parseJson(result).parity.cases[0];
  t.is(first.label, image);
  t.deepEqual(first.inputShapes, [[1, 64, 64, 1]]);
  t.true(first.maxAbsError < 1e-4);
});

test('exports a trained deep-supervision U-Net: model.onnx + complete rwseg.json, the full-resolution head only, parity on a real validation image', async (t) => {
  const out = path.join(work, 'onnx');
  const result = await runCli(['export', '--model', run, '--out', out, '--json']);
  t.is(result.code, 0, errorText(result));
  const json = parseJson(result);
  t.is(json.format, 'onnx');
  t.is(json.droppedHeads, 1);
  t.deepEqual(json.files.sort(), [path.join(out, 'model.onnx'), path.join(out, 'rwseg.json')]);
  // The real image comes first, then the random cases; all within the default tolerance.
  t.deepEqual(
    json.parity.cases.map((c: any) => c.label.replace(/^validation case \S+$/, 'validation case')),
    ['validation case', 'random 0', 'random 1'],
  );
  t.deepEqual(json.parity.cases[0].inputShapes, [[1, 64, 64, 1]]);
  t.true(json.parity.maxAbsError < 1e-4, String(json.parity.maxAbsError));

  const meta = JSON.parse(readFileSync(path.join(out, 'rwseg.json'), 'utf8'));
  t.deepEqual(meta.classes, [
    { index: 0, name: 'background' },
    { index: 1, name: 'disc' },
    { index: 2, name: 'rectangle' },
  ]);
  t.deepEqual(meta.normalization, { method: 'zscore', scope: 'per-image-and-channel' });
  t.deepEqual(meta.patchSize, [64, 64]);
  t.deepEqual(meta.sizeGrid, [8, 8]);
  t.deepEqual(meta.spacing, [1, 1]);
  t.is(meta.sliceAxis, null);
  t.is(meta.rwsegVersion, RWSEG_VERSION);
  t.deepEqual(meta.training.loss.combine, ['rrw', 'dice']);
  t.is(meta.metrics.epoch, 1);
  t.is(meta.export.outputs.length, 1);
  t.deepEqual(meta.export.outputs[0].shape, ['batch', 64, 64, 3]);
  t.is(meta.export.outputs[0].activation, 'softmax');
  t.is(meta.export.droppedDeepSupervisionHeads, 1);
  t.is(meta.export.parity.maxAbsError, json.parity.maxAbsError);
});

const checker = onnxCheckerAvailability();
if (checker.ok) {
  test('the exported trained U-Net passes onnx.checker (full check), with instance norm, transposed convs and softmax in the graph', async (t) => {
    const out = path.join(work, 'checked');
    // The model/ subfolder is accepted as well as the run folder.
    const result = await runCli([
      'export',
      '--model',
      path.join(run, 'model'),
      '--out',
      out,
      '--opset',
      '18',
      '--json',
    ]);
    t.is(result.code, 0, errorText(result));
    const info = checkOnnxFile(path.join(out, 'model.onnx'));
    t.deepEqual(info.opset, [18]);
    t.deepEqual(info.inputs, ['input']);
    t.deepEqual(info.outputs, ['output']);
    for (const op of ['InstanceNormalization', 'ConvTranspose', 'Softmax', 'LeakyRelu', 'Concat'])
      t.true(info.ops.includes(op), `${op} in ${info.ops}`);
    t.is(JSON.parse(info.metadata.rwseg!).patchSize.join(','), '64,64');
  });
} else {
  console.warn(`rwseg export: ONNX checker test SKIPPED: ${checker.reason}`);
  test.skip(`SKIPPED (python3-onnx absent: ${checker.reason}): the exported trained U-Net passes onnx.checker`, () => {});
}

test('a parity failure exits 1 (a numerical failure, not a user error) with both error numbers and writes nothing', async (t) => {
  const out = path.join(work, 'strict');
  const result = await runCli(['export', '--model', run, '--out', out, '--tolerance', '1e-12']);
  t.is(result.code, 1);
  t.regex(
    errorText(result),
    /ONNX and TF.js outputs differ: max abs error \d[\d.e-]* \(tolerance 1e-12\), max relative error \d[\d.e-]*/,
  );
  t.false(existsSync(path.join(out, 'model.onnx')));
  const json = await runCli(['export', '--model', run, '--out', out, '--tolerance', '1e-12', '--json']);
  t.is(json.code, 1);
  t.is(parseJson(json).error.code, 'NUMERICAL_ERROR');
  t.is(parseJson(json).error.details.converterCode, 'PARITY_FAILED');
  // --no-parity skips the check and says so in the metadata.
  const skipped = await runCli([
    'export',
    '--model',
    run,
    '--out',
    out,
    '--tolerance',
    '1e-12',
    '--no-parity',
    '--json',
  ]);
  t.is(skipped.code, 0, errorText(skipped));
  t.is(parseJson(skipped).parity, null);
  t.is(JSON.parse(readFileSync(path.join(out, 'rwseg.json'), 'utf8')).export.parity, null);
});

test('an export target that holds a model needs --force; --name is a server model name, never a path', async (t) => {
  const out = path.join(work, 'twice');
  const first = await runCli([
    'export',
    '--model',
    run,
    '--out',
    out,
    '--no-parity',
    '--format',
    'triton',
    '--name',
    'twice',
    '--json',
  ]);
  t.is(first.code, 0, errorText(first));
  const again = await runCli([
    'export',
    '--model',
    run,
    '--out',
    out,
    '--no-parity',
    '--format',
    'triton',
    '--name',
    'twice',
  ]);
  t.is(again.code, 2);
  t.regex(
    errorText(again),
    /export target .*twice already holds a model \(1\): pass --force to replace it, or choose another --out or --name/,
  );
  // --force writes the next version and removes the old one: a server sees one model, complete.
  const forced = await runCli([
    'export',
    '--model',
    run,
    '--out',
    out,
    '--no-parity',
    '--format',
    'triton',
    '--name',
    'twice',
    '--force',
    '--json',
  ]);
  t.is(forced.code, 0, errorText(forced));
  t.is(parseJson(forced).version, 2);
  t.false(existsSync(path.join(out, 'twice', '1')));
  t.true(existsSync(path.join(out, 'twice', '2', 'model.onnx')));
  for (const name of ['..', '../escape', 'a/b', '.hidden']) {
    const bad = await runCli(['export', '--model', run, '--out', out, '--format', 'triton', '--name', name]);
    t.is(bad.code, 2, name);
    t.regex(errorText(bad), /invalid model name \(--name\) '.*': use letters, digits/);
  }
  t.false(existsSync(path.join(work, 'escape')));
});

test('clear errors: missing folder, not a run folder, a run without its model', async (t) => {
  const missing = await runCli(['export', '--model', path.join(work, 'nope'), '--out', path.join(work, 'x')]);
  t.is(missing.code, 2);
  t.regex(errorText(missing), /model folder '.*nope' does not exist/);
  const plots = await runCli(['export', '--model', path.join(run, 'plots'), '--out', path.join(work, 'x')]);
  t.is(plots.code, 2);
  t.regex(errorText(plots), /'.*plots' is not a run folder: it holds neither model.json nor model\/model.json/);
  const unfinished = path.join(work, 'unfinished');
  mkdirSync(unfinished);
  copyFileSync(path.join(run, 'config.json'), path.join(unfinished, 'config.json'));
  const noModel = await runCli(['export', '--model', unfinished, '--out', path.join(work, 'x')]);
  t.is(noModel.code, 2);
  t.regex(errorText(noModel), /run folder without a trained model \(no model\/model.json\)/);
});

test("an unsupported layer fails with the converter's message naming the layer, its class and index", async (t) => {
  const dir = path.join(work, 'depthwise');
  const input = tfl.input({ shape: [16, 16, 1] });
  const dw = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, name: 'dw', padding: 'same' })
    .apply(input) as tfl.SymbolicTensor;
  const out = tfl.layers
    .conv2d({ filters: 2, kernelSize: 1, activation: 'softmax', name: 'head' })
    .apply(dw) as tfl.SymbolicTensor;
  // A model folder needs its artifact (rwseg.json) to be exported at all; this one is complete, its layer is not.
  const artifact = buildModelArtifact({
    config: { preprocessing: { normalization: 'zscore', patch: [16, 16] } },
    dataDims: 2,
    inputChannels: 1,
    classNames: ['background', 'x'],
    unet: {},
    metrics: { epoch: null, selection: 'unknown', meanDice: null, classes: null },
  });
  await saveModelDir(
    tfl.model({ inputs: input, outputs: out }),
    path.join(dir, 'model'),
    {},
    { ...artifact, architecture: null },
  );
  const result = await runCli(['export', '--model', dir, '--out', path.join(work, 'dw-out'), '--json']);
  t.is(result.code, 2);
  const error = parseJson(result).error;
  t.is(error.details.converterCode, 'UNSUPPORTED_LAYER');
  t.regex(error.message, /cannot convert layer 'dw' \(class DepthwiseConv2D, index 1\)/);
});
