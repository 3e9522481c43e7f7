/**
 * Cross-entropy and weighted cross-entropy on softmax probabilities, channels-last [B, ...spatial, K].
 * Parity with the Region-wise authors' code: CE = -mean over b, i of sum_k y log(p + 1e-15).
 * With `sigmoid` (multi-label targets: each channel its own binary region), the binary cross-entropy
 * -mean over b, k, i of [y log(p + 1e-15) + (1 - y) log(1 - p + 1e-15)], averaged over channels as torch's BCELoss.
 */
import {
  definePlugin,
  defineLoss,
  lossVocabulary,
  checkProbsAndTarget,
  reduceClassTerms,
  sigmoidOption,
  spatialMean,
  targetLayoutOf,
  PLUGIN_API_VERSION,
  tf,
  z,
  type LossOwner,
} from '@rwseg/core/plugin';

const PLUGIN = '@rwseg/plugin-loss-cross-entropy';
/** The authors' guard against log(0). */
export const LOG_EPSILON = 1e-15;

/** Per-(sample, class) terms [B, K]: mean over pixels of -y log(p + 1e-15). Their sum over k is the CE. */
export function crossEntropyTerms(probs: tf.Tensor, target: tf.Tensor): tf.Tensor {
  return tf.tidy(() => spatialMean(tf.neg(tf.mul(target, tf.log(tf.add(probs, LOG_EPSILON))))));
}

/** Binary cross-entropy terms [B, K] of per-channel sigmoid probabilities: their mean over b and k is the BCE. */
export function binaryCrossEntropyTerms(probs: tf.Tensor, target: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const positive = tf.mul(target, tf.log(tf.add(probs, LOG_EPSILON)));
    const negative = tf.mul(tf.sub(1, target), tf.log(tf.add(tf.sub(1, probs), LOG_EPSILON)));
    return spatialMean(tf.neg(tf.add(positive, negative)));
  });
}

/**
 * Inverse class frequency in the batch target, "balanced" form: w_k = N / (K * max(n_k, 1)), N the number of
 * pixels in the batch and n_k those of class k. Classes of equal size all get 1; an absent class gets N / K,
 * but it contributes nothing to CE (its y is 0 everywhere). Returns [K], a constant for the gradient.
 */
export function classFrequencyWeights(target: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const numClasses = target.shape[target.shape.length - 1]!;
    const counts = tf.sum(tf.reshape(target, [-1, numClasses]), 0);
    const pixels = target.size / numClasses;
    return tf.div(pixels / numClasses, tf.maximum(counts, 1));
  });
}

const crossEntropy = defineLoss({
  name: 'cross-entropy',
  description: 'Cross-entropy -mean_{b,i} sum_k w_k y log(p + 1e-15) (softmax), or binary cross-entropy with sigmoid',
  options: z.object({
    ...lossVocabulary(true),
    sigmoid: sigmoidOption.describe(
      'per-channel sigmoid probabilities and a multi-label target: binary cross-entropy, averaged over channels',
    ),
  }),
  create: (options) => {
    const owner: LossOwner = { loss: 'cross-entropy', plugin: PLUGIN };
    const checks = {
      validateInputs: options.validateInputs,
      layout: targetLayoutOf(options.sigmoid),
    };
    return {
      name: 'cross-entropy',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const { probs, target } = checkProbsAndTarget(owner, input, checks);
          if (options.sigmoid) return reduceClassTerms(owner, binaryCrossEntropyTerms(probs, target), options, 'mean');
          return reduceClassTerms(owner, crossEntropyTerms(probs, target), options, 'sum');
        }),
    };
  },
});

const weightedCrossEntropy = defineLoss({
  name: 'weighted-cross-entropy',
  description:
    "Cross-entropy with per-class weights: given (one per class), or 'frequency' = N / (K * n_k) from the batch target",
  options: z.object({
    ...lossVocabulary(true),
    weight: z
      .union([z.array(z.number().nonnegative()).min(1), z.literal('frequency')])
      .default('frequency')
      .describe("one weight per class (length K), or 'frequency': w_k = N / (K * max(n_k, 1)) from the batch target"),
  }),
  create: (options) => {
    const owner: LossOwner = { loss: 'weighted-cross-entropy', plugin: PLUGIN };
    return {
      name: 'weighted-cross-entropy',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const { probs, target } = checkProbsAndTarget(owner, input, options);
          const terms = crossEntropyTerms(probs, target);
          const { weight } = options;
          if (weight !== 'frequency') return reduceClassTerms(owner, terms, { ...options, weight }, 'sum');
          const weighted = tf.mul(terms, classFrequencyWeights(target));
          return reduceClassTerms(owner, weighted, { ...options, weight: undefined }, 'sum');
        }),
    };
  },
});

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: 'Cross-entropy and weighted cross-entropy',
  losses: [crossEntropy, weightedCrossEntropy],
});
