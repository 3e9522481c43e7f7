/**
 * The statistics every overlap loss is made of (Dice, Jaccard, Tversky, Generalized Dice): per (sample, class)
 * the soft true positives TP, the prediction size P and the target size Y over the spatial axes, so that
 * FP = P - TP and FN = Y - TP. Tensors are channels-last [B, ...spatial, K]; results [B, K], or [1, K] when `batch`
 * pools the batch per class. As MONAI's compute_tp_fp_fn (after Wang et al., "Dice Semimetric Losses", MICCAI 2023):
 * - plain: TP = sum p y, P = sum p, Y = sum y;
 * - squared (MONAI squared_pred) or soft labels: P = sum |p|^o, Y = sum |y|^o, TP = (P + Y - sum |p - y|^o) / 2 with
 *   o = 2 (squared) or 1. With hard labels the soft-label form equals the plain one; with soft labels it is 0 only
 *   where p = y, which the plain form is not.
 */
import { classCount, tf } from '@rwseg/core/plugin';

export interface OverlapOptions {
  readonly batch: boolean;
  readonly squaredPred: boolean;
  readonly softLabel: boolean;
}

export interface Overlap {
  readonly truePositives: tf.Tensor;
  readonly predictionSize: tf.Tensor;
  readonly targetSize: tf.Tensor;
}

export function overlapStatistics(probs: tf.Tensor, target: tf.Tensor, options: OverlapOptions): Overlap {
  const rows = options.batch ? 1 : probs.shape[0]!;
  const sum = (x: tf.Tensor): tf.Tensor => tf.sum(tf.reshape(x, [rows, -1, classCount(x)]), 1);
  if (!options.squaredPred && !options.softLabel) {
    return { truePositives: sum(tf.mul(probs, target)), predictionSize: sum(probs), targetSize: sum(target) };
  }
  const norm = options.squaredPred ? (x: tf.Tensor) => sum(tf.square(x)) : (x: tf.Tensor) => sum(tf.abs(x));
  const predictionSize = norm(probs);
  const targetSize = norm(target);
  const truePositives = tf.div(tf.sub(tf.add(predictionSize, targetSize), norm(tf.sub(probs, target))), 2);
  return { truePositives, predictionSize, targetSize };
}

/**
 * numerator / denominator with 0 / 0 defined: where the denominator is exactly 0 (a class empty in target and
 * prediction with zero smoothing) it divides by 1 instead, so the ratio is the numerator (0 without numerator
 * smoothing: the loss is 1, as the default smoothing gives) and neither value nor gradient is NaN.
 */
export function safeRatio(numerator: tf.Tensor, denominator: tf.Tensor): tf.Tensor {
  // Denominators are >= 0, so 1 - sign is 1 exactly at 0; sign rather than equal + where because comparisons have
  // no gradient in TF.js and would break backpropagation through the denominator.
  return tf.div(numerator, tf.add(denominator, tf.sub(1, tf.sign(denominator))));
}
