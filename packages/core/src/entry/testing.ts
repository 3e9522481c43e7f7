/**
 * `@rwseg/core/testing`: helpers for a plugin's own tests, as TF.js ships test_util: analytic versus
 * finite-difference gradients of a loss, whether this machine can run the GPU paths, where the shared data is,
 * brute-force reference RW maps, the spec's test vector, the small tensor helpers a loss's tests share, and the
 * points a test may stop an export at.
 */
export {
  finiteDifferenceLogitGradient,
  logitGradient,
  type LogitActivation,
  type LossInputWithoutProbs,
} from '../losses/finite-differences.js';
export { isCi, LAVAPIPE_ICD, vulkanSkipReason } from '../testing/hardware.js';
export { locateShared, type SharedPath } from '../testing/shared-data.js';
// The commit steps an export pauses at under RWSEG_TEST_EXPORT_PAUSE (test/export-kill.test.ts kills it there).
export { COMMIT_STEPS } from '../export/export-folder.js';
export { bruteForceEdt, referenceMapsPlugin } from '../testing/reference-maps.js';
export { SPEC_VECTOR, type SpecVector } from '../testing/spec-vector.js';
export {
  classCounts,
  computeLoss,
  mapsFor,
  maxAbsDiff,
  oneHot,
  randomLabels,
  randomLossCase,
  referenceRegistry,
  scalar,
  seededRandom,
  specTarget,
} from '../testing/loss-inputs.js';
