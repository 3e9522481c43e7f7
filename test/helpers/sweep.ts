/** A tiny sweep on the synthetic set for the sweep tests: 2 losses (or dice alone) x 1 seed x 2 folds. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function tinySweepYaml(options: { epochs?: number; iterations?: number; diceOnly?: boolean } = {}): string {
  const losses = options.diceOnly
    ? '[{ name: dice, loss: dice }]'
    : '[{ name: dice, loss: dice }, { name: ce, loss: cross-entropy }]';
  return `name: tiny-sweep
seed: 3
backend: cpu
dataset: { kind: synthetic, shape: [24, 24], train: 4, validation: 2 }
preprocessing: { patch: [16, 16] }
model: { depth: 2, baseFilters: 2 }
loss: dice
training: { epochs: ${options.epochs ?? 2}, iterationsPerEpoch: ${options.iterations ?? 2}, batchSize: 2, workers: 0, progressIntervalSeconds: 1 }
evaluation: { every: 1, overlays: 0 }
sweep:
  losses: ${losses}
  folds: 2
`;
}

/** A temporary folder holding the tiny sweep as sweep.yaml. */
export function tinySweepFolder(options: Parameters<typeof tinySweepYaml>[0] = {}): { dir: string; yaml: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'rwseg-sweep-'));
  const yaml = path.join(dir, 'sweep.yaml');
  writeFileSync(yaml, tinySweepYaml(options));
  return { dir, yaml };
}

export const readJson = <T = any>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
