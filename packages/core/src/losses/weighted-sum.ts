/**
 * The weighted sum of scalar loss terms, as a combination of losses, deep supervision and the training step all
 * take it: a term whose weight is 0 is not computed (a step schedule switching a loss off costs nothing), and a
 * term that is not a scalar is an error naming it rather than silently averaged.
 */
import { tf } from '../tf.js';

/**
 * sum_i weights[i] * term(i). `nonScalar(i, shape)` makes the error for a term that is not a scalar; `onTerm(i,
 * value)` sees each computed term (e.g. to log it). Call inside tf.tidy or a gradient function.
 */
export function weightedSum(
  weights: readonly number[],
  term: (i: number) => tf.Tensor,
  nonScalar: (i: number, shape: readonly number[]) => Error,
  onTerm?: (i: number, value: tf.Scalar) => void,
): tf.Scalar {
  let total: tf.Tensor = tf.scalar(0);
  weights.forEach((weight, i) => {
    if (weight === 0) return;
    const value = term(i);
    if (value.rank !== 0) throw nonScalar(i, value.shape);
    onTerm?.(i, value as tf.Scalar);
    total = tf.add(total, tf.mul(value, weight));
  });
  return total as tf.Scalar;
}
