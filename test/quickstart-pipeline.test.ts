import test from 'ava';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCase } from '@rwseg/core/data';
import { readVolume, writeVolume } from '@rwseg/core/io';
import { computeSegmentationMetrics } from '@rwseg/core/metrics';
import { loadPipeline, pipelineDatasetInfo } from '@rwseg/core/pipeline';
import { errorText, parseJson, REPO_ROOT, runCli } from '@rwseg/test-helpers/cli';

// A shortened quickstart (same data, model and loss; fewer steps) must reach a Dice far above chance: an empty
// or random prediction scores ~0-0.15 on these ellipses, a broken loss or model stays there.
test('the quickstart pipeline trains rrw + Dice to a foreground Dice clearly above chance', async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'rwseg-quickstart-'));
  const result = await runCli(
    [
      'pipeline',
      'run',
      'pipelines/quickstart.yaml',
      '--backend',
      'wasm',
      '--out',
      out,
      '--json',
      '--set',
      'training.epochs=6',
      '--set',
      'training.iterationsPerEpoch=15',
      '--set',
      'dataset.validation=4',
      '--set',
      'evaluation.every=3',
    ],
    { timeoutMs: 300_000 },
  );
  t.is(result.code, 0, errorText(result));
  const json = parseJson(result);
  const run = json.runs[0];
  t.is(run.epochsRun, 6);
  t.deepEqual(json.onnx, [path.join(out, 'model.onnx')]);
  for (const c of run.validation.classes) t.true(c.dice.mean > 0.6, `class ${c.classIndex} Dice ${c.dice.mean}`);
  t.regex(result.stderr, /epoch 6\/6 loss -?\d\.\d{4} lr .* it\/s val Dice 1:\d\.\d{3} 2:\d\.\d{3}/);
  for (const f of [
    'config.json',
    'history.jsonl',
    'summary.json',
    'model/model.json',
    'plots/loss.svg',
    'plots/validation-dice.svg',
    'plots/overlays/synth_048.png',
    'model.onnx',
  ])
    t.true(existsSync(path.join(out, f)), f);

  // The saved model evaluates to the best validation Dice the run reported.
  const evaluated = await runCli([
    'evaluate',
    '--model',
    path.join(out, 'model'),
    '--data',
    'pipelines/quickstart.yaml',
    '--set',
    'dataset.validation=4',
    '--backend',
    'wasm',
    '--json',
  ]);
  t.is(evaluated.code, 0, errorText(evaluated));
  t.true(Math.abs(parseJson(evaluated).meanDice - run.bestDice) < 1e-6);

  // rwseg predict on a validation image saved as NIfTI segments it as well as validation did.
  // The first validation case (after the 48 training cases) as the data module generates it, before normalization.
  const info = pipelineDatasetInfo(
    loadPipeline(path.join(REPO_ROOT, 'pipelines/quickstart.yaml'), ['dataset.validation=4']),
  );
  const valCase = await loadCase(info, info.training[48]!);
  t.is(valCase.id, 'synth_048');
  const input = path.join(out, 'val-000.nii.gz');
  await writeVolume(input, { data: valCase.image.data, shape: [96, 96], spacing: valCase.image.spacing });
  const predicted = await runCli([
    'predict',
    '--model',
    path.join(out, 'model'),
    '--input',
    input,
    '--out',
    path.join(out, 'val-000-labels.nii.gz'),
    '--backend',
    'wasm',
    '--json',
  ]);
  t.is(predicted.code, 0, errorText(predicted));
  const labels = await readVolume(path.join(out, 'val-000-labels.nii.gz'));
  t.deepEqual([...labels.shape], [96, 96]);
  for (const m of computeSegmentationMetrics(labels.data, valCase.label!.data, [96, 96], [1, 1], { numClasses: 3 }))
    t.true(m.dice > 0.6, `predict: class ${m.classIndex} Dice ${m.dice}`);
});
