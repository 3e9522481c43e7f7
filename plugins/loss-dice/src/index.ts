/**
 * Soft Dice loss (Milletari et al. 2016) on softmax probabilities, channels-last [B, ...spatial, K].
 * Parity with the Region-wise authors' code: per (b, k), background included,
 * r = 2 sum(p y) / (sum p + sum y + 1e-6), loss 1 - mean r.
 */
import { definePlugin, defineLoss, lossVocabulary, checkProbsAndTarget, classCount, reduceClassTerms, spatialSum, PLUGIN_API_VERSION, tf, z, type LossOwner } from '@rwseg/core';

const PLUGIN = '@rwseg/plugin-loss-dice';

export interface DiceSmoothing {
  /** Added to the denominator (the authors' 1e-6). */
  readonly smooth: number;
  /** Added to the numerator (0 in the authors' code; 1 with smooth 1 gives the "Laplace" form). */
  readonly smoothNumerator: number;
}

/**
 * Dice loss terms 1 - r: [B, K] per sample, or [1, K] when `batch` pools the whole batch per class
 * (so a class absent from one sample is judged on the others).
 */
export function diceTerms(probs: tf.Tensor, target: tf.Tensor, batch: boolean, smoothing: DiceSmoothing): tf.Tensor {
  return tf.tidy(() => {
    const pool = (x: tf.Tensor): tf.Tensor => (batch ? tf.reshape(x, [1, -1, classCount(x)]) : x);
    const intersection = spatialSum(pool(tf.mul(probs, target)));
    const sizes = tf.add(spatialSum(pool(probs)), spatialSum(pool(target)));
    const ratio = tf.div(tf.add(tf.mul(intersection, 2), smoothing.smoothNumerator), tf.add(sizes, smoothing.smooth));
    return tf.sub(1, ratio);
  });
}

const dice = defineLoss({
  name: 'dice',
  description: 'Soft Dice loss 1 - mean_{b,k} 2 sum(p y) / (sum p + sum y + smooth), per sample or over the batch',
  options: z.object({
    ...lossVocabulary(true),
    smooth: z.number().nonnegative().default(1e-6).describe('added to the denominator'),
    smoothNumerator: z.number().nonnegative().default(0).describe('added to the numerator'),
    batch: z.boolean().default(false).describe('pool the batch per class (one Dice per class, reduction none gives [1, K\'])'),
  }),
  create: (options) => {
    const owner: LossOwner = { loss: 'dice', plugin: PLUGIN };
    return {
      name: 'dice',
      requiredMaps: [],
      compute: (input) => {
        checkProbsAndTarget(owner, input);
        return tf.tidy(() => reduceClassTerms(owner, diceTerms(input.probs, input.target, options.batch, options), options, 'mean'));
      },
    };
  },
});

export default definePlugin({ apiVersion: PLUGIN_API_VERSION, name: PLUGIN, description: 'Soft Dice loss', losses: [dice] });
