export { InstanceNormalization, type InstanceNormalizationArgs } from './instance-norm.js';
export { buildUNet, parameterCount } from './unet.js';
export {
  checkPatchShape,
  nearestValidPatch,
  nearestValidSize,
  patchGrid,
  filtersAtLevel,
  unetConfigSchema,
  LEAKY_RELU_SLOPE,
  type UNetConfig,
  type UNetConfigInput,
} from './unet-config.js';
export { registerConv3DTransposeGradient } from '@rwseg/tfjs-training-backends';
