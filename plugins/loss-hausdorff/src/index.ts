/**
 * Hausdorff distance-transform loss (Karimi & Salcudean, "Reducing the Hausdorff Distance in Medical Image
 * Segmentation with Convolutional Neural Networks", IEEE TMI 39(2) 2020), as MONAI's HausdorffDTLoss. Tensors are
 * channels-last [B, ...spatial, K]: softmax probabilities with a one-hot target (or class indices), or, with
 * `sigmoid`, per-channel sigmoid probabilities and a multi-label target. Per (b, k):
 *   term = mean_i (p_i - y_i)^2 (d_p,i^alpha + d_y,i^alpha)
 * with d_p and d_y the distance fields (distance-field.ts) of p > 0.5 and y > 0.5. The fields are computed here
 * from the tensors, not taken from the map registry: the prediction's changes every step, and a multi-label
 * target cannot be written as the integer label map that map generators take. This reads probs and target back
 * to the CPU once per call (a sync on a GPU backend). Gradients flow through (p - y)^2; the fields are constants.
 */
import {
  checkProbsAndTarget,
  definePlugin,
  defineLoss,
  lossVocabulary,
  PLUGIN_API_VERSION,
  reduceClassTerms,
  sigmoidOption,
  spatialMean,
  targetLayoutOf,
  tf,
  z,
  type LossOwner,
} from '@rwseg/core/plugin';
import { poweredDistanceFields } from './distance-field.js';

export { poweredDistanceFields } from './distance-field.js';

const PLUGIN = '@rwseg/plugin-loss-hausdorff';

/** Terms [B, K] (or [1, K] with `batch`): mean over voxels of (p - y)^2 (d_p^alpha + d_y^alpha). */
export function hausdorffDistanceTerms(probs: tf.Tensor, target: tf.Tensor, alpha: number, batch: boolean): tf.Tensor {
  return tf.tidy(() => {
    const shape = probs.shape;
    const fields = poweredDistanceFields(probs.dataSync(), shape, alpha);
    const targetFields = poweredDistanceFields(target.dataSync(), shape, alpha);
    for (let i = 0; i < fields.length; i++) fields[i]! += targetFields[i]!;
    const weighted = tf.mul(tf.square(tf.sub(probs, target)), tf.tensor(fields, shape, 'float32'));
    const terms = spatialMean(weighted);
    // Equal-sized samples: the mean over batch and voxels is the mean of the per-sample means.
    return batch ? tf.mean(terms, 0, true) : terms;
  });
}

const hausdorffDT = defineLoss({
  name: 'hausdorff-dt',
  description:
    "Karimi's Hausdorff distance-transform loss mean_i (p - y)^2 (d_p^alpha + d_y^alpha), as MONAI's HausdorffDTLoss",
  options: z.object({
    ...lossVocabulary(false),
    alpha: z.number().nonnegative().default(2).describe('power of the distances'),
    batch: z.boolean().default(false).describe("mean over the batch per class (reduction none gives [1, K'])"),
    sigmoid: sigmoidOption,
  }),
  create: (options) => {
    const owner: LossOwner = { loss: 'hausdorff-dt', plugin: PLUGIN };
    const checks = {
      validateInputs: options.validateInputs,
      layout: targetLayoutOf(options.sigmoid),
    };
    return {
      name: 'hausdorff-dt',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const { probs, target } = checkProbsAndTarget(owner, input, checks);
          return reduceClassTerms(
            owner,
            hausdorffDistanceTerms(probs, target, options.alpha, options.batch),
            options,
            'mean',
          );
        }),
    };
  },
});

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: 'Hausdorff distance-transform loss (Karimi & Salcudean 2020)',
  losses: [hausdorffDT],
});
