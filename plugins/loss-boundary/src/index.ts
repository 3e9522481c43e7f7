/**
 * Boundary loss (Kervadec et al., MIDL 2019): mean over pixels and foreground classes of p * phi, phi the signed
 * distance map of each class (`boundary`; or the Region-wise authors' `boundary-rw` variant). The maps come
 * precomputed from the data loader, channels-last [B, ...spatial, K].
 */
import { definePlugin, defineLoss, lossVocabulary, checkProbsAndTarget, mapWeightedTerms, reduceClassTerms, requestMapOption, requiredMap, PLUGIN_API_VERSION, tf, z, type LossOwner } from '@rwseg/core';

const PLUGIN = '@rwseg/plugin-loss-boundary';

const boundary = defineLoss({
  name: 'boundary',
  description: "Kervadec's boundary loss: mean of probs * signed distance map over the foreground classes",
  options: z.object({
    ...lossVocabulary(false),
    map: z.enum(['boundary', 'boundary-rw']).default('boundary').describe("'boundary': -(EDT(y) - 1) inside, EDT(1 - y) outside; 'boundary-rw': -EDT(y) inside"),
    classes: z.array(z.number().int().nonnegative()).min(1).optional().describe('class indices to include (overrides includeBackground)'),
  }),
  create: (options, tools) => {
    const owner: LossOwner = { loss: 'boundary', plugin: PLUGIN };
    const request = requestMapOption(owner, tools, options.map, {}, 'map');
    return {
      name: 'boundary',
      requiredMaps: [request],
      compute: (input) =>
        tf.tidy(() => {
          const { probs } = checkProbsAndTarget(owner, input, options);
          return reduceClassTerms(owner, mapWeightedTerms(probs, requiredMap(owner, input, request)), options, 'mean');
        }),
    };
  },
});

export default definePlugin({ apiVersion: PLUGIN_API_VERSION, name: PLUGIN, description: 'Boundary loss', losses: [boundary] });
