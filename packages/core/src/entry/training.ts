/**
 * `@rwseg/core/training`: the U-Net and how it is trained: the trainer (one step or a whole run, resumable), AdamW,
 * learning-rate schedules, checkpoints, the saved model folder, validation through the inference engine, the
 * data-parallel gradient workers, and the progress lines the CLI prints.
 */
export { buildUNet, parameterCount } from '../models/unet.js';
export {
  nearestValidPatch,
  patchGrid,
  unetConfigSchema,
  type UNetConfig,
  type UNetConfigInput,
} from '../models/unet-config.js';
export {
  readHistory,
  STOPPED_CHECKPOINT,
  train,
  trainStep,
  type HistoryEntry,
  type StepContext,
  type TrainingEvent,
  type TrainingOptions,
  type TrainingResult,
} from '../training/trainer.js';
export { AdamW, clipByGlobalNorm, type AdamWOptions } from '../training/optimizer.js';
export { learningRateAt, type LrSchedule } from '../training/schedules.js';
export {
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContent,
} from '../training/checkpoint.js';
export { loadModelDir, saveModelDir } from '../training/model-files.js';
export {
  validate,
  type ValidationCase,
  type ValidationCaseResult,
  type ValidationResult,
} from '../training/validation.js';
export {
  ValidationLoss,
  VALIDATION_LOSS_CACHE_BYTES,
  type CaseLossAccumulator,
  type ValidationLossCase,
  type ValidationLossOptions,
} from '../training/validation-loss.js';
export type { StabilityFigure } from '../training/stability.js';
export { GradientWorkers, type DataParallelOptions } from '../training/data-parallel.js';
export { lossAndGradients, type LossAndGradients } from '../training/gradients.js';
export {
  createCaseProgressWriter,
  createProgressWriter,
  type CaseProgressOptions,
  type ProgressOptions,
  type ProgressWriter,
} from '../training/progress.js';
