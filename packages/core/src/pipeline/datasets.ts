/**
 * Turns a pipeline's dataset section into normalised training and validation cases held in memory.
 * Normalisation: 'zscore' per case (nnU-Net's default for non-CT images), 'minmax' to [0, 1], or none.
 */
import { RwsegError } from '../errors.js';
import { deriveSeed } from '../training/rng.js';
import type { Volume } from '../volume.js';
import type { PatchCase } from './patch-source.js';
import type { PipelineConfig } from './schema.js';
import { syntheticCases } from './synthetic.js';

export interface LoadedDataset {
  readonly train: PatchCase[];
  readonly validation: PatchCase[];
  readonly numClasses: number;
  readonly channels: number;
}

export function normalise(image: Volume<Float32Array>, mode: 'zscore' | 'minmax' | 'none'): Volume<Float32Array> {
  if (mode === 'none') return image;
  const data = image.data;
  let a = 0;
  let b = 0;
  if (mode === 'zscore') {
    const mean = data.reduce((s, v) => s + v, 0) / data.length;
    const sd = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
    [a, b] = [mean, sd > 0 ? sd : 1];
  } else {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    [a, b] = [lo, hi > lo ? hi - lo : 1];
  }
  return { ...image, data: data.map((v) => (v - a) / b) };
}

export function loadDataset(config: PipelineConfig): LoadedDataset {
  const dataset = config.dataset;
  const mode = config.preprocessing.normalization;
  if (dataset.kind === 'synthetic') {
    const seed = dataset.seed ?? deriveSeed(config.seed, 'synthetic');
    const make = (count: number, prefix: string, s: number) =>
      syntheticCases({ shape: dataset.shape, numClasses: dataset.numClasses, count, seed: s, noise: dataset.noise, prefix }).map((c) => ({ ...c, image: normalise(c.image, mode) }));
    return { train: make(dataset.train, 'train', seed), validation: make(dataset.validation, 'val', seed + 1), numClasses: dataset.numClasses, channels: 1 };
  }
  // Reading MSD folders and PNG/NIfTI folder pairs is the IO module's job (packages/core/src/io, in progress).
  throw new RwsegError('INVALID_CONFIG', `dataset.kind '${dataset.kind}' needs rwseg's NIfTI/PNG readers, which this build does not include yet; use dataset.kind 'synthetic'`, {
    kind: dataset.kind,
  });
}
