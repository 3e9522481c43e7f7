/**
 * Gradient checks for loss authors: the analytic gradient of a loss with respect to the logits (through a
 * softmax over the last axis, as in training, or a per-channel sigmoid for multi-label losses) next to central
 * finite differences. Meant for tiny tensors.
 */
import type { Loss, LossInput } from '../plugins/api.js';
import { tf } from '../tf.js';

export type LossInputWithoutProbs = Omit<LossInput, 'probs'>;

/** How logits become probabilities: softmax over the classes, or a sigmoid per channel (multi-label). */
export type LogitActivation = 'softmax' | 'sigmoid';

function lossOfLogits(
  loss: Loss,
  rest: LossInputWithoutProbs,
  logits: tf.Tensor,
  activation: LogitActivation,
): tf.Tensor {
  const probs = activation === 'sigmoid' ? tf.sigmoid(logits) : tf.softmax(logits);
  return tf.sum(loss.compute({ ...rest, probs }));
}

/** d sum(loss) / d logits, by TF.js autodiff through the activation. */
export function logitGradient(
  loss: Loss,
  logits: tf.Tensor,
  rest: LossInputWithoutProbs,
  activation: LogitActivation = 'softmax',
): Float32Array {
  return tf.tidy(
    () =>
      tf
        .grad((x: tf.Tensor) => lossOfLogits(loss, rest, x, activation))(logits)
        .dataSync() as Float32Array,
  );
}

/** The same gradient by central differences (x + eps, x - eps) of each logit in turn. */
export function finiteDifferenceLogitGradient(
  loss: Loss,
  logits: tf.Tensor,
  rest: LossInputWithoutProbs,
  eps = 1e-2,
  activation: LogitActivation = 'softmax',
): Float32Array {
  const base = logits.dataSync().slice() as Float32Array;
  const out = new Float32Array(base.length);
  const valueAt = (values: Float32Array): number =>
    tf.tidy(() => lossOfLogits(loss, rest, tf.tensor(values, logits.shape, 'float32'), activation).dataSync()[0]!);
  for (let i = 0; i < base.length; i++) {
    const x = base[i]!;
    base[i] = x + eps;
    const up = valueAt(base);
    base[i] = x - eps;
    const down = valueAt(base);
    base[i] = x;
    out[i] = (up - down) / (2 * eps);
  }
  return out;
}
