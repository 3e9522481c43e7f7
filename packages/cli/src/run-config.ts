import { readModelArtefact, type Normalization } from '@rwseg/core';

/** What a trained model's artefact (model/rwseg.json, read by @rwseg/core's one reader) says about its preprocessing. */
export interface RunPreprocessing {
  readonly normalization?: Normalization;
  /** The axis a 2D model's training slices were taken along, when it was trained on 3D cases. */
  readonly sliceAxis?: number;
}

/** Kept for predict/evaluate until they read the artefact themselves; errors name the file and field. */
export function runPreprocessing(modelDir: string): RunPreprocessing {
  const artefact = readModelArtefact(modelDir);
  const method = artefact.normalization.method;
  return {
    normalization: method === 'percentile' || method === 'zscore' ? method : 'none',
    ...(artefact.sliceAxis !== null ? { sliceAxis: artefact.sliceAxis } : {}),
  };
}
