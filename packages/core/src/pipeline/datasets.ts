/**
 * Turns a pipeline's dataset section into normalised training and validation cases held in memory:
 * 'synthetic' from ./synthetic.ts, 'msd' and 'folder' through the data module (../data: MSD/nnU-Net layout,
 * 2D folder pairs, NIfTI/PNG readers), split by a seeded validation fraction. Normalisation is the data module's
 * (zscore per case and channel, percentile clipping + zscore, or none).
 */
import path from 'node:path';
import { loadCase, type Case } from '../data/dataset.js';
import { openFolderDataset } from '../data/folder.js';
import { openMsdDataset } from '../data/msd.js';
import { normalizeChannels } from '../data/preprocess.js';
import { splitCases } from '../data/splits.js';
import { RwsegError } from '../errors.js';
import { deriveSeed } from '../training/rng.js';
import type { PatchCase } from './patch-source.js';
import type { PipelineConfig } from './schema.js';
import { syntheticCases } from './synthetic.js';

export interface LoadedDataset {
  readonly train: PatchCase[];
  readonly validation: PatchCase[];
  readonly numClasses: number;
  readonly channels: number;
}

export async function loadDataset(config: PipelineConfig): Promise<LoadedDataset> {
  const dataset = config.dataset;
  const normalization = config.preprocessing.normalization;
  if (dataset.kind === 'synthetic') {
    const seed = dataset.seed ?? deriveSeed(config.seed, 'synthetic');
    const make = (count: number, prefix: string, s: number) =>
      syntheticCases({ shape: dataset.shape, numClasses: dataset.numClasses, count, seed: s, noise: dataset.noise, prefix }).map((c) => {
        const data = Float32Array.from(c.image.data);
        normalizeChannels(data, 1, { normalization });
        return { ...c, image: { ...c.image, data } };
      });
    return { train: make(dataset.train, 'train', seed), validation: make(dataset.validation, 'val', seed + 1), numClasses: dataset.numClasses, channels: 1 };
  }
  const info =
    dataset.kind === 'msd'
      ? openMsdDataset(path.resolve(dataset.root))
      : // Folder paths may be absolute or relative to the working directory: resolve them and give no root.
        openFolderDataset('', { images: path.resolve(dataset.images), labels: path.resolve(dataset.labels), numClasses: dataset.numClasses, labelMapping: dataset.labelValues });
  const refs = dataset.limit ? info.training.slice(0, dataset.limit) : info.training;
  if (refs.length < 2) throw new RwsegError('INVALID_INPUT', `dataset ${info.name} has ${refs.length} labelled case(s); training and validation need at least 2`, {});
  const split = splitCases(refs, { method: 'fraction', validation: dataset.validationFraction, seed: deriveSeed(config.seed, 'split') });
  const load = async (ref: (typeof refs)[number]): Promise<PatchCase> => {
    const c: Case = await loadCase(info, ref);
    if (!c.label) throw new RwsegError('INVALID_INPUT', `case ${c.id} (${c.source}) has no label`, { case: c.id });
    const data = Float32Array.from(c.image.data);
    normalizeChannels(data, c.image.channels, { normalization });
    return { id: c.id, image: { ...c.image, data }, labels: c.label };
  };
  const train = await Promise.all(split.train.map(load));
  const validation = await Promise.all(split.validation.map(load));
  return { train, validation, numClasses: info.numClasses, channels: train[0]!.image.channels ?? 1 };
}
