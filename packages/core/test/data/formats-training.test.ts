/**
 * One tiny training run on a dataset as distributed: RGB TIFF images with 0/255 GIF masks whose names differ by
 * suffix (DRIVE's layout), through the pipeline and its worker-thread loader, no conversion step (seconds).
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset, parsePipeline, runPipelineConfig, useBackend } from '../../src/index.js';

const DRIVE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test/fixtures/formats/datasets/drive-like',
);

test.before(async () => {
  await useBackend('cpu');
});

test('a U-Net trains on TIFF images with GIF masks (3 input channels, masks 0/255 read as 0/1)', async (t) => {
  const config = parsePipeline({
    name: 'tiff-gif',
    seed: 2,
    backend: 'cpu',
    dataset: {
      kind: 'folder',
      path: DRIVE,
      imageSuffix: '_training',
      maskSuffix: '_manual1',
      numClasses: 2,
      validationFraction: 0.25,
    },
    preprocessing: { patch: [16, 16] },
    model: { depth: 2, baseFilters: 2, deepSupervision: 1 },
    loss: 'dice',
    training: { epochs: 1, iterationsPerEpoch: 2, batchSize: 2, workers: 1 },
    evaluation: { every: 1, overlays: 0 },
  });
  const data = await loadDataset(config);
  t.is(data.channels, 3);
  t.is(data.train.length + data.validation.length, 4);
  t.true(
    data.validation[0]!.labels.data.some((v) => v === 1),
    'the 255s of the GIF mask are class 1',
  );
  const out = mkdtempSync(path.join(tmpdir(), 'rwseg-tiff-gif-'));
  const result = await runPipelineConfig(config, { out });
  t.is(result.runs[0]!.result.epochsRun, 1);
  const history = readFileSync(path.join(out, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { loss: number });
  t.is(history.length, 1);
  t.true(Number.isFinite(history[0]!.loss));
  t.true(existsSync(path.join(out, 'config.json')));
});
