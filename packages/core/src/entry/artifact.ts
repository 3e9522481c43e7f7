/**
 * `@rwseg/core/artifact`: the model artifact (rwseg.json), the one description of a trained model that export,
 * predict, evaluate and serve read: its schema, the one reader and writer, the normalization it records, model
 * names the server accepts, an export folder read back, and the run folder training leaves behind.
 */
export {
  MODEL_ARTIFACT_FILE,
  modelArtifactSchema,
  type ArtifactMetrics,
  type ArtifactNormalization,
  type ModelArtifact,
  type ModelArtifactInput,
} from '../artifact/schema.js';
export { parseModelArtifact, readModelArtifact, type ReadArtifactOptions } from '../artifact/read.js';
export { writeModelArtifact } from '../artifact/write.js';
export { artifactNormalization, buildModelArtifact, labelValuesOf } from '../artifact/build.js';
export { applyNormalization } from '../artifact/normalization.js';
export { assertSafeName, isSafeName } from '../artifact/model-name.js';
// An export folder (model.onnx + rwseg.json) read back, as the server loads it; also in /export.
export { readExportedModel, type ExportedModel } from '../export/exported-model.js';
export {
  readRunFolder,
  readRunHistory,
  RUN_FILES,
  type RunFolder,
  type RunHistoryEntry,
  type RunSummary,
} from '../artifact/run-folder.js';
