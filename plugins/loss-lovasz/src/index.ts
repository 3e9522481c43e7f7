/**
 * Lovász-softmax loss (Berman, Rannen Triki & Blaschko, "The Lovász-Softmax loss: A tractable surrogate for the
 * optimization of the intersection-over-union measure in neural networks", CVPR 2018), as
 * segmentation_models_pytorch's LovaszLoss in multiclass mode. Softmax probabilities and a one-hot target (or class
 * indices), channels-last [B, ...spatial, K]. Per class k over a group of pixels (the whole batch, or each image
 * with `perImage`): loss_k = sum_i |y_ik - p_ik| w_ik, w the Lovász weights (lovasz.ts). smp's default averages the
 * classes present in the group's target (`onlyPresent`, smp's classes='present'); an absent class would otherwise
 * score its largest probability. This reads probs and target back to the CPU once per call (the sort).
 */
import {
  checkProbsAndTarget,
  definePlugin,
  defineLoss,
  lossVocabulary,
  PLUGIN_API_VERSION,
  reduceClassTerms,
  spatialSum,
  tf,
  z,
  type LossOwner,
} from '@rwseg/core/plugin';
import { lovaszWeights } from './lovasz.js';

export { lovaszWeights } from './lovasz.js';

const PLUGIN = '@rwseg/plugin-loss-lovasz';

/** Terms [groups, K]: per group (1, or B with perImage) and class, sum_i |y - p| w; and which classes are present. */
export function lovaszTerms(
  probs: tf.Tensor,
  target: tf.Tensor,
  perImage: boolean,
): { terms: tf.Tensor; present: tf.Tensor } {
  return tf.tidy(() => {
    const numClasses = probs.shape[probs.rank - 1]!;
    const groups = perImage ? probs.shape[0]! : 1;
    const errors = tf.abs(tf.sub(target, probs));
    const targetValues = target.dataSync();
    const weights = tf.tensor(
      lovaszWeights(errors.dataSync(), targetValues, groups, numClasses),
      probs.shape,
      'float32',
    );
    const grouped = (x: tf.Tensor): tf.Tensor => tf.reshape(x, [groups, -1, numClasses]);
    const terms = spatialSum(grouped(tf.mul(errors, weights)));
    const present = tf.cast(tf.greater(spatialSum(grouped(target)), 0), 'float32');
    return { terms, present };
  });
}

const lovasz = defineLoss({
  name: 'lovasz-softmax',
  description: 'Lovász-softmax (Berman 2018): the Lovász extension of the Jaccard loss per class, as smp LovaszLoss',
  options: z.object({
    ...lossVocabulary(true),
    perImage: z
      .boolean()
      .default(false)
      .describe('one loss per image, averaged (smp per_image); false pools the batch'),
    onlyPresent: z
      .boolean()
      .default(true)
      .describe("average only the classes present in the target (smp classes='present')"),
  }),
  create: (options) => {
    const owner: LossOwner = { loss: 'lovasz-softmax', plugin: PLUGIN };
    return {
      name: 'lovasz-softmax',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const { probs, target } = checkProbsAndTarget(owner, input, options);
          const { terms, present } = lovaszTerms(probs, target, options.perImage);
          if (!options.onlyPresent) return reduceClassTerms(owner, terms, options, 'mean');
          const kept = reduceClassTerms(owner, tf.mul(terms, present), { ...options, reduction: 'none' }, 'mean');
          if (options.reduction !== 'mean') return options.reduction === 'sum' ? tf.sum(kept) : kept;
          // smp: the mean over the present classes of each group (0 when none is present), then over groups.
          const counts = reduceClassTerms(owner, present, { ...options, weight: undefined, reduction: 'none' }, 'mean');
          return tf.mean(tf.div(tf.sum(kept, 1), tf.maximum(tf.sum(counts, 1), 1)));
        }),
    };
  },
});

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: 'Lovász-softmax loss (Berman et al. 2018)',
  losses: [lovasz],
});
