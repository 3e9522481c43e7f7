/**
 * Validation: whole cases through the inference engine (../inference: Gaussian-weighted sliding windows, slice by
 * slice for a 2D model on 3D cases; the same code `rwseg predict`, `rwseg evaluate` and the server's /segment
 * run), metrics per class per case, and NaN-aware means
 * (a class in one mask only has NaN distances, absent from both 0; means skip NaNs and report how many
 * values they used). The metric implementation is passed in (normally computeSegmentationMetrics from
 * ../metrics), so the trainer does not depend on how distances are computed. Optionally the training loss on
 * the same forward pass's windows (validation-loss.ts).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ClassMetrics, MetricsOptions } from '../metrics-api.js';
import { RwsegError } from '../errors.js';
import { nanSummary, summarizeClassMetrics, type ClassSummary } from '../metrics/summary.js';
import { spatialShapeOf, type Volume } from '../volume.js';
import { argmaxLabels, type LabelArray } from '../inference/labels.js';
import { predictProbabilities } from '../inference/probabilities.js';
import { TfjsWindowPredictor } from '../inference/tfjs-window-predictor.js';
import type { ValidationLoss } from './validation-loss.js';

export type MetricsFunction = (
  prediction: ArrayLike<number>,
  reference: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  options: MetricsOptions,
) => ClassMetrics[];

export interface ValidationCase {
  readonly id: string;
  /** Normalized image [...spatial, C] (channels-last; `channels` set when C > 1). */
  readonly image: Volume<Float32Array>;
  /** Integer labels over the same spatial shape. */
  readonly labels: Volume;
}

// Kept importable from here, where the trainer's results first used them.
export { nanSummary, type ClassSummary, type MetricSummary } from '../metrics/summary.js';

export interface ValidationCaseResult {
  readonly id: string;
  readonly metrics: readonly ClassMetrics[];
  /** The training loss on the case (validation-loss.ts), when validation computed it. */
  readonly loss?: number;
}

export interface ValidationResult {
  /** Mean over classes of the per-class mean Dice (foreground classes). */
  readonly meanDice: number;
  readonly classes: readonly ClassSummary[];
  readonly cases: readonly ValidationCaseResult[];
  /** Mean over cases of the training loss (validation-loss.ts), when validation computed it. */
  readonly loss?: number;
}

export function summarizeCases(cases: readonly ValidationCaseResult[]): ValidationResult {
  const classes = summarizeClassMetrics(cases.map((c) => c.metrics));
  const meanDice = nanSummary(classes.map((c) => c.dice.mean)).mean;
  const losses = cases.flatMap((c) => (c.loss === undefined ? [] : [c.loss]));
  // A plain mean: a non-finite case loss shows in the result rather than being skipped.
  const loss = losses.length > 0 ? losses.reduce((a, b) => a + b, 0) / losses.length : undefined;
  return { meanDice, classes, cases, ...(loss !== undefined ? { loss } : {}) };
}

export interface CasePrediction {
  readonly id: string;
  /** Class indices. */
  readonly labels: LabelArray;
  readonly shape: readonly number[];
}

export async function validate(
  model: tfl.LayersModel,
  cases: readonly ValidationCase[],
  options: {
    patch: readonly number[];
    overlap?: number;
    /** Windows per forward pass (the engine's default otherwise). */
    batchSize?: number;
    /** A 2D patch on 3D cases: the axis slices are predicted along. */
    sliceAxis?: number;
    numClasses: number;
    metrics: MetricsFunction;
    /** Called after each case with its index and id (the trainer's validation progress). */
    onCase?: (index: number, id: string) => void;
    /** Also compute the training loss on the cases, at this 0-based epoch (its schedule weights). */
    loss?: { readonly loss: ValidationLoss; readonly epoch: number };
  },
): Promise<{ result: ValidationResult; predictions: CasePrediction[] }> {
  const predictions: CasePrediction[] = [];
  const perCase: ValidationCaseResult[] = [];
  const modelChannels = model.inputs[0]!.shape.at(-1);
  const predictor = new TfjsWindowPredictor(model);
  for (const c of cases) {
    const channels = c.image.channels ?? 1;
    if (channels !== modelChannels) {
      const input = model.inputs[0]!.shape.slice(1).join(', ');
      const message =
        `case ${c.id}: its image has ${channels} channel(s) but the model takes ${modelChannels} ` +
        `(input [${input}])`;
      throw new RwsegError('INVALID_INPUT', message, { caseId: c.id, channels, modelChannels });
    }
    const shape = spatialShapeOf(c.image);
    const caseLoss = options.loss?.loss.forCase(
      { id: c.id, labels: c.labels.data, shape, spacing: c.image.spacing },
      options.loss.epoch,
    );
    const { probabilities, classes } = await predictProbabilities(predictor, c.image.data, shape, channels, {
      patch: options.patch,
      overlap: options.overlap,
      batchSize: options.batchSize,
      sliceAxis: options.sliceAxis,
      imageName: `validation case ${c.id}`,
      ...(caseLoss ? { onWindows: caseLoss.onWindows } : {}),
    });
    if (classes !== options.numClasses) {
      throw new RwsegError(
        'INVALID_INPUT',
        `the model predicts ${classes} classes; validation case ${c.id} has ${options.numClasses}`,
        { case: c.id },
      );
    }
    const labels = argmaxLabels(probabilities, classes);
    predictions.push({ id: c.id, labels, shape });
    perCase.push({
      id: c.id,
      metrics: options.metrics(labels, c.labels.data, shape, c.image.spacing, { numClasses: options.numClasses }),
      ...(caseLoss ? { loss: caseLoss.mean() } : {}),
    });
    options.onCase?.(perCase.length - 1, c.id);
  }
  return { result: summarizeCases(perCase), predictions };
}

/**
 * Dice alone, for when no distance metrics are wanted (distances are NaN). Dice of a class absent from both
 * prediction and reference is NaN, so it drops out of NaN-aware means instead of counting as perfect.
 */
export const diceOnlyMetrics: MetricsFunction = (prediction, reference, _shape, _spacing, options) => {
  const first = options.includeBackground ? 0 : 1;
  const out: ClassMetrics[] = [];
  for (let k = first; k < options.numClasses; k++) {
    let both = 0;
    let p = 0;
    let r = 0;
    for (let i = 0; i < prediction.length; i++) {
      const inP = prediction[i] === k;
      const inR = reference[i] === k;
      if (inP) p++;
      if (inR) r++;
      if (inP && inR) both++;
    }
    out.push({
      classIndex: k,
      dice: p + r === 0 ? Number.NaN : (2 * both) / (p + r),
      hd: Number.NaN,
      hd95: Number.NaN,
      assd: Number.NaN,
      nsd: Number.NaN,
    });
  }
  return out;
};
