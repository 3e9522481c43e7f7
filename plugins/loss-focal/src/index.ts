/**
 * Focal loss (Lin et al. 2017) on softmax probabilities, channels-last [B, ...spatial, K]. Parity with the
 * Region-wise authors' code: mean over b, i of -sum_k alpha (1 - p + 1e-15)^gamma y log(p + 1e-15).
 */
import {
  definePlugin,
  defineLoss,
  lossVocabulary,
  checkPerClass,
  checkProbsAndTarget,
  classCount,
  reduceClassTerms,
  spatialMean,
  PLUGIN_API_VERSION,
  tf,
  z,
  type LossOwner,
} from '@rwseg/core/plugin';

const PLUGIN = '@rwseg/plugin-loss-focal';
const EPSILON = 1e-15;

/** Per-(sample, class) terms [B, K]; `alpha` is one number or one per class. */
export function focalTerms(
  probs: tf.Tensor,
  target: tf.Tensor,
  gamma: number,
  alpha: number | readonly number[],
): tf.Tensor {
  return tf.tidy(() => {
    const modulation = tf.pow(tf.add(tf.sub(1, probs), EPSILON), gamma);
    const perPixel = tf.neg(tf.mul(tf.mul(modulation, target), tf.log(tf.add(probs, EPSILON))));
    const scale = typeof alpha === 'number' ? tf.scalar(alpha) : tf.tensor1d([...alpha], 'float32');
    return tf.mul(spatialMean(perPixel), scale);
  });
}

const focal = defineLoss({
  name: 'focal',
  description: 'Focal loss mean_{b,i} -sum_k alpha_k (1 - p + 1e-15)^gamma y log(p + 1e-15)',
  options: z.object({
    ...lossVocabulary(true),
    gamma: z.number().nonnegative().default(2).describe('focusing parameter; 0 gives cross-entropy'),
    alpha: z
      .union([z.number().nonnegative(), z.array(z.number().nonnegative()).min(1)])
      .default(1)
      .describe('balance factor: one number, or one per class (length K)'),
  }),
  create: (options) => {
    const owner: LossOwner = { loss: 'focal', plugin: PLUGIN };
    return {
      name: 'focal',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const { probs, target } = checkProbsAndTarget(owner, input, options);
          if (Array.isArray(options.alpha)) checkPerClass(owner, 'alpha', options.alpha, classCount(probs));
          return reduceClassTerms(owner, focalTerms(probs, target, options.gamma, options.alpha), options, 'sum');
        }),
    };
  },
});

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: 'Focal loss',
  losses: [focal],
});
