/** Registers the converters this package ships, keyed by TF.js layer class name. */
import { registerLayerConverter } from '../convert/registry.js';
import * as act from './activations.js';
import { convertConv, convertConvTranspose } from './conv.js';
import { convertDense } from './dense.js';
import { convertConcatenate, elementwiseConverter } from './merge.js';
import { convertBatchNormalization, convertInstanceNormalization, convertLayerNormalization } from './normalization.js';
import { globalPoolingConverter, poolingConverter } from './pooling.js';
import { convertUpSampling } from './resize.js';
import { convertCropping2D, convertFlatten, convertPermute, convertReshape, convertZeroPadding2D } from './shape.js';

export function registerBuiltinConverters(): void {
  for (const c of ['Conv2D', 'Conv3D']) registerLayerConverter(c, convertConv);
  for (const c of ['Conv2DTranspose', 'Conv3DTranspose']) registerLayerConverter(c, convertConvTranspose);
  registerLayerConverter('Dense', convertDense);
  registerLayerConverter('BatchNormalization', convertBatchNormalization);
  registerLayerConverter('LayerNormalization', convertLayerNormalization);
  registerLayerConverter('InstanceNormalization', convertInstanceNormalization);
  for (const c of ['MaxPooling2D', 'MaxPooling3D']) registerLayerConverter(c, poolingConverter('MaxPool'));
  for (const c of ['AveragePooling2D', 'AveragePooling3D']) registerLayerConverter(c, poolingConverter('AveragePool'));
  for (const c of ['GlobalMaxPooling2D', 'GlobalMaxPooling3D'])
    registerLayerConverter(c, globalPoolingConverter('GlobalMaxPool'));
  for (const c of ['GlobalAveragePooling2D', 'GlobalAveragePooling3D'])
    registerLayerConverter(c, globalPoolingConverter('GlobalAveragePool'));
  for (const c of ['UpSampling2D', 'UpSampling3D']) registerLayerConverter(c, convertUpSampling);
  registerLayerConverter('Concatenate', convertConcatenate);
  registerLayerConverter('Add', elementwiseConverter('Sum'));
  registerLayerConverter('Average', elementwiseConverter('Mean'));
  registerLayerConverter('Maximum', elementwiseConverter('Max'));
  registerLayerConverter('Minimum', elementwiseConverter('Min'));
  registerLayerConverter('Multiply', elementwiseConverter('Mul'));
  registerLayerConverter('Reshape', convertReshape);
  registerLayerConverter('Flatten', convertFlatten);
  registerLayerConverter('Permute', convertPermute);
  registerLayerConverter('ZeroPadding2D', convertZeroPadding2D);
  registerLayerConverter('Cropping2D', convertCropping2D);
  registerLayerConverter('Activation', act.convertActivation);
  registerLayerConverter('ReLU', act.convertReLU);
  registerLayerConverter('LeakyReLU', act.convertLeakyReLU);
  registerLayerConverter('ELU', act.convertELU);
  registerLayerConverter('ThresholdedReLU', act.convertThresholdedReLU);
  registerLayerConverter('Softmax', act.convertSoftmax);
  for (const c of [
    'Dropout',
    'SpatialDropout1D',
    'SpatialDropout2D',
    'SpatialDropout3D',
    'GaussianNoise',
    'GaussianDropout',
    'AlphaDropout',
  ]) {
    registerLayerConverter(c, act.convertIdentity);
  }
}
