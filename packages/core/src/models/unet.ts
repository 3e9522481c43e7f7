/**
 * U-Net builders (Ronneberger et al. 2015; the nnU-Net variant of Isensee et al. 2021): two 3x3(x3) convolutions
 * per level, each followed by normalization and a non-linearity, max-pooling down, transposed convolution (or
 * nearest resize + convolution) up, skip connections by concatenation, and a 1x1 convolution + softmax head.
 *
 * Layout: input [B, ...patch, C] channels-last; every output [B, ...patch / 2^s, K] holds class probabilities.
 * With deep supervision the model has one softmax head per decoder scale, full resolution first, so output s
 * matches Batch.scales[s].
 *
 * Only standard tfjs-layers layers are used (Conv2D/3D, Conv2DTranspose/3DTranspose, BatchNormalization,
 * ReLU/LeakyReLU, MaxPooling2D/3D, UpSampling2D, Concatenate, Activation), plus InstanceNormalization, so the
 * ONNX converter can translate every node. 3D: conv3d runs on the cpu backend (and tensorflow/webgpu where
 * present); nearest up-sampling has no 3D layer in tfjs-layers, so 3D models use transposed convolutions.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { RwsegError } from '../errors.js';
import { InstanceNormalization } from './instance-norm.js';
import {
  checkPatchShape,
  filtersAtLevel,
  LEAKY_RELU_SLOPE,
  unetConfigSchema,
  type UNetConfig,
  type UNetConfigInput,
} from './unet-config.js';
import '@rwseg/tfjs-training-backends'; // registers conv3dTranspose's gradient (TF.js has none)

/** Builds the U-Net for patches of `patch` (spatial shape). Returns a LayersModel with 1..n softmax outputs. */
export function buildUNet(raw: UNetConfigInput, patch: readonly number[]): tfl.LayersModel {
  const parsed = unetConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RwsegError('INVALID_CONFIG', `model.${issue.path.join('.')}: ${issue.message}`, {
      issues: parsed.error.issues,
    });
  }
  const config = parsed.data;
  checkPatchShape(patch, config.depth, config.dims);
  const decoderScales = Math.max(1, config.depth - 1);
  if (config.deepSupervision > decoderScales) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `model.deepSupervision ${config.deepSupervision} exceeds the ${decoderScales} decoder scale(s) of a depth-${config.depth} U-Net`,
      {},
    );
  }
  if (config.dims === 3 && config.upsampling === 'resize') {
    throw new RwsegError(
      'INVALID_CONFIG',
      "model.upsampling 'resize' is 2D only (tfjs-layers has no 3D up-sampling layer); use 'transposed' for 3D",
      {},
    );
  }
  const layers = new LayerFactory(config);
  const input = tfl.input({ shape: [...patch, config.inputChannels], name: 'image' });

  const skips: tfl.SymbolicTensor[] = [];
  let x: tfl.SymbolicTensor = input;
  for (let level = 0; level < config.depth; level++) {
    if (level > 0) x = layers.pool(`down${level}_pool`).apply(x) as tfl.SymbolicTensor;
    x = layers.convBlock(x, filtersAtLevel(config, level), `enc${level}`);
    skips.push(x);
  }

  const decoderOutputs: tfl.SymbolicTensor[] = [];
  for (let level = config.depth - 2; level >= 0; level--) {
    const filters = filtersAtLevel(config, level);
    x = layers.up(x, filters, `up${level}`);
    x = tfl.layers.concatenate({ axis: -1, name: `up${level}_concat` }).apply([skips[level]!, x]) as tfl.SymbolicTensor;
    x = layers.convBlock(x, filters, `dec${level}`);
    decoderOutputs.unshift(x);
  }
  // Depth 1 has no decoder: the head sits on the only level.
  if (decoderOutputs.length === 0) decoderOutputs.push(x);

  const outputs = decoderOutputs
    .slice(0, config.deepSupervision)
    .map((features, scale) => layers.head(features, scale));
  return tfl.model({
    inputs: input,
    outputs: outputs.length === 1 ? outputs[0]! : outputs,
    name: `unet${config.dims}d`,
  });
}

/** Number of trainable + non-trainable parameters in a model. */
export function parameterCount(model: tfl.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

class LayerFactory {
  private seedCounter: number;

  constructor(private readonly config: UNetConfig) {
    this.seedCounter = config.seed * 1000;
  }

  private kernelInitializer() {
    // Each layer gets its own seed so two layers never start with identical weights, yet the whole net is reproducible.
    return tfl.initializers.heNormal({ seed: this.seedCounter++ });
  }

  private conv(filters: number, kernel: number, name: string, useBias: boolean) {
    const args = {
      filters,
      kernelSize: kernel,
      padding: 'same' as const,
      useBias,
      kernelInitializer: this.kernelInitializer(),
      name,
    };
    return this.config.dims === 2 ? tfl.layers.conv2d(args) : tfl.layers.conv3d(args);
  }

  pool(name: string) {
    return this.config.dims === 2
      ? tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name })
      : tfl.layers.maxPooling3d({ poolSize: 2, strides: 2, name });
  }

  private norm(name: string): tfl.layers.Layer | undefined {
    switch (this.config.normalization) {
      case 'batch':
        return tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name });
      case 'instance':
        return new InstanceNormalization({ name });
      case 'none':
        return undefined;
    }
  }

  private activation(name: string) {
    return this.config.activation === 'relu'
      ? tfl.layers.reLU({ name })
      : tfl.layers.leakyReLU({ alpha: LEAKY_RELU_SLOPE, name });
  }

  /** conv -> norm -> act, twice. Convolutions before a normalization carry no bias (it would be normalized away). */
  convBlock(x: tfl.SymbolicTensor, filters: number, prefix: string): tfl.SymbolicTensor {
    const useBias = this.config.normalization === 'none';
    for (const i of [1, 2]) {
      x = this.conv(filters, 3, `${prefix}_conv${i}`, useBias).apply(x) as tfl.SymbolicTensor;
      const norm = this.norm(`${prefix}_norm${i}`);
      if (norm) x = norm.apply(x) as tfl.SymbolicTensor;
      x = this.activation(`${prefix}_act${i}`).apply(x) as tfl.SymbolicTensor;
    }
    return x;
  }

  up(x: tfl.SymbolicTensor, filters: number, prefix: string): tfl.SymbolicTensor {
    if (this.config.upsampling === 'transposed') {
      const args = {
        filters,
        kernelSize: 2,
        strides: 2,
        padding: 'same' as const,
        kernelInitializer: this.kernelInitializer(),
        name: `${prefix}_tconv`,
      };
      return (this.config.dims === 2 ? tfl.layers.conv2dTranspose(args) : tfl.layers.conv3dTranspose(args)).apply(
        x,
      ) as tfl.SymbolicTensor;
    }
    const resized = tfl.layers
      .upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `${prefix}_resize` })
      .apply(x) as tfl.SymbolicTensor;
    return this.conv(filters, 3, `${prefix}_conv`, true).apply(resized) as tfl.SymbolicTensor;
  }

  head(x: tfl.SymbolicTensor, scale: number): tfl.SymbolicTensor {
    const name = scale === 0 ? 'output' : `output_ds${scale}`;
    const logits = this.conv(this.config.numClasses, 1, `${name}_logits`, true).apply(x) as tfl.SymbolicTensor;
    return tfl.layers.activation({ activation: 'softmax', name }).apply(logits) as tfl.SymbolicTensor;
  }
}
