/**
 * Soft Dice loss (Milletari et al., "V-Net", 3DV 2016) and soft Jaccard (IoU) loss, with MONAI DiceLoss's options.
 * Tensors channels-last [B, ...spatial, K]: softmax probabilities with a one-hot target (or class indices), or, with
 * `sigmoid`, per-channel sigmoid probabilities with a multi-label target (each channel a binary region).
 * Per (b, k), TP, P, Y from overlap.ts:
 *   Dice:    r = (2 TP + smoothNr) / (P + Y + smoothDr)
 *   Jaccard: r = (2 TP + smoothNr) / (2 (P + Y - TP) + smoothDr)      (MONAI's jaccard: 2 TP / 2 |p u y|)
 * loss terms 1 - r, reduced by the shared vocabulary. The default smoothing is the Region-wise authors' (0 on the
 * numerator, 1e-6 on the denominator: a class absent from target and prediction has a loss of 1); preset 'monai'
 * is MONAI's (1e-5 on both: a loss of 0). With smoothDr 0 such a class has a loss of 1, not NaN (safeRatio).
 */
import {
  defineLoss,
  describeOwner,
  lossVocabulary,
  checkProbsAndTarget,
  targetLayoutOf,
  reduceClassTerms,
  RwsegError,
  tf,
  z,
  type LossOwner,
} from '@rwseg/core/plugin';
import { overlapStatistics, safeRatio, type OverlapOptions } from './overlap.js';
import { MONAI_SMOOTHING, overlapOptions, PLUGIN } from './shared-options.js';

export interface DiceSmoothing {
  readonly smoothNr: number;
  readonly smoothDr: number;
}

export interface DiceOptions extends OverlapOptions, DiceSmoothing {
  readonly jaccard: boolean;
}

/** The Region-wise authors' smoothing and MONAI's, by preset name. */
export const DICE_PRESETS: Readonly<Record<'region-wise' | 'monai', DiceSmoothing>> = {
  'region-wise': { smoothNr: 0, smoothDr: 1e-6 },
  monai: MONAI_SMOOTHING,
};

/** Dice (or Jaccard) loss terms 1 - r: [B, K] per sample, or [1, K] with `batch`. */
export function diceTerms(probs: tf.Tensor, target: tf.Tensor, options: DiceOptions): tf.Tensor {
  return tf.tidy(() => {
    const { truePositives: tp, predictionSize, targetSize } = overlapStatistics(probs, target, options);
    const sizes = tf.add(predictionSize, targetSize);
    const union = options.jaccard ? tf.mul(tf.sub(sizes, tp), 2) : sizes;
    return tf.sub(1, safeRatio(tf.add(tf.mul(tp, 2), options.smoothNr), tf.add(union, options.smoothDr)));
  });
}

export const dice = defineLoss({
  name: 'dice',
  description: 'Soft Dice (or Jaccard) loss 1 - mean_{b,k} (2 TP + smoothNr) / (P + Y + smoothDr), softmax or sigmoid',
  options: z.object({
    ...lossVocabulary(true),
    preset: z
      .enum(['region-wise', 'monai'])
      .default('region-wise')
      .describe(
        "smoothing defaults: 'region-wise' smoothNr 0, smoothDr 1e-6 (absent class: loss 1);" +
          " 'monai' 1e-5 on both (loss 0)",
      ),
    smoothNr: z.number().nonnegative().optional().describe("added to the numerator (default: the preset's)"),
    smoothDr: z.number().nonnegative().optional().describe("added to the denominator (default: the preset's)"),
    smooth: z.number().nonnegative().optional().describe('deprecated name of smoothDr'),
    smoothNumerator: z.number().nonnegative().optional().describe('deprecated name of smoothNr'),
    squaredPred: z
      .boolean()
      .default(false)
      .describe("squared terms in the denominator: sum p^2 + sum y^2 (Milletari's form)"),
    jaccard: z.boolean().default(false).describe('soft Jaccard (IoU) instead of Dice'),
    ...overlapOptions,
  }),
  create: (options) => {
    const owner: LossOwner = { loss: 'dice', plugin: PLUGIN };
    const preset = DICE_PRESETS[options.preset];
    const smoothNr =
      aliased(owner, 'smoothNr', options.smoothNr, 'smoothNumerator', options.smoothNumerator) ?? preset.smoothNr;
    const smoothDr = aliased(owner, 'smoothDr', options.smoothDr, 'smooth', options.smooth) ?? preset.smoothDr;
    const terms: DiceOptions = { ...options, smoothNr, smoothDr };
    const checks = {
      validateInputs: options.validateInputs,
      layout: targetLayoutOf(options.sigmoid),
      softLabel: options.softLabel,
    };
    return {
      name: 'dice',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const { probs, target } = checkProbsAndTarget(owner, input, checks);
          return reduceClassTerms(owner, diceTerms(probs, target, terms), options, 'mean');
        }),
    };
  },
});

/** An option and its deprecated name: either, not both. */
function aliased(
  owner: LossOwner,
  name: string,
  value: number | undefined,
  oldName: string,
  oldValue: number | undefined,
): number | undefined {
  if (value !== undefined && oldValue !== undefined) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `${describeOwner(owner)}: options '${name}' and '${oldName}' (its old name) are both given; keep '${name}'`,
      {
        ...owner,
        option: oldName,
      },
    );
  }
  return value ?? oldValue;
}
