/**
 * Tversky loss (Salehi et al., "Tversky loss function for image segmentation using 3D fully convolutional deep
 * networks", MLMI 2017) as MONAI's TverskyLoss, and the Focal Tversky loss (Abraham & Khan, "A novel focal Tversky
 * loss function with improved attention U-Net for lesion segmentation", ISBI 2019). Channels-last [B, ...spatial, K],
 * softmax + one-hot or, with `sigmoid`, a multi-label target. Per (b, k), with FP = P - TP and FN = Y - TP:
 *   TI = (TP + smoothNr) / (TP + alpha FP + beta FN + smoothDr)
 *   tversky: 1 - TI;   focal-tversky: (1 - TI)^(1 / gamma).
 * alpha weighs false positives and beta false negatives, as in MONAI (Abraham & Khan's alpha = 0.7 on FN is
 * beta = 0.7 here). alpha = beta = 0.5 is the Dice loss; alpha = beta = 1 the Jaccard loss.
 */
import {
  checkProbsAndTarget,
  defineLoss,
  lossVocabulary,
  reduceClassTerms,
  targetLayoutOf,
  tf,
  z,
  type LossOwner,
} from '@rwseg/core/plugin';
import { overlapStatistics, safeRatio } from './overlap.js';
import { monaiSmoothingOptions, overlapOptions, PLUGIN } from './shared-options.js';

export interface TverskyOptions {
  readonly alpha: number;
  readonly beta: number;
  readonly smoothNr: number;
  readonly smoothDr: number;
  readonly batch: boolean;
  readonly softLabel: boolean;
}

/** The Tversky index TI per (b, k): [B, K], or [1, K] with batch. */
export function tverskyIndex(probs: tf.Tensor, target: tf.Tensor, options: TverskyOptions): tf.Tensor {
  return tf.tidy(() => {
    const {
      truePositives: tp,
      predictionSize,
      targetSize,
    } = overlapStatistics(probs, target, { ...options, squaredPred: false });
    const falsePositives = tf.sub(predictionSize, tp);
    const falseNegatives = tf.sub(targetSize, tp);
    const denominator = tf.add(
      tf.add(tp, tf.add(tf.mul(falsePositives, options.alpha), tf.mul(falseNegatives, options.beta))),
      options.smoothDr,
    );
    return safeRatio(tf.add(tp, options.smoothNr), denominator);
  });
}

const FOCAL_FLOOR = 1e-12;

const tverskyShape = {
  ...lossVocabulary(true),
  ...monaiSmoothingOptions,
  ...overlapOptions,
};

function tverskyLoss(name: string, description: string, alphaDefault: number, betaDefault: number, focal: boolean) {
  return defineLoss({
    name,
    description,
    options: z.object({
      ...tverskyShape,
      alpha: z.number().nonnegative().default(alphaDefault).describe('weight of the false positives'),
      beta: z.number().nonnegative().default(betaDefault).describe('weight of the false negatives'),
      ...(focal
        ? {
            gamma: z
              .number()
              .positive()
              .default(4 / 3)
              .describe('focal parameter: the term is (1 - TI)^(1/gamma)'),
          }
        : {}),
    }),
    create: (options) => {
      const owner: LossOwner = { loss: name, plugin: PLUGIN };
      const checks = {
        validateInputs: options.validateInputs,
        layout: targetLayoutOf(options.sigmoid),
        softLabel: options.softLabel,
      };
      const exponent = focal ? 1 / (options as { gamma: number }).gamma : 1;
      return {
        name,
        requiredMaps: [],
        compute: (input) =>
          tf.tidy(() => {
            const { probs, target } = checkProbsAndTarget(owner, input, checks);
            const distance = tf.sub(1, tverskyIndex(probs, target, options));
            // (1 - TI)^(1/gamma) has an infinite slope at 0 (a perfect or saturated prediction, an absent class
            // predicted exactly 0): a floor of 1e-12 keeps the gradient finite and moves the value by < 1e-8.
            const terms = exponent === 1 ? distance : tf.pow(tf.maximum(distance, FOCAL_FLOOR), exponent);
            return reduceClassTerms(owner, terms, options, 'mean');
          }),
      };
    },
  });
}

export const tversky = tverskyLoss(
  'tversky',
  'Tversky loss 1 - (TP + smoothNr) / (TP + alpha FP + beta FN + smoothDr) (Salehi 2017)',
  0.5,
  0.5,
  false,
);
export const focalTversky = tverskyLoss(
  'focal-tversky',
  'Focal Tversky loss (1 - TI)^(1/gamma) (Abraham & Khan 2019), defaults alpha 0.3 (FP), beta 0.7 (FN), gamma 4/3',
  0.3,
  0.7,
  true,
);
