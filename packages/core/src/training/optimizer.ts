/**
 * Adam with decoupled weight decay (AdamW, Loshchilov & Hutter 2019) and global gradient-norm clipping (nnU-Net
 * clips at 12). Weight decay is decoupled, not an L2 term in the loss: w <- w - lr * (adam_step + wd * w).
 * Written out rather than using tf.train.adam so its state (step, m, v per variable, in the model's weight
 * order) goes into a checkpoint and comes back in another process, where TF.js variable names differ.
 */
import { tf } from '../tf.js';

export interface AdamWOptions {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  readonly weightDecay?: number;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  step = 0;
  private moments: { m: tf.Variable; v: tf.Variable }[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    options: AdamWOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.moments = variables.map((v) => ({
      m: tf.variable(tf.zerosLike(v), false),
      v: tf.variable(tf.zerosLike(v), false),
    }));
  }

  /** Applies one update; `grads[i]` belongs to `variables[i]`. */
  apply(grads: readonly tf.Tensor[], lr: number): void {
    this.step++;
    const c1 = 1 - this.beta1 ** this.step;
    const c2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      this.variables.forEach((variable, i) => {
        const g = grads[i]!;
        const { m, v } = this.moments[i]!;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        const decayed = this.weightDecay > 0 ? tf.add(update, tf.mul(variable, this.weightDecay)) : update;
        variable.assign(tf.sub(variable, tf.mul(decayed, lr)));
      });
    });
  }

  /** State for a checkpoint: m and v per variable, in variable order. */
  state(): { step: number; tensors: tf.Tensor[] } {
    return { step: this.step, tensors: this.moments.flatMap(({ m, v }) => [m, v]) };
  }

  restore(step: number, tensors: readonly tf.Tensor[]): void {
    if (tensors.length !== 2 * this.moments.length)
      throw new Error(`optimizer state has ${tensors.length} tensors, expected ${2 * this.moments.length}`);
    this.step = step;
    this.moments.forEach(({ m, v }, i) => {
      m.assign(tensors[2 * i]!);
      v.assign(tensors[2 * i + 1]!);
    });
  }

  dispose(): void {
    for (const { m, v } of this.moments) tf.dispose([m, v]);
  }
}

/** Global L2 norm of a gradient list. Sums sequentially: webgpu's addN silently fails beyond ~7 inputs. */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    for (const g of grads) total = tf.add(total, tf.sum(tf.square(g)));
    return tf.sqrt(total) as tf.Scalar;
  });
}

/**
 * Scales gradients so their global norm is at most maxNorm; returns the new list and the norm before clipping.
 * Async: the webgpu backend cannot read tensors synchronously under Node (TF.js needs an OffscreenCanvas).
 */
export async function clipByGlobalNorm(
  grads: readonly tf.Tensor[],
  maxNorm: number,
): Promise<{ grads: tf.Tensor[]; norm: number }> {
  const normTensor = globalNorm(grads);
  const norm = (await normTensor.data())[0]!;
  normTensor.dispose();
  if (!(norm > maxNorm) || !Number.isFinite(norm)) return { grads: [...grads], norm };
  const scale = maxNorm / norm;
  return { grads: grads.map((g) => tf.mul(g, scale)), norm };
}
