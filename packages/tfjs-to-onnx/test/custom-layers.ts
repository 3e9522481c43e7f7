/**
 * Custom layers as a user (or rwseg's U-Net) would write them: tfjs-layers has neither InstanceNormalization
 * nor UpSampling3D. The converter handles them through the class-name convention in docs/export.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export class InstanceNormalization extends tfl.layers.Layer {
  static readonly className = 'InstanceNormalization';
  readonly epsilon: number;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;

  constructor(args: { epsilon?: number; name?: string } = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    const c = shape[shape.length - 1]!;
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
      const { mean, variance } = tf.moments(x, axes, true);
      return tf.add(
        tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.epsilon))), this.gamma!.read()),
        this.beta!.read(),
      );
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(InstanceNormalization);

/** Nearest-neighbor 3-D upsampling by integer factors (each voxel repeated). */
export class UpSampling3D extends tfl.layers.Layer {
  static readonly className = 'UpSampling3D';
  readonly size: number[];

  constructor(args: { size?: number[]; name?: string } = {}) {
    super(args);
    this.size = args.size ?? [2, 2, 2];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = inputShape as tfl.Shape;
    return [s[0]!, ...[1, 2, 3].map((a) => (s[a] == null ? null : s[a]! * this.size[a - 1]!)), s[4]!];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = Array.isArray(inputs) ? inputs[0]! : inputs;
      for (let a = 1; a <= 3; a++) {
        const n = x.shape[a]! * this.size[a - 1]!;
        const idx = tf.tensor1d(
          Array.from({ length: n }, (_, i) => Math.floor(i / this.size[a - 1]!)),
          'int32',
        );
        x = tf.gather(x, idx, a);
      }
      return x;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.size, interpolation: 'nearest' };
  }
}
tf.serialization.registerClass(UpSampling3D);
