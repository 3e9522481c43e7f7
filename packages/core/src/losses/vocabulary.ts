/**
 * The option vocabulary every loss shares (as MONAI does): `includeBackground`, a per-class `weight`,
 * `reduction`, and `validateInputs` (the value checks of input-checks.ts). Each loss computes one term per
 * (sample, class), a [B, K] tensor; `reduceClassTerms` then picks
 * the classes, applies the weights and reduces, so the three options mean the same thing for every loss.
 */
import { z } from 'zod';
import { RwsegError } from '../errors.js';
import { tf } from '../tf.js';

export type Reduction = 'mean' | 'sum' | 'none';

/** Which loss (and plugin) an error is about; every message starts with it. */
export interface LossOwner {
  readonly loss: string;
  readonly plugin: string;
}

export const reductionOption = z
  .enum(['mean', 'sum', 'none'])
  .default('mean')
  .describe(
    "'mean': the loss as the paper defines it; 'sum': sum of the per-sample-per-class terms; 'none': those terms, [B, K']",
  );

export const includeBackgroundOption = (byDefault: boolean) =>
  z.boolean().default(byDefault).describe('include class 0 (background) in the loss');

export const classWeightOption = z
  .array(z.number().nonnegative())
  .min(1)
  .optional()
  .describe(
    'one non-negative weight per class: length K, or K - 1 (foreground classes) when includeBackground is false;' +
      ' multiplies each class term',
  );

export const validateInputsOption = z
  .boolean()
  .default(true)
  .describe(
    'check that probs are finite and in [0, 1] and targets one-hot (or multi-label, soft), naming the first bad value',
  );

/** The shared options with a loss's own default for includeBackground. */
/** Multi-label mode, for the losses that can take it (input-checks.ts, targetLayoutOf). */
export const sigmoidOption = z
  .boolean()
  .default(false)
  .describe(
    'probs are per-channel sigmoids and the target multi-label: channels independent, may overlap (nnU-Net regions)',
  );

export function lossVocabulary(includeBackgroundDefault: boolean) {
  return {
    includeBackground: includeBackgroundOption(includeBackgroundDefault),
    weight: classWeightOption,
    reduction: reductionOption,
    validateInputs: validateInputsOption,
  };
}

export interface ClassReductionOptions {
  readonly reduction: Reduction;
  readonly includeBackground: boolean;
  readonly weight?: readonly number[] | undefined;
  /** Explicit class subset; overrides includeBackground when given. */
  readonly classes?: readonly number[] | undefined;
}

export function describeOwner(owner: LossOwner): string {
  return `loss '${owner.loss}' (plugin ${owner.plugin})`;
}

/** Number of classes K: the last axis of a channels-last tensor. */
export function classCount(tensor: tf.Tensor): number {
  return tensor.shape[tensor.shape.length - 1]!;
}

/** Throws unless a per-class option has exactly one entry per class. */
export function checkPerClass(owner: LossOwner, option: string, values: readonly number[], numClasses: number): void {
  if (values.length !== numClasses) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `${describeOwner(owner)}: option '${option}' has ${values.length} value${values.length === 1 ? '' : 's'} but the input has ${numClasses} classes (background included)`,
      { ...owner, option, length: values.length, numClasses },
    );
  }
}

/** The class indices a loss sums over: `classes` if given, else all or all but background. */
export function selectedClasses(
  owner: LossOwner,
  numClasses: number,
  includeBackground: boolean,
  classes?: readonly number[],
): number[] {
  if (classes !== undefined) {
    const bad = classes.filter((k) => !Number.isInteger(k) || k < 0 || k >= numClasses);
    if (bad.length > 0) {
      throw new RwsegError(
        'INVALID_OPTIONS',
        `${describeOwner(owner)}: option 'classes' names ${bad.join(', ')}, outside 0..${numClasses - 1} for ${numClasses} classes`,
        {
          ...owner,
          option: 'classes',
          numClasses,
        },
      );
    }
    return [...new Set(classes)];
  }
  const all = Array.from({ length: numClasses }, (_, k) => k);
  if (includeBackground) return all;
  if (numClasses < 2) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `${describeOwner(owner)}: includeBackground is false but the input has only ${numClasses} class`,
      {
        ...owner,
        option: 'includeBackground',
        numClasses,
      },
    );
  }
  return all.slice(1);
}

/**
 * Reduces per-sample-per-class terms [B, K]. `classAggregate` says how the paper's loss combines classes:
 * 'sum' for pixel-wise losses (CE, focal: sum over classes of -y log p), 'mean' for Dice and the map losses.
 * mean -> mean over samples of (sum | mean over the selected classes); sum -> sum over samples and selected
 * classes; none -> the weighted terms [B, K'] of the selected classes.
 */
export function reduceClassTerms(
  owner: LossOwner,
  terms: tf.Tensor,
  options: ClassReductionOptions,
  classAggregate: 'sum' | 'mean',
): tf.Tensor {
  return tf.tidy(() => {
    const numClasses = classCount(terms);
    const keep = selectedClasses(owner, numClasses, options.includeBackground, options.classes);
    let picked = pickColumns(terms, keep);
    if (options.weight !== undefined) {
      picked = tf.mul(picked, tf.tensor1d(selectedWeights(owner, options, numClasses, keep), 'float32'));
    }
    if (options.reduction === 'none') return picked;
    if (options.reduction === 'sum') return tf.sum(picked);
    return classAggregate === 'mean' ? tf.mean(picked) : tf.div(tf.sum(picked), picked.shape[0]!);
  });
}

/**
 * The weights of the kept classes. Length K is indexed by class; length K - 1 with includeBackground false (and no
 * explicit `classes`) by foreground class, as MONAI's DiceLoss takes it.
 */
function selectedWeights(
  owner: LossOwner,
  options: ClassReductionOptions,
  numClasses: number,
  keep: readonly number[],
): number[] {
  const weight = options.weight!;
  if (weight.length === numClasses) return keep.map((k) => weight[k]!);
  const foregroundOnly = !options.includeBackground && options.classes === undefined;
  if (foregroundOnly && weight.length === numClasses - 1) return keep.map((k) => weight[k - 1]!);
  throw new RwsegError(
    'INVALID_OPTIONS',
    `${describeOwner(owner)}: option 'weight' has ${weight.length} value${weight.length === 1 ? '' : 's'} but the input` +
      ` has ${numClasses} classes (background included); give ${numClasses}` +
      (foregroundOnly ? `, or ${numClasses - 1} for the foreground classes` : ''),
    { ...owner, option: 'weight', length: weight.length, numClasses },
  );
}

/**
 * Columns `keep` of [B, K] terms. Slices rather than tf.gather: gather's gradient needs UnsortedSegmentSum, which
 * the wasm backend lacks, and a loss must train on every backend.
 */
function pickColumns(terms: tf.Tensor, keep: readonly number[]): tf.Tensor {
  const numClasses = classCount(terms);
  const contiguous = keep.every((k, i) => i === 0 || k === keep[i - 1]! + 1);
  if (contiguous) return keep.length === numClasses ? terms : tf.slice(terms, [0, keep[0]!], [-1, keep.length]);
  return tf.concat(
    keep.map((k) => tf.slice(terms, [0, k], [-1, 1])),
    1,
  );
}

/** Mean over the spatial axes of a channels-last tensor [B, ...spatial, K] -> [B, K]. */
export function spatialMean(x: tf.Tensor): tf.Tensor {
  return tf.mean(tf.reshape(x, [x.shape[0]!, -1, classCount(x)]), 1);
}

/** Sum over the spatial axes [B, ...spatial, K] -> [B, K]. */
export function spatialSum(x: tf.Tensor): tf.Tensor {
  return tf.sum(tf.reshape(x, [x.shape[0]!, -1, classCount(x)]), 1);
}
