/**
 * `@rwseg/core/artefact`: the model artefact (rwseg.json), the one description of a trained model that export,
 * predict, evaluate and serve read: its schema, the one reader and writer, the normalization it records, model
 * names the server accepts, and the run folder training leaves behind.
 */
export {
  MODEL_ARTEFACT_FILE,
  modelArtefactSchema,
  type ArtefactMetrics,
  type ArtefactNormalization,
  type ModelArtefact,
  type ModelArtefactInput,
} from '../artefact/schema.js';
export { parseModelArtefact, readModelArtefact, type ReadArtefactOptions } from '../artefact/read.js';
export { writeModelArtefact } from '../artefact/write.js';
export { artefactNormalization, buildModelArtefact, labelValuesOf } from '../artefact/build.js';
export { applyNormalization } from '../artefact/normalization.js';
export { assertSafeName, isSafeName } from '../artefact/model-name.js';
export {
  readRunFolder,
  readRunHistory,
  RUN_FILES,
  type RunFolder,
  type RunHistoryEntry,
  type RunSummary,
} from '../artefact/run-folder.js';
