export {
  checkpointName,
  decodeCheckpoint,
  encodeCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContent,
  type CheckpointTensor,
} from './checkpoint.js';
export { loadModelDir, saveModelDir } from './model-files.js';
export { AdamW, clipByGlobalNorm, globalNorm, type AdamWOptions } from './optimizer.js';
export { learningRateAt, lrScheduleSchema, type LrSchedule } from './schedules.js';
export { plateauSchema, plateauState, type PlateauRule, type PlateauState } from './plateau.js';
export { stabilityFigure, type StabilityFigure } from './stability.js';
export {
  readHistory,
  STOPPED_CHECKPOINT,
  train,
  trainStep,
  type StepContext,
  type HistoryEntry,
  type TrainingEvent,
  type TrainingOptions,
  type TrainingResult,
} from './trainer.js';
export {
  diceOnlyMetrics,
  nanSummary,
  summarizeCases,
  validate,
  type CasePrediction,
  type ClassSummary,
  type MetricsFunction,
  type MetricSummary,
  type ValidationCase,
  type ValidationCaseResult,
  type ValidationResult,
} from './validation.js';
export {
  ValidationLoss,
  VALIDATION_LOSS_CACHE_BYTES,
  type CaseLossAccumulator,
  type ValidationLossCase,
  type ValidationLossOptions,
} from './validation-loss.js';
export {
  createCaseProgressWriter,
  createProgressWriter,
  DEFAULT_PROGRESS_INTERVAL_SECONDS,
  formatDuration,
  progressBar,
  type CaseProgressOptions,
  type ProgressOptions,
  type ProgressWriter,
} from './progress.js';
export { checkThreads, GradientWorkers, resolveThreads, type DataParallelOptions } from './data-parallel.js';
export { lossAndGradients, splitBatch, type GradientContext, type LossAndGradients } from './gradients.js';
export { checkCheckpointFitsModel } from './checkpoint-fit.js';
