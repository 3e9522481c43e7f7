/**
 * `@rwseg/core/plugin`: what a plugin author needs to write a loss or a map generator, and nothing else. A plugin
 * is a plain object (definePlugin) whose losses and maps declare a name, a zod option schema and a factory.
 */
export { z } from 'zod';
export { tf, type Tensor, type Scalar } from '../tf.js';
export { RwsegError, isRwsegError, type RwsegErrorCode } from '../errors.js';
export {
  PLUGIN_API_VERSION,
  defineLoss,
  defineMap,
  definePlugin,
  type LabelMapInput,
  type Loss,
  type LossContext,
  type LossDefinition,
  type LossFactoryTools,
  type LossInput,
  type MapGeneratorDefinition,
  type MapRequest,
  type OptionSchema,
  type RwsegPlugin,
} from '../plugins/api.js';
// The option vocabulary every loss shares (MONAI's): includeBackground, weight, reduction, sigmoid, validateInputs.
export {
  checkPerClass,
  classCount,
  classWeightOption,
  describeOwner,
  includeBackgroundOption,
  lossVocabulary,
  reduceClassTerms,
  reductionOption,
  selectedClasses,
  sigmoidOption,
  spatialMean,
  spatialSum,
  validateInputsOption,
  type ClassReductionOptions,
  type LossOwner,
  type Reduction,
} from '../losses/vocabulary.js';
export {
  checkProbsAndTarget,
  requiredMap,
  targetLayoutOf,
  type InputCheckOptions,
  type TargetLayout,
} from '../losses/input-checks.js';
export { mapWeightedLoss, mapWeightedTerms, requestMapOption } from '../losses/map-terms.js';
export { checkGrid, checkLabelMap } from '../distance/grid.js';
