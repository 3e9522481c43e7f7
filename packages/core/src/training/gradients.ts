/**
 * One batch's loss and gradients, as the trainer's step and the data-parallel gradient workers both compute them:
 * the model in training mode, the loss on every deep-supervision head (fed the epoch, weighted by the heads'
 * weights), and the gradient of the weighted sum with respect to each trainable variable. Also the split of a
 * batch along its sample axis into shares for those workers.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Batch, ScaleTargets } from '../data/batch.js';
import { RwsegError } from '../errors.js';
import type { Loss } from '../plugins/api.js';
import { deepSupervision } from '../losses/deep-supervision.js';
import { tf } from '../tf.js';

export interface GradientContext {
  readonly epoch: number;
  /** Deep-supervision weights, one per model output, full resolution first. */
  readonly dsWeights: readonly number[];
  readonly variables: readonly tf.Variable[];
}

export interface LossAndGradients {
  /** Sum over heads of dsWeight x mean loss. */
  readonly value: number;
  /** Each head's mean loss (heads with weight 0 left out), to name the head that went non-finite. */
  readonly perScale: readonly number[];
  /** One gradient per variable, in `variables` order; zeros where the loss does not reach a variable. */
  readonly grads: tf.Tensor[];
}

export function checkBatchScales(batch: Batch, heads: number): void {
  if (batch.scales.length < heads) {
    throw new RwsegError(
      'INVALID_INPUT',
      `the model has ${heads} deep-supervision heads but batches carry ${batch.scales.length} scale(s); ask the data loader for ${heads} scales`,
      {},
    );
  }
}

// Every read is async: the webgpu backend has no synchronous read under Node.
export async function lossAndGradients(
  model: tfl.LayersModel,
  loss: Loss,
  batch: Batch,
  ctx: GradientContext,
): Promise<LossAndGradients> {
  checkBatchScales(batch, ctx.dsWeights.length);
  const spatial = batch.scales[0]!.shape;
  const image = tf.tensor(batch.image, [batch.size, ...spatial, batch.channels]);
  const scales = batch.scales.slice(0, ctx.dsWeights.length).map((s) => {
    const shape = [batch.size, ...s.shape, batch.numClasses];
    return {
      target: tf.tensor(s.target, shape),
      maps: Object.fromEntries(Object.entries(s.maps).map(([k, m]) => [k, tf.tensor(m, shape)])),
    };
  });
  const supervised = deepSupervision(loss, { scales: ctx.dsWeights.length, weights: ctx.dsWeights });
  const perScaleTensors: tf.Scalar[] = [];
  try {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(image, { training: true });
      const outputs = Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
      const inputs = outputs.map((probs, s) => ({
        probs,
        target: scales[s]!.target,
        maps: scales[s]!.maps,
        context: { epoch: ctx.epoch },
      }));
      return supervised.compute(inputs, (_, value) => perScaleTensors.push(tf.keep(value.clone()))) as tf.Scalar;
    }, ctx.variables as tf.Variable[]);
    const lossValue = (await value.data())[0]!;
    value.dispose();
    const perScale = await Promise.all(perScaleTensors.map(async (s) => (await s.data())[0]!));
    // A head whose deep-supervision weight is 0 gets no gradient at all: treat it as zero.
    return { value: lossValue, perScale, grads: ctx.variables.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
  } finally {
    tf.dispose([image, ...perScaleTensors, ...scales.flatMap((s) => [s.target, ...Object.values(s.maps)])]);
  }
}

/**
 * Splits a batch along its sample axis into `parts` contiguous shares as equal as possible (the first ones one
 * sample larger), every array and every deep-supervision scale alike. Fewer shares when the batch has fewer
 * samples than `parts`. The shares are views on the batch's buffers (subarray), not copies.
 */
export function splitBatch(batch: Batch, parts: number): Batch[] {
  const count = Math.max(1, Math.min(parts, batch.size));
  const bounds: number[] = [0];
  for (let p = 0; p < count; p++)
    bounds.push(bounds[p]! + Math.floor(batch.size / count) + (p < batch.size % count ? 1 : 0));
  const slice = <T extends Float32Array | Int32Array>(array: T, from: number, to: number): T => {
    const per = array.length / batch.size;
    return array.subarray(from * per, to * per) as T;
  };
  return Array.from({ length: count }, (_, p) => {
    const [from, to] = [bounds[p]!, bounds[p + 1]!];
    const scales = batch.scales.map((s): ScaleTargets => ({
      shape: s.shape,
      labels: slice(s.labels, from, to),
      target: slice(s.target, from, to),
      maps: Object.fromEntries(Object.entries(s.maps).map(([k, m]) => [k, slice(m, from, to)])),
    }));
    return {
      ...batch,
      size: to - from,
      image: slice(batch.image, from, to),
      scales,
      caseIds: batch.caseIds.slice(from, to),
    };
  });
}
