export {
  loadDataset,
  loadValidationCases,
  pipelineDatasetInfo,
  pipelinePreprocess,
  splitPipelineCases,
  type PipelineData,
} from './datasets.js';
export {
  compareLosses,
  comparisonCsv,
  comparisonMarkdown,
  writeComparison,
  type ComparedRun,
  type ComparisonRow,
  type LossComparison,
} from './comparison.js';
export { pairedTests, pairedTestsCsv, pairedTestsMarkdown } from './comparison.js';
export type { PairedComparison, PairedMetric, PairedTestRow, PairedTestsOptions } from './comparison.js';
export {
  runPipeline,
  runPipelineConfig,
  type PipelineResult,
  type PipelineRun,
  type RunPipelineOptions,
} from './run.js';
export { applyOverrides, loadPipeline, parsePipeline, pipelineSchema, type PipelineConfig } from './schema.js';
export { datasetSectionFor, defaultPatchFor, type DatasetSectionOptions } from './from-data.js';
export { describeTrainPreset, TRAIN_PRESET, trainPresetPipeline } from './presets.js';
export {
  planPipelineRuns,
  plannedRunConfig,
  pipelineOutDir,
  runPlannedTask,
  runProgress,
  type PlannedRun,
} from './run.js';
export {
  planSweep,
  readSweepPlan,
  sweepPlanTable,
  textTable,
  writeSweepPlan,
  SWEEP_PLAN_FILE,
  SWEEP_PLAN_SCHEMA,
  type PlanSweepOptions,
  type SweepPlan,
  type SweepTask,
} from './sweep-plan.js';
export {
  readTaskStatus,
  runIsFinished,
  runSweepTask,
  taskIndexFromEnvironment,
  TASK_STATUS_FILE,
  type SweepTaskResult,
  type TaskState,
  type TaskStatus,
} from './sweep-task.js';
export {
  collectionProgress,
  collectionTable,
  collectSweep,
  type CollectedState,
  type CollectedTask,
  type SweepCollection,
} from './sweep-collect.js';
export * from './sweep-engines.js';
export { listenForStopSignals, type StopSignals } from './stop-signals.js';
