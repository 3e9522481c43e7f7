import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadCase,
  loadDataset,
  parsePipeline,
  pipelineDatasetInfo,
  preprocessCase,
  runPipelineConfig,
  useBackend,
} from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const tinyPipeline = (overrides: Record<string, unknown> = {}) =>
  parsePipeline({
    name: 'tiny',
    seed: 3,
    backend: 'cpu',
    dataset: { kind: 'synthetic', shape: [24, 24], train: 4, validation: 2 },
    preprocessing: { patch: [16, 16] },
    model: { depth: 3, baseFilters: 2, deepSupervision: 2 },
    loss: { combine: ['rrw', 'dice'] },
    training: { epochs: 2, iterationsPerEpoch: 2, batchSize: 2, workers: 1 },
    evaluation: { every: 1, overlays: 0 },
    ...overrides,
  });

test('a pipeline reads the data module synthetic set: its split, its generator options, preprocessed validation cases', async (t) => {
  const config = tinyPipeline({
    dataset: { kind: 'synthetic', shape: [40, 36], train: 3, validation: 2, noise: 0.05, objects: 3 },
  });
  const info = pipelineDatasetInfo(config);
  t.is(info.kind, 'synthetic');
  t.deepEqual(info.synthetic!.size, [40, 36]);
  t.is(info.synthetic!.noise, 0.05);
  t.is(info.synthetic!.objects, 3);
  const data = await loadDataset(config);
  t.deepEqual(
    data.train.map((c) => c.id),
    ['synth_000', 'synth_001', 'synth_002'],
  );
  t.deepEqual(
    data.validation.map((c) => c.id),
    ['synth_003', 'synth_004'],
  );
  // The validation image is the generator's case after the loader's own preprocessing (z-score).
  const raw = preprocessCase(await loadCase(info, info.training[3]!), { normalization: 'zscore' });
  t.deepEqual(data.validation[0]!.image.data, raw.image.data);
  t.deepEqual(data.validation[0]!.labels.data, raw.label!.data);
  const mean = raw.image.data.reduce((a, b) => a + b, 0) / raw.image.data.length;
  t.true(Math.abs(mean) < 1e-4, `z-scored mean ${mean}`);
});

// Seeds drive the generator, the split, the weights, the worker loader's patches and augmentation.
test.serial(
  'a pipeline run is reproduced by its seed (worker loader, augmentation and all) and changes with it',
  async (t) => {
    const run = async (seed: number) => {
      const out = mkdtempSync(path.join(tmpdir(), 'rwseg-pipe-'));
      const result = await runPipelineConfig(tinyPipeline({ seed }), { out });
      return readFileSync(path.join(out, 'history.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const e = JSON.parse(l) as { loss: number; validation: { meanDice: number } };
          return [e.loss, e.validation.meanDice];
        })
        .concat([[result.runs[0]!.result.epochsRun]]);
    };
    const [a, b, c] = [await run(3), await run(3), await run(4)];
    t.deepEqual(a, b);
    t.notDeepEqual(a, c);
  },
);

test('the augmentation section is validated by name and reaches the config; false turns it off', (t) => {
  t.deepEqual(tinyPipeline().augmentation, {});
  t.is(tinyPipeline({ augmentation: false }).augmentation, false);
  t.is((tinyPipeline({ augmentation: { rotation: 0, mirror: 0.25 } }).augmentation as { mirror: number }).mirror, 0.25);
  t.regex(t.throws(() => tinyPipeline({ augmentation: { mirror: 2 } }))!.message, /augmentation\.mirror: /);
  t.regex(
    t.throws(() => tinyPipeline({ augmentation: { spin: 1 } }))!.message,
    /augmentation: Unrecognized key: "spin"/,
  );
});

test('pipeline errors name the YAML path; losses are validated with their own paths', (t) => {
  const base = {
    dataset: { kind: 'synthetic', shape: [32, 32] },
    preprocessing: { patch: [32, 32] },
    loss: 'rrw',
    training: { epochs: 1, iterationsPerEpoch: 1 },
  };
  t.is(parsePipeline(base).training.batchSize, 2);
  t.regex(t.throws(() => parsePipeline({ ...base, model: { depth: 'deep' } }))!.message, /pipeline: model\.depth: /);
  t.regex(
    t.throws(() => parsePipeline({ ...base, dataset: { kind: 'nifti-zoo' } }))!.message,
    /pipeline: dataset\.kind: /,
  );
  t.regex(t.throws(() => parsePipeline({ ...base, loss: { combine: 'rrw' } }))!.message, /loss\.combine/);
  t.regex(t.throws(() => parsePipeline({ ...base, loss: undefined }))!.message, /loss: required/);
});
