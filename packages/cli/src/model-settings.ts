/**
 * What predict and evaluate take from a trained model: its artifact (rwseg.json, read by @rwseg/core's one
 * reader), plus the label map in the direction a dataset reader needs it (stored value -> class).
 */
import { type Logger } from '@rwseg/core';
import { labelValuesOf, readModelArtifact, type ModelArtifact } from '@rwseg/core/artifact';

export interface ModelSettings {
  readonly artifact: ModelArtifact;
  /** The artifact's sliceAxis; a migrated rwseg 0.1 folder records it only in its training config. */
  readonly sliceAxis: number;
  /** The artifact's labelValues; likewise from the training config of a migrated folder. */
  readonly labelValues: readonly number[] | null;
  /** Stored label value -> class, as the run's dataset read its labels; undefined: labels are class indices. */
  readonly labelMap?: Readonly<Record<string, number>>;
}

type TrainingDataset = { labelMap?: Record<string, number>; labelValues?: number[] };

/** `classes`: what the loaded network outputs (a migrated rwseg 0.1 folder's artifact may not know it). */
export function modelSettings(modelDir: string, classes: number, logger?: Pick<Logger, 'warn'>): ModelSettings {
  const artifact = readModelArtifact(modelDir, logger ? { logger } : {});
  const config = artifact.training.config as {
    dataset?: TrainingDataset;
    preprocessing?: { sliceAxis?: number };
  } | null;
  // The full map when the config has it: labelValues keeps one stored value per class, a map may have several.
  const fromConfig =
    config?.dataset?.labelMap ??
    (config?.dataset?.labelValues
      ? Object.fromEntries(config.dataset.labelValues.map((v, k) => [String(v), k]))
      : undefined);
  const labelValues = artifact.labelValues ?? labelValuesOf(fromConfig, classes);
  const labelMap =
    fromConfig ?? (labelValues ? Object.fromEntries(labelValues.map((v, k) => [String(v), k])) : undefined);
  return {
    artifact,
    sliceAxis: artifact.sliceAxis ?? config?.preprocessing?.sliceAxis ?? 0,
    labelValues,
    ...(labelMap ? { labelMap } : {}),
  };
}
