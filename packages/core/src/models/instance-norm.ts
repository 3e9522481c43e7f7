/**
 * Instance normalisation (Ulyanov et al. 2016), as nnU-Net uses it: each sample's channel is normalised over its
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
      const spatialAxes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
      const { mean, variance } = tf.moments(x, spatialAxes, true);
      const normalised = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.epsilon)));
      return tf.add(tf.mul(normalised, this.gamma!.read()), this.beta!.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(InstanceNormalization);
