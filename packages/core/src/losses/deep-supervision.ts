/**
 * Deep supervision (nnU-Net): the same loss on each decoder output, full resolution first, weighted 1/2^i with
 * the lowest resolution weighted 0, normalized to sum 1. Targets and maps at each scale come from the data
 * loader (ScaleTargets in data/batch.ts), computed from the nearest-downsampled label: this wrapper only
 * consumes them.
 */
import { RwsegError } from '../errors.js';
import type { Batch } from '../data/batch.js';
import type { LossContext, Loss, LossInput, MapRequest } from '../plugins/api.js';
import { tf } from '../tf.js';
import { weightedSum } from './weighted-sum.js';

export interface DeepSupervisionOptions {
  /** Number of outputs, scale 0 = full resolution, scale i = 1/2^i. */
  readonly scales: number;
  /** One non-negative weight per scale; normalized to sum 1. Default: nnU-Net's. */
  readonly weights?: readonly number[];
}

export interface DeepSupervisedLoss {
  readonly name: string;
  readonly requiredMaps: readonly MapRequest[];
  readonly scales: number;
  /** Normalized weights, one per scale. */
  readonly weights: readonly number[];
  /**
   * One input per scale, scale 0 first; each input's probs, target and maps are at that scale. `onScale` sees each
   * scale's loss (scales weighted 0 are not computed).
   */
  compute(inputs: readonly LossInput[], onScale?: (scale: number, value: tf.Scalar) => void): tf.Tensor;
}

/** nnU-Net's weights: 1/2^i, the lowest resolution 0 (when there is more than one scale), normalized. */
export function deepSupervisionWeights(scales: number): number[] {
  const raw = Array.from({ length: scales }, (_, i) => (scales > 1 && i === scales - 1 ? 0 : 1 / 2 ** i));
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / total);
}

export function deepSupervision(loss: Loss, options: DeepSupervisionOptions): DeepSupervisedLoss {
  const { scales } = options;
  if (!Number.isInteger(scales) || scales < 1) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `deep supervision of loss '${loss.name}': option 'scales' must be an integer >= 1, got ${scales}`,
      { option: 'scales' },
    );
  }
  const nonScalar = (i: number, shape: readonly number[]) =>
    new RwsegError(
      'INVALID_INPUT',
      `deep supervision of loss '${loss.name}': scale ${i} gave shape [${shape.join(', ')}]; use reduction mean or sum`,
      { scale: i },
    );
  const weights =
    options.weights === undefined ? deepSupervisionWeights(scales) : normalized(loss.name, options.weights, scales);
  return {
    name: `deep-supervision(${loss.name})`,
    requiredMaps: loss.requiredMaps,
    scales,
    weights,
    compute(inputs: readonly LossInput[], onScale?: (scale: number, value: tf.Scalar) => void): tf.Tensor {
      if (inputs.length !== scales) {
        throw new RwsegError(
          'INVALID_INPUT',
          `deep supervision of loss '${loss.name}': expected ${scales} inputs (one per scale), got ${inputs.length}`,
          { scales, inputs: inputs.length },
        );
      }
      return tf.tidy(() => weightedSum(weights, (i) => loss.compute(inputs[i]!), nonScalar, onScale));
    },
  };
}

function normalized(name: string, weights: readonly number[], scales: number): number[] {
  const fail = (problem: string): never => {
    throw new RwsegError('INVALID_OPTIONS', `deep supervision of loss '${name}': option 'weights' ${problem}`, {
      option: 'weights',
    });
  };
  if (weights.length !== scales) fail(`has ${weights.length} values but there are ${scales} scales`);
  if (weights.some((w) => !Number.isFinite(w) || w < 0)) fail('must be finite and non-negative');
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) fail('must not all be zero');
  return weights.map((w) => w / total);
}

/**
 * The loss inputs of a batch, one per scale: `probs[i]` is the network output at scale i, [B, ...shape_i, K];
 * target and maps are wrapped from `batch.scales[i]` (maps by key, only those `requiredMaps` names). The tensors
 * are new: call inside tf.tidy (or dispose them) once the step is done.
 */
export function batchLossInputs(
  batch: Batch,
  probs: readonly tf.Tensor[],
  requiredMaps: readonly MapRequest[],
  context: LossContext,
): LossInput[] {
  if (probs.length > batch.scales.length) {
    throw new RwsegError(
      'INVALID_INPUT',
      `the network gives ${probs.length} outputs but the batch holds targets for ${batch.scales.length} scales`,
      {
        outputs: probs.length,
        scales: batch.scales.length,
      },
    );
  }
  return probs.map((p, i) => {
    const scale = batch.scales[i]!;
    const shape = [batch.size, ...scale.shape, batch.numClasses];
    const maps: Record<string, tf.Tensor> = {};
    for (const request of requiredMaps) {
      const data = scale.maps[request.key];
      if (data === undefined) {
        throw new RwsegError(
          'INVALID_INPUT',
          `batch scale ${i} lacks map '${request.map}' (key ${request.key}); the loader computes the maps in loss.requiredMaps`,
          {
            scale: i,
            map: request.key,
          },
        );
      }
      maps[request.key] = tf.tensor(data, shape, 'float32');
    }
    return { probs: p, target: tf.tensor(scale.target, shape, 'float32'), maps, context };
  });
}
