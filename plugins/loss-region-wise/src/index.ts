/**
 * Region-wise loss (Valverde & Tohka, Pattern Recognition 2023): L = mean over b, k, i of p * z, z a map
 * computed from the label by any registered map generator (rrw, rw-class-balance, boundary, boundary-rw,
 * active-contour or a third-party one). Tensors are channels-last [B, ...spatial, K]. The default mean divides
 * by B * K * N as the authors' code does, so that Equal combinations weigh as in the paper.
 */
import {
  definePlugin,
  defineLoss,
  lossVocabulary,
  mapWeightedLoss,
  PLUGIN_API_VERSION,
  z,
  type ClassReductionOptions,
  type InputCheckOptions,
  type LossDefinition,
  type LossFactoryTools,
  type Loss,
} from '@rwseg/core/plugin';

const PLUGIN = '@rwseg/plugin-loss-region-wise';

const mapOptionsOption = z
  .record(z.string(), z.unknown())
  .default({})
  .describe("options of the map generator, validated by that map's schema");

/** `mapOption` names the option that chose the map, when the user did (generic region-wise). */
function regionWiseLoss(
  name: string,
  map: string,
  mapOptions: Record<string, unknown>,
  options: ClassReductionOptions & InputCheckOptions,
  tools: LossFactoryTools,
  mapOption?: string,
): Loss {
  return mapWeightedLoss({ loss: name, plugin: PLUGIN }, tools, map, mapOptions, options, mapOption);
}

const generic = defineLoss({
  name: 'region-wise',
  description: 'Region-wise loss mean_{b,k,i} p * z over any registered map (option map) with that map’s options',
  options: z.object({
    ...lossVocabulary(true),
    map: z.string().min(1).default('rrw').describe('name of a registered map generator'),
    mapOptions: mapOptionsOption,
  }),
  create: (options, tools) => regionWiseLoss('region-wise', options.map, options.mapOptions, options, tools, 'map'),
});

/** A region-wise loss bound to one map: the names users reach for first. */
function namedRegionWise(name: string, map: string, description: string): LossDefinition {
  return defineLoss({
    name,
    description,
    options: z.object({ ...lossVocabulary(true), mapOptions: mapOptionsOption }),
    create: (options, tools) => regionWiseLoss(name, map, options.mapOptions, options, tools),
  });
}

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: 'Region-wise loss over any RW map; rrw is the paper’s rectified map',
  losses: [
    generic,
    namedRegionWise('rrw', 'rrw', 'Region-wise loss with the rectified RW map (the paper’s proposal)'),
    namedRegionWise(
      'rw-class-balance',
      'rw-class-balance',
      'Region-wise loss with the class-balance RW map (mapOptions.weights per class)',
    ),
  ],
});
