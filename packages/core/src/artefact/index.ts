export {
  LEGACY_EXPORT_SCHEMA,
  MODEL_ARTEFACT_FILE,
  MODEL_ARTEFACT_SCHEMA,
  exportSectionSchema,
  modelArtefactSchema,
  normalizationSchema,
  type ArtefactExport,
  type ArtefactMetrics,
  type ArtefactNormalization,
  type ModelArtefact,
  type ModelArtefactInput,
} from './schema.js';
export {
  checkExportedFile,
  fieldName,
  parseModelArtefact,
  parseWithSchema,
  readJsonFile,
  readModelArtefact,
  type ReadArtefactOptions,
} from './read.js';
export { serializeModelArtefact, stageModelArtefact, writeModelArtefact } from './write.js';
export {
  artefactMetrics,
  artefactNormalization,
  buildModelArtefact,
  datasetFacts,
  labelValuesOf,
  type ArtefactFacts,
  type ArtefactRunConfig,
} from './build.js';
export { sha256OfFile } from './migrate.js';
export { applyNormalization } from './normalization.js';
export { assertSafeName, isSafeName } from './model-name.js';
export {
  prepareRunFolder,
  readRunConfig,
  readRunFolder,
  readRunHistory,
  readRunSummary,
  resolveRunFolder,
  resumeDifferences,
  runFolderHoldsRun,
  runSummarySchema,
  RUN_FILES,
  RUN_SUMMARY_SCHEMA,
  type RunFolder,
  type RunFolderPolicy,
  type RunHistoryEntry,
  type RunSummary,
} from './run-folder.js';
