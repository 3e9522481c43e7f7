export { InstanceNormalization, type InstanceNormalizationArgs } from './instance-norm.js';
export {
  buildUNet,
  checkPatchShape,
  nearestValidPatch,
  nearestValidSize,
  patchGrid,
  filtersAtLevel,
  parameterCount,
  unetConfigSchema,
  LEAKY_RELU_SLOPE,
  type UNetConfig,
  type UNetConfigInput,
} from './unet.js';
export { registerConv3DTransposeGradient } from '@rwseg/tfjs-training-backends';
