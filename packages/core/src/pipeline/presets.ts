/**
 * The preset `rwseg train --data PATH` trains with when no pipeline file is given: the same pipeline a YAML file
 * would hold (rrw + Dice, a depth-4 U-Net, z-score per image, 50 epochs of 50 iterations), so the CLI holds no
 * defaults of its own and `rwseg train --help` prints these values.
 */
import path from 'node:path';
import { datasetSectionFor, defaultPatchFor } from './from-data.js';

export const TRAIN_PRESET = {
  normalization: 'zscore',
  model: { depth: 4, baseFilters: 16 },
  /** The synthetic set is small and easy: a narrower U-Net trains it in seconds. */
  syntheticBaseFilters: 8,
  loss: { combine: ['rrw', 'dice'], weights: 'equal' },
  training: { epochs: 50, iterationsPerEpoch: 50, batchSize: 4 },
  evaluation: { every: 1 },
} as const;

/** One line for `--help`: what the preset trains. */
export function describeTrainPreset(): string {
  const p = TRAIN_PRESET;
  return [
    `${p.training.epochs} epochs x ${p.training.iterationsPerEpoch} iterations, batch ${p.training.batchSize}`,
    'loss rrw + dice (equal weights)',
    `U-Net depth ${p.model.depth} with ${p.model.baseFilters} base filters (${p.syntheticBaseFilters} on --synthetic)`,
    `${p.normalization} per image, validation every epoch`,
  ].join(', ');
}

/**
 * The raw pipeline (validated by parsePipeline after the caller's --set overrides) for a dataset path or
 * 'synthetic', with the preset's values; `patch` omitted: the images' size rounded to the U-Net grid.
 */
export async function trainPresetPipeline(
  source: string,
  options: { labelMap?: Record<string, number>; numClasses?: number; patch?: boolean } = {},
): Promise<Record<string, unknown>> {
  const dataset = datasetSectionFor(source, options);
  const p = TRAIN_PRESET;
  return {
    name: source === 'synthetic' ? 'synthetic' : path.basename(path.resolve(source)).replace(/[^A-Za-z0-9._-]+/g, '-'),
    dataset,
    preprocessing: {
      normalization: p.normalization,
      patch: options.patch ? undefined : await defaultPatchFor(dataset, p.model.depth),
    },
    model: { depth: p.model.depth, baseFilters: source === 'synthetic' ? p.syntheticBaseFilters : p.model.baseFilters },
    loss: structuredClone(p.loss) as unknown,
    training: { ...p.training },
    evaluation: { ...p.evaluation },
  };
}
