import test from 'ava';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { buildLoss, createRegistry, isRwsegError, loadPipeline } from '@rwseg/core';
import { REPO_ROOT } from './helpers/cli.js';

const dir = path.join(REPO_ROOT, 'pipelines');

test('every shipped pipeline validates and builds every loss it names with the built-in plugins', async (t) => {
  const registry = await createRegistry({ baseDir: REPO_ROOT });
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  t.true(files.includes('quickstart.yaml') && files.includes('paper-comparison.yaml'));
  for (const file of files) {
    const config = loadPipeline(path.join(dir, file));
    const losses = config.sweep ? config.sweep.losses.map((l) => l.loss) : [config.loss];
    for (const loss of losses) t.truthy(buildLoss(registry, loss).name, `${file}: ${JSON.stringify(loss)}`);
  }
});

test('--set overrides reach the validated config, and a wrong type names the path', (t) => {
  const config = loadPipeline(path.join(dir, 'quickstart.yaml'), ['training.epochs=3', 'preprocessing.patch=[32, 32]']);
  t.is(config.training.epochs, 3);
  t.deepEqual(config.preprocessing.patch, [32, 32]);
  // dataset.root does not belong to a synthetic dataset: strict schemas refuse unknown keys.
  t.regex(t.throws(() => loadPipeline(path.join(dir, 'quickstart.yaml'), ['dataset.root=x']))!.message, /quickstart\.yaml: dataset \(line 10\): Unrecognized key: "root"/);
  const error = t.throws(() => loadPipeline(path.join(dir, 'msd-hippocampus.yaml'), ['training.epochs=many']));
  t.true(isRwsegError(error, 'INVALID_CONFIG'));
  t.regex(error!.message, /msd-hippocampus\.yaml: training\.epochs \(line \d+\): .*number/);
});

test('a loss error inside a sweep names its sweep entry', (t) => {
  const error = t.throws(() => loadPipeline(path.join(dir, 'paper-comparison.yaml'), ['sweep.losses=[{name: x, loss: {combine: [dice], weights: [1, 2]}}]']));
  t.regex(error!.message, /sweep\.losses\[0\]\.loss\.weights/);
});
