/**
 * `@rwseg/core/testing`: helpers for a plugin's own tests, as TF.js ships test_util: analytic versus
 * finite-difference gradients of a loss, and whether this machine can run the GPU paths.
 */
export {
  finiteDifferenceLogitGradient,
  logitGradient,
  type LogitActivation,
  type LossInputWithoutProbs,
} from '../losses/finite-differences.js';
export { isCi, LAVAPIPE_ICD, vulkanSkipReason } from '../testing/hardware.js';
export { locateShared, type SharedPath } from '../testing/shared-data.js';
