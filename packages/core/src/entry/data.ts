/**
 * `@rwseg/core/data`: datasets (MSD/nnU-Net `dataset.json`, image and label folder pairs, the synthetic generator),
 * checking and converting them, splits, the seeded random generator, preprocessing, augmentation, patch sampling
 * and the worker-thread loader that batches them with their maps (docs/data.md).
 */
export { openDataset, type OpenDatasetOptions } from '../data/open-dataset.js';
export { openMsdDataset } from '../data/msd.js';
export { openFolderDataset, type FolderDatasetOptions, type FolderPairing } from '../data/folder.js';
export {
  BINARY_MASK_MAPPING,
  isZero255Mask,
  loadCase,
  readCase,
  type Case,
  type CaseRead,
  type CaseRef,
  type DatasetInfo,
} from '../data/dataset.js';
export type { LabelMapping } from '../data/labels.js';
export { checkDataset, type DatasetProblem, type DatasetReport } from '../data/check.js';
export {
  convertToNnUNet,
  NNUNET_FILE_ENDINGS,
  type ConvertOptions,
  type ConvertResult,
  type NnUNetFileEnding,
} from '../data/convert.js';
export {
  generateSyntheticCase,
  resolveSyntheticOptions,
  syntheticDatasetInfo,
  writeSyntheticDataset,
  type SyntheticOptions,
} from '../data/synthetic.js';
export { kfoldParts, splitCases, type Split, type SplitSpec } from '../data/splits.js';
export { createRandom, deriveSeed, Random } from '../data/random.js';
export {
  normalizeChannels,
  preprocessCase,
  resampleCase,
  type Normalization,
  type PreprocessOptions,
} from '../data/preprocess.js';
export { augmentOptionsSchema, type AugmentOptions } from '../data/augment.js';
export { prepareCase, type PreparedCase, type Sample, type SampleOptions } from '../data/sampler.js';
export { createLoader, type DataLoader, type LoaderOptions } from '../data/loader.js';
export type { LoaderRegistryOptions } from '../data/batch-producer.js';
export type { Batch, BatchSource, ScaleTargets } from '../data/batch.js';
