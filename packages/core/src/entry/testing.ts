/**
 * `@rwseg/core/testing`: helpers for a plugin's own tests, as TF.js ships test_util: analytic versus
 * finite-difference gradients of a loss, whether this machine can run the GPU paths, brute-force reference RW maps,
 * the spec's test vector, and the small tensor helpers a loss's tests share.
 */
export {
  finiteDifferenceLogitGradient,
  logitGradient,
  type LogitActivation,
  type LossInputWithoutProbs,
} from '../losses/finite-differences.js';
export { isCi, LAVAPIPE_ICD, vulkanSkipReason } from '../testing/hardware.js';
export { locateShared, type SharedPath } from '../testing/shared-data.js';
export { bruteForceEdt, referenceMapsPlugin } from '../testing/reference-maps.js';
export { SPEC_VECTOR, type SpecVector } from '../testing/spec-vector.js';
export {
  mapsFor,
  maxAbsDiff,
  oneHot,
  randomLabels,
  randomLossCase,
  referenceRegistry,
  scalar,
  seededRandom,
} from '../testing/loss-inputs.js';
