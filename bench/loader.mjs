// Data-loader throughput: augmented patches per second with rrw maps computed per patch and per deep-supervision
// scale, for a 2D (256 x 256) and a 3D (64^3) configuration, with 1 and 2 worker threads. Anchors measured in the
// same run: the same stream made serially in the main thread (workers 0: what computing maps inside the training
// step costs, as the authors' code did), and one TF.js training step of the benchmark U-Net on the 2D batch
// (bench/train-step-tfjs.mjs), which the loader has to keep up with.
//
// Usage (after `npx tsc -b`): node bench/loader.mjs [--batches 8] [--workers 1,2] [--scales 3] [--map rrw]
//        [--no-step] [--json]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { createLoader, createRegistry, syntheticDatasetInfo } from '../packages/core/dist/src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    batches: { type: 'string', default: '8' },
    workers: { type: 'string', default: '1,2' },
    scales: { type: 'string', default: '3' },
    map: { type: 'string', default: 'rrw' },
    'no-step': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const log = (text) => {
  if (!opt.json) process.stderr.write(`${text}\n`);
};

const registry = await createRegistry({ baseDir: path.resolve(here, '..') });
const maps = opt.map ? [registry.requestMap(opt.map)] : [];
const configs = [
  {
    name: '2D 256x256',
    dataset: syntheticDatasetInfo({ dim: 2, size: [320, 320], cases: 8, seed: 1 }),
    patchShape: [256, 256],
    batchSize: 4,
  },
  {
    name: '3D 64^3',
    dataset: syntheticDatasetInfo({ dim: 3, size: [80, 80, 80], cases: 4, seed: 1 }),
    patchShape: [64, 64, 64],
    batchSize: 2,
  },
];

async function measure(config, workers) {
  const loader = await createLoader({
    dataset: config.dataset,
    patchShape: config.patchShape,
    batchSize: config.batchSize,
    seed: 1,
    workers,
    maps,
    scales: Number(opt.scales),
    registry: { baseDir: path.resolve(here, '..') },
  });
  // The first batches generate and cache the cases in each worker; time the steady state after them.
  for (let i = 0; i < Math.max(1, workers); i++) await loader.next();
  const start = performance.now();
  const n = Number(opt.batches);
  for (let i = 0; i < n; i++) await loader.next();
  const seconds = (performance.now() - start) / 1000;
  await loader.close();
  return { patchesPerSecond: (n * config.batchSize) / seconds, msPerBatch: (1000 * seconds) / n };
}

const rows = [];
for (const config of configs) {
  for (const workers of [0, ...opt.workers.split(',').map(Number)]) {
    const r = await measure(config, workers);
    rows.push({ config: config.name, batch: config.batchSize, workers, ...r });
    log(
      `${config.name} batch ${config.batchSize}, ${workers === 0 ? 'main thread (anchor)' : `${workers} worker(s)`}: ${r.patchesPerSecond.toFixed(1)} patches/s, ${r.msPerBatch.toFixed(0)} ms/batch`,
    );
  }
}

let step;
if (!opt['no-step']) {
  const result = spawnSync(
    process.execPath,
    [
      path.join(here, 'train-step-tfjs.mjs'),
      '--backend',
      'wasm',
      '--batch',
      '4',
      '--size',
      '256',
      '--steps',
      '2',
      '--warmup',
      '1',
    ],
    { encoding: 'utf8' },
  );
  step =
    result.status === 0
      ? JSON.parse(result.stdout.trim().split('\n').pop())
      : { error: result.stderr.trim().split('\n').slice(-2).join(' ') };
  log(`training step anchor (wasm, U-Net 4 x 256 x 256): ${step.error ?? `${Math.round(step.msPerStep)} ms/step`}`);
}

const summary = { cpus: availableParallelism(), map: opt.map, scales: Number(opt.scales), rows, trainStep: step };
if (opt.json) console.log(JSON.stringify(summary));
else {
  console.log(`| configuration | batch | workers | patches/s | ms/batch |`);
  console.log(`|---|---|---|---|---|`);
  for (const r of rows)
    console.log(
      `| ${r.config} | ${r.batch} | ${r.workers === 0 ? '0 (main thread, anchor)' : r.workers} | ${r.patchesPerSecond.toFixed(1)} | ${r.msPerBatch.toFixed(0)} |`,
    );
  if (step && !step.error) console.log(`\nTraining step (wasm, 4 x 256 x 256 U-Net): ${Math.round(step.msPerStep)} ms`);
}
