/**
 * The pipeline owns its steps: runPipelineConfig trains, writes model/rwseg.json with the metrics of the weights
 * model/ holds (the best epoch, 1-based), and runs the YAML's export step, whose rwseg.json is the same artifact
 * plus the export (sha256 of the ONNX file it describes).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import {
  isRwsegError,
  parsePipeline,
  readExportedModel,
  readModelArtifact,
  readRunFolder,
  runPipelineConfig,
  useBackend,
} from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const pipeline = parsePipeline({
  name: 'artifact',
  seed: 5,
  backend: 'cpu',
  dataset: { kind: 'synthetic', shape: [24, 24], train: 4, validation: 2 },
  preprocessing: { patch: [16, 16] },
  model: { depth: 3, baseFilters: 2, deepSupervision: 2 },
  loss: 'dice',
  training: { epochs: 3, iterationsPerEpoch: 2, batchSize: 2, workers: 0 },
  evaluation: { every: 1, overlays: 0 },
  export: { onnx: true },
});

test.serial("train -> artifact with the best epoch's metrics -> export, all from runPipelineConfig", async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'rwseg-artifact-pipe-'));
  const result = await runPipelineConfig(pipeline, { out });
  const run = result.runs[0]!;
  const folder = readRunFolder(out);
  const history = folder.history;
  t.deepEqual(
    history.map((e) => e.epoch),
    [1, 2, 3],
  );
  const bestDice = Math.max(...history.map((e) => e.validation!.meanDice));
  const bestEpoch = history.find((e) => e.validation!.meanDice === bestDice)!.epoch;

  // model/ holds the best epoch; the summary, the result and the artifact all report that model.
  t.is(run.result.bestEpoch, bestEpoch);
  t.is(run.result.modelEpoch, bestEpoch);
  t.is(folder.summary!.modelEpoch, bestEpoch);
  t.is(folder.summary!.bestEpoch, bestEpoch);
  t.is(folder.summary!.finalValidation!.meanDice, bestDice);
  const artifact = folder.artifact!;
  t.is(artifact.metrics.epoch, bestEpoch);
  t.is(artifact.metrics.selection, 'best-validation-dice');
  t.is(artifact.metrics.meanDice, bestDice);
  t.deepEqual(
    artifact.classes.map((c) => c.name),
    ['background', 'disc', 'rectangle'],
    "the data module's class names",
  );
  t.deepEqual(artifact.spacing, [1, 1], 'the synthetic set is on a 1 mm grid');
  t.deepEqual(artifact.sizeGrid, [4, 4]);
  t.is(artifact.sliceAxis, null);
  t.is(artifact.architecture!.heads, 2);
  t.is(artifact.training.loss, 'dice');

  // The export step ran in core: <run>/model.onnx + rwseg.json, the artifact plus its export section.
  t.truthy(run.export);
  const exported = readExportedModel(out);
  t.is(
    exported.artifact.export!.sha256,
    createHash('sha256')
      .update(readFileSync(path.join(out, 'model.onnx')))
      .digest('hex'),
  );
  t.is(exported.artifact.export!.droppedDeepSupervisionHeads, 1);
  const { export: _export, ...rest } = exported.artifact;
  t.deepEqual(rest, artifact);
  t.deepEqual(readModelArtifact(out), exported.artifact);

  // The folder now holds a run: running again without --resume or --force stops before any training.
  const again = await t.throwsAsync(runPipelineConfig(pipeline, { out }));
  t.true(isRwsegError(again, 'INVALID_OPTIONS'));
  t.regex(again!.message, /already holds a training run/);
});
