/**
 * A raw image in, the user's label map out: normalization as trained (the artifact's applyNormalization),
 * probabilities (probabilities.ts), argmax, and class indices back to the stored label values. What `rwseg predict` and the server's /segment run.
 */
import { applyNormalization } from '../artifact/normalization.js';
import type { ArtifactNormalization } from '../artifact/schema.js';
import { RwsegError } from '../errors.js';
import { spatialShapeOf, type Volume } from '../volume.js';
import { argmaxLabels, toStoredValues, type LabelArray } from './labels.js';
import { predictProbabilities, type InferenceOptions } from './probabilities.js';
import type { WindowPredictor } from './window-predictor.js';

export interface SegmentImageOptions extends InferenceOptions {
  /** How the model's training normalized images, the artifact's `normalization` (required: the model decides). */
  readonly normalization: ArtifactNormalization;
  /** The stored label value of each class, the artifact's `labelValues`; default: the class index itself. */
  readonly labelValues?: readonly number[];
}

export interface Segmentation {
  /** [...spatial] in the user's label values. */
  readonly labels: LabelArray;
  /** [...spatial] class indices 0..K-1. */
  readonly classIndices: LabelArray;
  readonly shape: readonly number[];
  readonly classes: number;
  /** Voxels per class index. */
  readonly voxelsPerClass: readonly number[];
}

/** Segments a raw image (channels last when `volume.channels` is set). */
export async function segmentImage(
  predictor: WindowPredictor,
  volume: Volume,
  options: SegmentImageOptions,
): Promise<Segmentation> {
  const channels = volume.channels ?? 1;
  const shape = spatialShapeOf(volume);
  const data = applyNormalization(volume.data, channels, options.normalization);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${options.imageName ?? 'the image'} holds a non-finite value at voxel ${Math.floor(i / channels)}`,
        { voxel: Math.floor(i / channels) },
      );
    }
  }
  const { probabilities, classes } = await predictProbabilities(predictor, data, shape, channels, options);
  const classIndices = argmaxLabels(probabilities, classes);
  if (options.labelValues && options.labelValues.length !== classes) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `the label map gives ${options.labelValues.length} stored values but the model predicts ${classes} classes`,
      { labelValues: [...options.labelValues] },
    );
  }
  const labels = options.labelValues ? toStoredValues(classIndices, options.labelValues) : classIndices;
  const voxelsPerClass = new Array<number>(classes).fill(0);
  for (let i = 0; i < classIndices.length; i++) voxelsPerClass[classIndices[i]!]!++;
  return { labels, classIndices, shape, classes, voxelsPerClass };
}
