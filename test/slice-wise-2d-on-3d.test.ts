import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readVolume } from '@rwseg/core/io';
import { computeSegmentationMetrics } from '@rwseg/core/metrics';
import { errorText, parseJson, runCli } from '@rwseg/test-helpers/cli';

// A 2D model trained on slices of 3D volumes (as the paper trained hippocampus) is validated, evaluated and
// applied by `predict` per 3D volume, slice by slice along the axis it was trained on, with the volume's spacing.
test('a 2D model on 3D NIfTI volumes: pipeline validation, evaluate and predict share the slice-wise path', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rwseg-slices-'));
  const synth = await runCli([
    'dataset',
    'synth',
    '--out',
    path.join(dir, 'msd'),
    '--dim',
    '3',
    '--size',
    '8x32x24',
    '--spacing',
    '3x1x1',
    '--cases',
    '4',
    '--seed',
    '3',
    '--json',
  ]);
  t.is(synth.code, 0, errorText(synth));
  const yaml = path.join(dir, 'slices.yaml');
  writeFileSync(
    yaml,
    JSON.stringify({
      name: 'slices',
      dataset: { kind: 'msd', root: path.join(dir, 'msd'), validationFraction: 0.25 },
      preprocessing: { patch: [32, 32], sliceAxis: 0 },
      model: { depth: 3, baseFilters: 4 },
      loss: 'dice',
      training: { epochs: 1, iterationsPerEpoch: 2, batchSize: 2, workers: 0 },
      evaluation: { overlays: 1 },
    }),
  );
  const run = await runCli(['pipeline', 'run', yaml, '--out', path.join(dir, 'run'), '--backend', 'wasm', '--json']);
  t.is(run.code, 0, errorText(run));
  const summary = JSON.parse(readFileSync(path.join(dir, 'run', 'summary.json'), 'utf8'));
  const validated = summary.finalValidation.cases[0];
  const model = path.join(dir, 'run', 'model');

  // evaluate with the pipeline: its validation case scores exactly what training's validation reported (the
  // validation also records the case's training loss, which evaluate, given no loss, does not).
  const byYaml = await runCli(['evaluate', '--model', model, '--data', yaml, '--backend', 'wasm', '--json']);
  t.is(byYaml.code, 0, errorText(byYaml));
  const { loss: validatedLoss, ...validatedMetrics } = validated;
  t.true(Number.isFinite(validatedLoss), `validation loss ${validatedLoss}`);
  t.deepEqual(parseJson(byYaml).cases, [validatedMetrics]);

  // predict on that volume: a 3D label map with the volume's shape, whose metrics (in mm) are the evaluation's.
  const image = readdirSync(path.join(dir, 'msd', 'imagesTr')).find((f) => f.startsWith(validated.id))!;
  const out = path.join(dir, 'labels.nii.gz');
  const predicted = await runCli([
    'predict',
    '--model',
    model,
    '--input',
    path.join(dir, 'msd', 'imagesTr', image),
    '--out',
    out,
    '--backend',
    'wasm',
    '--json',
  ]);
  t.is(predicted.code, 0, errorText(predicted));
  t.deepEqual(parseJson(predicted).shape, [8, 32, 24]);
  const labels = await readVolume(out);
  const reference = await readVolume(path.join(dir, 'msd', 'labelsTr', image));
  const metrics = computeSegmentationMetrics(labels.data, reference.data, [8, 32, 24], [3, 1, 1], { numClasses: 3 });
  t.deepEqual(JSON.parse(JSON.stringify(metrics)), validated.metrics); // as JSON: NaN (a class never predicted) is null
  t.true(
    metrics.some((m) => Number.isFinite(m.hd) && m.hd > 0),
    'a finite distance, in mm, is compared',
  );

  // The slice axis comes from the run's config.json; another axis is another prediction.
  const other = await runCli([
    'predict',
    '--model',
    model,
    '--input',
    path.join(dir, 'msd', 'imagesTr', image),
    '--out',
    path.join(dir, 'axis2.nii.gz'),
    '--slice-axis',
    '2',
    '--backend',
    'wasm',
    '--json',
  ]);
  t.is(other.code, 0, errorText(other));
  t.notDeepEqual((await readVolume(path.join(dir, 'axis2.nii.gz'))).data, labels.data);
});
