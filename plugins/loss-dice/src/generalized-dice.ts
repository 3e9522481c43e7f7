/**
 * Generalized Dice loss (Sudre et al., "Generalised Dice overlap as a deep learning loss function for highly
 * unbalanced segmentations", DLMIA 2017), as MONAI's GeneralizedDiceLoss. Tensors channels-last [B, ...spatial, K]
 * (softmax + one-hot, or with `sigmoid` a multi-label target). Per sample b, over the selected classes k:
 *   w_k = 1 / Y_k^2 ('square'), 1 / Y_k ('simple') or 1 ('uniform'); a class absent from the target (Y_k = 0) gets
 *   the largest w of the sample (MONAI's rule, so it still counts);
 *   loss_b = 1 - (2 sum_k w_k TP_k + smoothNr) / (sum_k w_k (P_k + Y_k) + smoothDr).
 * One term per sample ([B, 1]; [1, 1] with `batch`, which pools the batch before weighting): the classes are
 * combined inside the ratio, so there is no per-class `weight` option (w is the weighting).
 */
import {
  defineLoss,
  includeBackgroundOption,
  reductionOption,
  selectedClasses,
  validateInputsOption,
  checkProbsAndTarget,
  targetLayoutOf,
  tf,
  z,
  type LossOwner,
} from '@rwseg/core/plugin';
import { overlapStatistics, safeRatio } from './overlap.js';
import { monaiSmoothingOptions, overlapOptions, PLUGIN } from './shared-options.js';

export type GeneralizedDiceWeighting = 'square' | 'simple' | 'uniform';

export interface GeneralizedDiceOptions {
  readonly wType: GeneralizedDiceWeighting;
  readonly smoothNr: number;
  readonly smoothDr: number;
  readonly batch: boolean;
  readonly softLabel: boolean;
}

/** Sudre's class weights [rows, K'] from the target sizes; constant for the gradient (the target is data). */
export function generalizedDiceWeights(targetSize: tf.Tensor, wType: GeneralizedDiceWeighting): tf.Tensor {
  return tf.tidy(() => {
    const absent = tf.equal(targetSize, 0);
    const size = tf.where(absent, tf.onesLike(targetSize), targetSize);
    const raw =
      wType === 'square'
        ? tf.reciprocal(tf.square(size))
        : wType === 'simple'
          ? tf.reciprocal(size)
          : tf.onesLike(size);
    const present = tf.where(absent, tf.zerosLike(raw), raw);
    return tf.add(present, tf.mul(tf.cast(absent, 'float32'), tf.max(present, 1, true)));
  });
}

/** Loss terms [B, 1] (or [1, 1] with batch) over the classes `keep` (contiguous: all, or all but background). */
export function generalizedDiceTerms(
  probs: tf.Tensor,
  target: tf.Tensor,
  keep: readonly number[],
  options: GeneralizedDiceOptions,
): tf.Tensor {
  return tf.tidy(() => {
    const stats = overlapStatistics(probs, target, { ...options, squaredPred: false });
    const pick = (x: tf.Tensor): tf.Tensor => tf.slice(x, [0, keep[0]!], [-1, keep.length]);
    const [tp, p, y] = [stats.truePositives, stats.predictionSize, stats.targetSize].map(pick) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    const w = generalizedDiceWeights(y, options.wType);
    const numerator = tf.add(tf.mul(tf.sum(tf.mul(tp, w), 1, true), 2), options.smoothNr);
    const denominator = tf.add(tf.sum(tf.mul(tf.add(p, y), w), 1, true), options.smoothDr);
    return tf.sub(1, safeRatio(numerator, denominator));
  });
}

export const generalizedDice = defineLoss({
  name: 'generalized-dice',
  description:
    'Generalized Dice (Sudre 2017): 1 - (2 sum_k w_k TP_k + smoothNr) / (sum_k w_k (P_k + Y_k) + smoothDr),' +
    ' w_k = 1/Y_k^2',
  options: z.object({
    includeBackground: includeBackgroundOption(true),
    reduction: reductionOption,
    validateInputs: validateInputsOption,
    wType: z
      .enum(['square', 'simple', 'uniform'])
      .default('square')
      .describe("class weights w_k: 'square' 1/Y_k^2, 'simple' 1/Y_k, 'uniform' 1"),
    ...monaiSmoothingOptions,
    ...overlapOptions,
  }),
  create: (options) => {
    const owner: LossOwner = { loss: 'generalized-dice', plugin: PLUGIN };
    const checks = {
      validateInputs: options.validateInputs,
      layout: targetLayoutOf(options.sigmoid),
      softLabel: options.softLabel,
    };
    return {
      name: 'generalized-dice',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const { probs, target } = checkProbsAndTarget(owner, input, checks);
          const keep = selectedClasses(owner, probs.shape[probs.rank - 1]!, options.includeBackground);
          const terms = generalizedDiceTerms(probs, target, keep, options);
          if (options.reduction === 'none') return terms;
          return options.reduction === 'sum' ? tf.sum(terms) : tf.mean(terms);
        }),
    };
  },
});
