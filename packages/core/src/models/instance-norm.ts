/**
 * Instance normalization (Ulyanov et al. 2016), as nnU-Net uses it: each sample's channel is normalized over its
 * spatial axes, then scaled and shifted by a learnt per-channel gamma and beta. Input channels-last
 * [B, ...spatial, C]. tfjs-layers has no such layer; the class name `InstanceNormalization` is what the ONNX
 * converter maps to ONNX's InstanceNormalization op (after the NHWC -> NCHW transpose), weights [gamma, beta].
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../tf.js';

export interface InstanceNormalizationArgs {
  epsilon?: number;
  name?: string;
  inputShape?: (number | null)[];
}

/**
 * y = gamma * (x - mean) / sqrt(var + eps) + beta per sample and channel (statistics over the spatial axes of
 * x [B, ...spatial, C]), with its gradient in closed form: with xhat the normalized input and g = dy * gamma,
 *   dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps),  dgamma = sum(dy * xhat),  dbeta = sum(dy)
 * (means over the spatial axes, sums over batch and spatial axes). TF.js's automatic gradient of the same
 * formula takes about twice the passes over the activation, which on a 3D U-Net's full-resolution levels is a
 * measurable part of a training step.
 */
export function instanceNormalization(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const spatialAxes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
  const reduceAxes = [0, ...spatialAxes];
  const normalize = tf.customGrad((input, scale, shift, save) => {
    const [xIn, g, b] = [input, scale, shift] as tf.Tensor[];
    const { mean, variance } = tf.moments(xIn!, spatialAxes, true);
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalized = tf.mul(tf.sub(xIn!, mean), inverseStd);
    (save as (tensors: tf.Tensor[]) => void)([normalized, inverseStd, g!]);
    return {
      value: tf.add(tf.mul(normalized, g!), b!),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xhat, rstd, gammaSaved] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dyT = dy as tf.Tensor;
        const scaled = tf.mul(dyT, gammaSaved);
        const meanScaled = tf.mean(scaled, spatialAxes, true);
        const meanScaledXhat = tf.mean(tf.mul(scaled, xhat), spatialAxes, true);
        const dx = tf.mul(tf.sub(tf.sub(scaled, meanScaled), tf.mul(xhat, meanScaledXhat)), rstd);
        return [dx, tf.sum(tf.mul(dyT, xhat), reduceAxes), tf.sum(dyT, reduceAxes)];
      },
    };
  });
  return normalize(x, gamma, beta) as tf.Tensor;
}

export class InstanceNormalization extends tfl.layers.Layer {
  static readonly className = 'InstanceNormalization';
  readonly epsilon: number;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;

  constructor(args: InstanceNormalizationArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error('InstanceNormalization needs a known channel count (last axis)');
    this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return instanceNormalization(x, this.gamma!.read(), this.beta!.read(), this.epsilon);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(InstanceNormalization);
