/**
 * Shared by core's loss tests: the built-in loss plugins, loaded by package name so the core never depends on them
 * at build time, with the brute-force reference maps of @rwseg/core/testing (src/testing/reference-maps.ts) and
 * the spec's test vector (src/testing/spec-vector.ts, maps computed by scipy), which the plugins' own tests share.
 */
import { BUILTIN_PLUGINS, tf, type PluginRegistry, type RwsegPlugin } from '../../src/index.js';
import { mapsFor, oneHot, randomLabels, referenceRegistry, seededRandom } from '../../src/entry/testing.js';

export {
  mapsFor,
  maxAbsDiff,
  oneHot,
  randomLabels,
  referenceMapsPlugin,
  scalar,
  seededRandom,
  SPEC_VECTOR as SPEC,
} from '../../src/entry/testing.js';

// The built-in loss packages (not the map ones: the tests register their brute-force maps instead), in load order.
export const LOSS_PLUGINS = BUILTIN_PLUGINS.filter((name) => name.startsWith('@rwseg/plugin-loss-'));

export async function lossPlugins(): Promise<RwsegPlugin[]> {
  const modules = await Promise.all(
    LOSS_PLUGINS.map((name: string) => import(name) as Promise<{ default: RwsegPlugin }>),
  );
  return modules.map((m) => m.default);
}

/** Each built-in loss with options that exercise its own code path. */
export const GRADIENT_CASES: readonly [string, Record<string, unknown>][] = [
  ['cross-entropy', {}],
  ['weighted-cross-entropy', {}],
  ['weighted-cross-entropy', { weight: [0.2, 1, 3] }],
  ['dice', {}],
  ['dice', { batch: true, includeBackground: false }],
  ['focal', {}],
  ['focal', { gamma: 0.5, alpha: [0.5, 1, 2] }],
  ['boundary', {}],
  ['boundary', { map: 'boundary-rw', includeBackground: true }],
  ['boundary', { classes: [2, 0] }],
  ['region-wise', { map: 'boundary' }],
  ['rrw', {}],
  ['rw-class-balance', { mapOptions: { weights: [0.9, 0.05, 0.05] } }],
  ['dice', { jaccard: true, squaredPred: true, preset: 'monai' }],
  ['generalized-dice', {}],
  ['tversky', { alpha: 0.3, beta: 0.7 }],
  ['focal-tversky', {}],
  ['hausdorff-dt', {}],
  // lovasz-softmax is left out: steps of 1e-2 reorder its sorted errors; its own test takes smaller steps.
  ['dc-and-ce', {}],
];

/** A loss with random logits [2, 3, 3, 3], labels, and the maps it asks for, for gradient checks. */
export function gradientCase(registry: PluginRegistry, name: string, options: Record<string, unknown>, seed: number) {
  const K = 3;
  const SHAPE = [3, 3];
  const random = seededRandom(seed);
  const labels = [randomLabels(random, 9, K), randomLabels(random, 9, K)];
  const target = oneHot(labels, SHAPE, K);
  const loss = registry.createLoss(name, options);
  const maps = Object.fromEntries(
    loss.requiredMaps.map((r) => [r.key, mapsFor(registry, r.map, r.options, labels, SHAPE, K)]),
  );
  const logits = tf.tensor(
    Array.from({ length: 2 * 9 * K }, () => (random() - 0.5) * 3),
    [2, ...SHAPE, K],
  );
  return { loss, logits, rest: { target, maps, context: { epoch: 0 } } };
}

/** A fresh registry with the loss plugins and the reference maps (plus `extra` plugins). */
export async function lossRegistry(...extra: RwsegPlugin[]): Promise<PluginRegistry> {
  const registry = referenceRegistry(...(await lossPlugins()));
  for (const plugin of extra) registry.register(plugin, 'test');
  return registry;
}
