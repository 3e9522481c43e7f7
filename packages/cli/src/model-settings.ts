/**
 * What predict and evaluate take from a trained model: its artefact (rwseg.json, read by @rwseg/core's one
 * reader), plus the label map in the direction a dataset reader needs it (stored value -> class).
 */
import { type Logger } from '@rwseg/core';
import { labelValuesOf, readModelArtefact, type ModelArtefact } from '@rwseg/core/artefact';

export interface ModelSettings {
  readonly artefact: ModelArtefact;
  /** The artefact's sliceAxis; a migrated rwseg 0.1 folder records it only in its training config. */
  readonly sliceAxis: number;
  /** The artefact's labelValues; likewise from the training config of a migrated folder. */
  readonly labelValues: readonly number[] | null;
  /** Stored label value -> class, as the run's dataset read its labels; undefined: labels are class indices. */
  readonly labelMap?: Readonly<Record<string, number>>;
}

type TrainingDataset = { labelMap?: Record<string, number>; labelValues?: number[] };

/** `classes`: what the loaded network outputs (a migrated rwseg 0.1 folder's artefact may not know it). */
export function modelSettings(modelDir: string, classes: number, logger?: Pick<Logger, 'warn'>): ModelSettings {
  const artefact = readModelArtefact(modelDir, logger ? { logger } : {});
  const config = artefact.training.config as {
    dataset?: TrainingDataset;
    preprocessing?: { sliceAxis?: number };
  } | null;
  // The full map when the config has it: labelValues keeps one stored value per class, a map may have several.
  const fromConfig =
    config?.dataset?.labelMap ??
    (config?.dataset?.labelValues
      ? Object.fromEntries(config.dataset.labelValues.map((v, k) => [String(v), k]))
      : undefined);
  const labelValues = artefact.labelValues ?? labelValuesOf(fromConfig, classes);
  const labelMap =
    fromConfig ?? (labelValues ? Object.fromEntries(labelValues.map((v, k) => [String(v), k])) : undefined);
  return {
    artefact,
    sliceAxis: artefact.sliceAxis ?? config?.preprocessing?.sliceAxis ?? 0,
    labelValues,
    ...(labelMap ? { labelMap } : {}),
  };
}
