/**
 * Turns a pipeline's dataset section into the data module's description of it (../data: the synthetic generator,
 * the MSD/nnU-Net layout, 2D folder pairs), a seeded train/validation split, and the validation cases loaded and
 * preprocessed in memory for sliding-window validation. Training cases stay references: the worker-thread loader
 * (data/loader.ts) reads, preprocesses, samples and augments them.
 */
import path from 'node:path';
import { loadCase, type CaseRef, type DatasetInfo } from '../data/dataset.js';
import { openFolderDataset } from '../data/folder.js';
import { openMsdDataset } from '../data/msd.js';
import { preprocessCase, type PreprocessOptions } from '../data/preprocess.js';
import { deriveSeed } from '../data/random.js';
import { splitCases } from '../data/splits.js';
import { syntheticDatasetInfo } from '../data/synthetic.js';
import { RwsegError } from '../errors.js';
import type { ValidationCase } from '../training/validation.js';
import type { PipelineConfig } from './schema.js';

export interface PipelineData {
  readonly info: DatasetInfo;
  readonly train: readonly CaseRef[];
  readonly validation: readonly ValidationCase[];
  readonly numClasses: number;
  readonly channels: number;
  readonly preprocess: PreprocessOptions;
}

/** The data module's description of a pipeline's dataset section (paths resolved against the working directory). */
export function pipelineDatasetInfo(config: PipelineConfig): DatasetInfo {
  const dataset = config.dataset;
  if (dataset.kind === 'synthetic') {
    return syntheticDatasetInfo({
      size: dataset.shape,
      cases: dataset.train + dataset.validation,
      numClasses: dataset.numClasses,
      seed: dataset.seed ?? deriveSeed(config.seed, 'synthetic'),
      ...(dataset.noise !== undefined ? { noise: dataset.noise } : {}),
      ...(dataset.objects !== undefined ? { objects: dataset.objects } : {}),
      ...(dataset.objectScale !== undefined ? { objectScale: dataset.objectScale } : {}),
      ...(dataset.classWeights !== undefined ? { classWeights: dataset.classWeights } : {}),
    });
  }
  if (dataset.kind === 'msd') return openMsdDataset(path.resolve(dataset.root));
  // Without `path`, images/ and labels/ may each be absolute or relative to the working directory.
  const root = dataset.path ? path.resolve(dataset.path) : '';
  return openFolderDataset(root, {
    images: dataset.path ? (dataset.images ?? 'images') : path.resolve(dataset.images!),
    labels: dataset.path ? (dataset.labels ?? 'labels') : path.resolve(dataset.labels!),
    numClasses: dataset.numClasses,
    labelMapping: dataset.labelMap ?? dataset.labelValues,
    ...(dataset.imageSuffix ? { imageSuffix: dataset.imageSuffix } : {}),
    ...(dataset.maskSuffix ? { maskSuffix: dataset.maskSuffix } : {}),
    ...(dataset.imageGlob ? { imageGlob: dataset.imageGlob } : {}),
  });
}

/**
 * Train/validation split: with `split` (kfold), its fold of all the labeled cases (data/splits.ts); else the
 * synthetic set's first `train` cases train and the rest validate, and the others split by seeded fraction.
 */
export function splitPipelineCases(
  config: PipelineConfig,
  info: DatasetInfo,
): { train: CaseRef[]; validation: CaseRef[] } {
  const dataset = config.dataset;
  if (config.split) {
    const pool = dataset.kind !== 'synthetic' && dataset.limit ? info.training.slice(0, dataset.limit) : info.training;
    const { folds, fold, seed, test } = config.split;
    const split = splitCases(pool, { method: 'kfold', folds, fold, seed, ...(test ? { test } : {}) });
    return { train: split.train, validation: split.validation };
  }
  if (dataset.kind === 'synthetic')
    return { train: info.training.slice(0, dataset.train), validation: info.training.slice(dataset.train) };
  const refs = dataset.limit ? info.training.slice(0, dataset.limit) : info.training;
  if (refs.length < 2)
    throw new RwsegError(
      'INVALID_INPUT',
      `dataset ${info.name} has ${refs.length} labeled case(s); training and validation need at least 2`,
      {},
    );
  const split = splitCases(refs, {
    method: 'fraction',
    validation: dataset.validationFraction,
    seed: deriveSeed(config.seed, 'split'),
  });
  return { train: split.train, validation: split.validation };
}

export function pipelinePreprocess(config: PipelineConfig): PreprocessOptions {
  return { normalization: config.preprocessing.normalization };
}

/** Loads and preprocesses cases the way the loader's workers do, for whole-image validation. */
export async function loadValidationCases(
  info: DatasetInfo,
  refs: readonly CaseRef[],
  preprocess: PreprocessOptions,
): Promise<ValidationCase[]> {
  return Promise.all(
    refs.map(async (ref) => {
      const c = preprocessCase(await loadCase(info, ref), preprocess);
      if (!c.label) throw new RwsegError('INVALID_INPUT', `case ${c.id} (${c.source}) has no label`, { case: c.id });
      return { id: c.id, image: c.image, labels: c.label };
    }),
  );
}

export async function loadDataset(config: PipelineConfig): Promise<PipelineData> {
  const info = pipelineDatasetInfo(config);
  const split = splitPipelineCases(config, info);
  const preprocess = pipelinePreprocess(config);
  const validation = await loadValidationCases(info, split.validation, preprocess);
  // A folder dataset declares no channels (its images say: RGB -> 3), so with no validation case the first
  // training case is read for them.
  const first = validation[0] ?? (split.train[0] ? await loadCase(info, split.train[0]) : undefined);
  const channels = first?.image.channels ?? info.channelNames.length;
  return { info, train: split.train, validation, numClasses: info.numClasses, channels, preprocess };
}
