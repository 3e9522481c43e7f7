/**
 * The GPU-backend half of the input checks (input-checks.ts): reductions on the device count the valid entries so
 * that only three numbers are read back. Kept out of the public exports; its test imports it from here.
 */
import { tf } from '../tf.js';
import type { TargetLayout } from './input-checks.js';

/** Slack for float32 rounding: softmax outputs and soft-label rows are exact to about 1e-7. */
export const VALUE_TOLERANCE = 1e-6;
export const ROW_TOLERANCE = 1e-3;

/** Whether every value passes the input checks, counted on the device with three numbers read back. */
export function deviceCountsMatch(
  probs: tf.Tensor,
  target: tf.Tensor,
  layout: TargetLayout,
  softLabel: boolean,
): boolean {
  const numClasses = probs.shape[probs.rank - 1]!;
  const rows = probs.size / numClasses;
  const counts = tf.tidy(() => {
    const inUnit = (x: tf.Tensor): tf.Tensor =>
      tf.sum(
        tf.mul(
          tf.cast(tf.greaterEqual(x, -VALUE_TOLERANCE), 'float32'),
          tf.cast(tf.lessEqual(x, 1 + VALUE_TOLERANCE), 'float32'),
        ),
      );
    const goodProbs = inUnit(probs);
    const goodTarget = softLabel
      ? inUnit(target)
      : tf.sum(tf.add(tf.cast(tf.equal(target, 0), 'float32'), tf.cast(tf.equal(target, 1), 'float32')));
    const goodRows =
      layout === 'one-hot'
        ? tf.sum(tf.cast(tf.lessEqual(tf.abs(tf.sub(tf.sum(target, -1), 1)), ROW_TOLERANCE), 'float32'))
        : tf.scalar(rows);
    return tf.stack([goodProbs, goodTarget, goodRows]);
  });
  const [okProbs, okTarget, okRows] = counts.dataSync();
  counts.dispose();
  return okProbs === probs.size && okTarget === target.size && okRows === rows;
}
