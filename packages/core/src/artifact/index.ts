export {
  LEGACY_EXPORT_SCHEMA,
  MODEL_ARTIFACT_FILE,
  MODEL_ARTIFACT_SCHEMA,
  exportSectionSchema,
  modelArtifactSchema,
  normalizationSchema,
  type ArtifactExport,
  type ArtifactMetrics,
  type ArtifactNormalization,
  type ModelArtifact,
  type ModelArtifactInput,
} from './schema.js';
export { checkExportedFile, parseModelArtifact, readModelArtifact, type ReadArtifactOptions } from './read.js';
export { serializeModelArtifact, stageModelArtifact, writeModelArtifact } from './write.js';
export {
  artifactMetrics,
  artifactNormalization,
  buildModelArtifact,
  datasetFacts,
  labelValuesOf,
  type ArtifactFacts,
  type ArtifactRunConfig,
} from './build.js';
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
