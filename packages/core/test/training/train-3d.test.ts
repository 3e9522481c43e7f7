// The CI check that 3D trains end to end on the wasm engine, in seconds: a tiny 3D U-Net (16^3 patches, depth 2,
// 4 base filters, instance norm) on the synthetic 3D generator's volumes, through the real loader with RRW maps.
import test from 'ava';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildLoss,
  buildUNet,
  createLoader,
  createRegistry,
  parsePipeline,
  readHistory,
  runPipelineConfig,
} from '../../src/index.js';
import { syntheticDatasetInfo, train, useBackend, type TrainingEvent } from '../../src/index.js';

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'rwseg-3d-'));
const PATCH = [16, 16, 16];
const TINY_3D = { dims: 3 as const, depth: 2, baseFilters: 4, numClasses: 3, normalization: 'instance' as const };

test.before(async () => {
  await useBackend('wasm');
});

test.serial('a tiny 3D U-Net trained with RRW + Dice on a synthetic 3D batch lowers its loss', async (t) => {
  const registry = await createRegistry({ packageJson: false });
  const loss = buildLoss(registry, { combine: ['rrw', 'dice'], weights: 'equal' });
  const info = syntheticDatasetInfo({ dim: 3, size: [20, 20, 20], cases: 4, numClasses: 3, seed: 3 });
  const loader = await createLoader({
    dataset: info,
    patchShape: PATCH,
    batchSize: 2,
    seed: 1,
    workers: 0,
    augment: false,
    foregroundFraction: 1,
    maps: loss.requiredMaps,
  });
  const batch = await loader.next();
  await loader.close();
  t.deepEqual(batch.scales[0]!.shape, PATCH);
  t.is(batch.scales[0]!.labels.length, 2 * 16 ** 3);
  const classes = new Set(batch.scales[0]!.labels);
  t.true(classes.has(1) || classes.has(2), 'the batch holds foreground');

  const model = buildUNet({ ...TINY_3D, seed: 1 }, PATCH);
  t.deepEqual(model.outputs[0]!.shape, [null, ...PATCH, 3]);
  const losses: number[] = [];
  await train({
    model,
    loss,
    openData: () => ({ next: async () => batch, close: async () => {} }),
    epochs: 1,
    iterationsPerEpoch: 10,
    learningRate: 0.03,
    schedule: { name: 'constant' },
    seed: 1,
    outDir: tempDir(),
    onEvent: (e) => e.type === 'iteration' && losses.push(e.loss),
  });
  t.is(losses.length, 10);
  t.true(losses.every(Number.isFinite), losses.join(', '));
  // Measured: 1.05 -> 0.71, falling at every step.
  t.true(losses.at(-1)! < 0.8 * losses[0]!, `loss went ${losses.map((l) => l.toFixed(4)).join(' -> ')}`);
  model.dispose();
});

test.serial('a 3D pipeline on synthetic volumes trains, validates whole volumes, writes its history', async (t) => {
  const config = parsePipeline({
    name: 'tiny-3d',
    seed: 2,
    backend: 'wasm',
    dataset: { kind: 'synthetic', shape: [20, 24, 20], train: 4, validation: 2 },
    preprocessing: { patch: PATCH },
    model: { depth: 2, baseFilters: 4, normalization: 'instance' },
    loss: { combine: ['rrw', 'dice'], weights: 'equal' },
    training: { epochs: 1, iterationsPerEpoch: 2, batchSize: 2, workers: 0 },
    evaluation: { every: 1, overlays: 1 },
  });
  const out = tempDir();
  const validated: string[] = [];
  const onEvent = (_run: string, e: TrainingEvent) => {
    if (e.type === 'validation') validated.push(`${e.case + 1}/${e.cases}`);
  };
  const result = await runPipelineConfig(config, { out, onEvent });
  t.deepEqual(validated, ['1/2', '2/2']);
  const history = readHistory(path.join(out, 'history.jsonl'));
  t.is(history.length, 1);
  t.true(Number.isFinite(history[0]!.loss));
  const classes = result.runs[0]!.result.finalValidation!.classes;
  t.deepEqual(
    classes.map((c) => c.classIndex),
    [1, 2],
  );
  // One epoch of two steps segments little; what matters is that whole-volume metrics came out, per class.
  for (const c of classes) {
    const dice = c.dice.mean;
    t.true(Number.isNaN(dice) || (dice >= 0 && dice <= 1), `class ${c.classIndex} Dice ${dice}`);
  }
  t.true(existsSync(path.join(out, 'plots', 'overlays', 'synth_004.png')), 'an overlay of the first validation volume');
});
