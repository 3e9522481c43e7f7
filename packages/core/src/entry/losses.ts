/**
 * `@rwseg/core/losses`: a loss built from its configuration (one registry loss, or a weighted combination of them
 * with per-epoch schedules), the schedules themselves, and nnU-Net's deep supervision over decoder scales
 * (docs/losses.md). The losses are plugins: the registry (root) creates them by name.
 */
export { buildLoss, combineLosses, type CombinedLoss } from '../losses/combine.js';
export { parseLossConfig, type CombineWeights, type LossConfig } from '../losses/loss-config.js';
export { PAPER_GRADUAL, parseSchedule, scheduleAt, type ScheduleSpec } from '../losses/schedules.js';
export {
  batchLossInputs,
  deepSupervision,
  deepSupervisionWeights,
  type DeepSupervisedLoss,
  type DeepSupervisionOptions,
} from '../losses/deep-supervision.js';
