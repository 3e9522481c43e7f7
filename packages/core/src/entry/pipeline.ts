/**
 * `@rwseg/core/pipeline`: a pipeline YAML and its runs (train -> evaluate -> export), the `rwseg train` preset,
 * the dataset section made from a data folder, stop signals, and sweeps: the plan, one numbered task as Slurm,
 * Kubernetes or Ray runs it, and collecting the results.
 */
export {
  applyOverrides,
  loadPipeline,
  parsePipeline,
  pipelineSchema,
  type PipelineConfig,
} from '../pipeline/schema.js';
export {
  runPipeline,
  runPipelineConfig,
  type PipelineResult,
  type PipelineRun,
  type RunPipelineOptions,
} from '../pipeline/run.js';
export { loadDataset, loadValidationCases, pipelineDatasetInfo, type PipelineData } from '../pipeline/datasets.js';
export { datasetSectionFor, type DatasetSectionOptions } from '../pipeline/from-data.js';
export { describeTrainPreset, TRAIN_PRESET, trainPresetPipeline } from '../pipeline/presets.js';
export { listenForStopSignals, type StopSignals } from '../pipeline/stop-signals.js';
export {
  planSweep,
  readSweepPlan,
  sweepPlanTable,
  writeSweepPlan,
  SWEEP_PLAN_FILE,
  type PlanSweepOptions,
  type SweepPlan,
  type SweepTask,
} from '../pipeline/sweep-plan.js';
export {
  runSweepTask,
  taskIndexFromEnvironment,
  type SweepTaskResult,
  type TaskState,
  type TaskStatus,
} from '../pipeline/sweep-task.js';
export {
  collectionProgress,
  collectionTable,
  collectSweep,
  type CollectedState,
  type CollectedTask,
  type SweepCollection,
} from '../pipeline/sweep-collect.js';
// A sweep's tables: each loss's validation metrics, and each loss against the reference paired per case.
export {
  compareLosses,
  pairedTests,
  writeComparison,
  type ComparedRun,
  type ComparisonRow,
  type LossComparison,
  type PairedComparison,
  type PairedMetric,
  type PairedTestRow,
} from '../pipeline/comparison.js';
export {
  DEFAULT_RESOURCES,
  emitEngineFile,
  engineFileName,
  ENGINES,
  parseResources,
  type ClusterResources,
  type Engine,
} from '../pipeline/sweep-engines.js';
