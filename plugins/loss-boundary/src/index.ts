/**
 * Boundary loss (Kervadec et al., MIDL 2019): mean over pixels and foreground classes of p * phi, phi the signed
 * distance map of each class (`boundary`; or the Region-wise authors' `boundary-rw` variant). The maps come
 * precomputed from the data loader, channels-last [B, ...spatial, K]. It is the region-wise loss with that map.
 */
import { definePlugin, defineLoss, lossVocabulary, mapWeightedLoss, PLUGIN_API_VERSION, z } from '@rwseg/core/plugin';

const PLUGIN = '@rwseg/plugin-loss-boundary';

const boundary = defineLoss({
  name: 'boundary',
  description: "Kervadec's boundary loss: mean of probs * signed distance map over the foreground classes",
  options: z.object({
    ...lossVocabulary(false),
    map: z
      .enum(['boundary', 'boundary-rw'])
      .default('boundary')
      .describe("'boundary': -(EDT(y) - 1) inside, EDT(1 - y) outside; 'boundary-rw': -EDT(y) inside"),
    classes: z
      .array(z.number().int().nonnegative())
      .min(1)
      .optional()
      .describe('class indices to include (overrides includeBackground)'),
  }),
  // The region-wise loss over the signed distance map: only its defaults (no background) and name differ.
  create: (options, tools) =>
    mapWeightedLoss({ loss: 'boundary', plugin: PLUGIN }, tools, options.map, {}, options, 'map'),
});

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: 'Boundary loss',
  losses: [boundary],
});
