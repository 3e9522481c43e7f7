/**
 * Shared by the loss tests: a brute-force reference for the RW maps (O(N^2) exact Euclidean distances, fine on
 * a few dozen pixels), registered as a test-local map plugin under the map names the losses request; the spec's
 * test vector (maps computed by scipy, fixtures/make_loss_maps.py); and the built-in loss plugins, loaded by
 * package name so the core never depends on them at build time.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BUILTIN_PLUGINS,
  createRandom,
  defineMap,
  definePlugin,
  PLUGIN_API_VERSION,
  PluginRegistry,
  tf,
  z,
  type LabelMapInput,
  type RwsegPlugin,
} from '../../src/index.js';

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
  const registry = new PluginRegistry();
  registry.register(referenceMapsPlugin, 'test reference maps');
  for (const plugin of await lossPlugins()) registry.register(plugin, plugin.name);
  for (const plugin of extra) registry.register(plugin, 'test');
  return registry;
}

/** Distance from each pixel with mask = 1 to the nearest pixel with mask = 0 (0 where mask = 0, Infinity if none). */
export function bruteForceEdt(
  mask: readonly boolean[],
  shape: readonly number[],
  spacing: readonly number[],
): Float64Array {
  const coords = (index: number): number[] => {
    const c: number[] = [];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      c.unshift(index % shape[axis]!);
      index = Math.floor(index / shape[axis]!);
    }
    return c;
  };
  const out = new Float64Array(mask.length);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const ci = coords(i);
    let best = Infinity;
    for (let j = 0; j < mask.length; j++) {
      if (mask[j]) continue;
      const cj = coords(j);
      best = Math.min(best, Math.hypot(...ci.map((v, a) => (v - cj[a]!) * spacing[a]!)));
    }
    out[i] = best;
  }
  return out;
}

type ChannelMap = (inside: boolean[], input: LabelMapInput, k: number) => number[];

function perClass(input: LabelMapInput, channel: ChannelMap): Float32Array {
  const n = input.labels.length;
  const out = new Float32Array(n * input.numClasses);
  for (let k = 0; k < input.numClasses; k++) {
    const inside = Array.from({ length: n }, (_, i) => input.labels[i] === k);
    const values = channel(inside, input, k);
    for (let i = 0; i < n; i++) out[i * input.numClasses + k] = values[i]!;
  }
  return out;
}

const present = (m: boolean[]): 'absent' | 'full' | 'partial' =>
  m.every((v) => !v) ? 'absent' : m.every((v) => v) ? 'full' : 'partial';

function rrwChannel(inside: boolean[], input: LabelMapInput, outside: number): number[] {
  const state = present(inside);
  if (state === 'absent') return inside.map(() => outside);
  if (state === 'full') return inside.map(() => -1);
  const d = bruteForceEdt(inside, input.shape, input.spacing);
  const max = Math.max(...d);
  return inside.map((y, i) => (y ? -d[i]! / max : outside));
}

function signedChannel(inside: boolean[], input: LabelMapInput, innerShift: number): number[] {
  if (present(inside) !== 'partial') return inside.map(() => 0);
  const din = bruteForceEdt(inside, input.shape, input.spacing);
  const dout = bruteForceEdt(
    inside.map((v) => !v),
    input.shape,
    input.spacing,
  );
  return inside.map((y, i) => (y ? -(din[i]! - innerShift) : dout[i]!));
}

export const referenceMapsPlugin = definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: 'test-reference-maps',
  maps: [
    defineMap({
      name: 'rrw',
      description: 'reference rrw',
      options: z.object({}),
      generate: (input) => perClass(input, (m) => rrwChannel(m, input, 1)),
    }),
    defineMap({
      name: 'rw-class-balance',
      description: 'reference class-balance map',
      options: z.object({ weights: z.array(z.number()).optional() }),
      generate: (input, { weights }) => perClass(input, (m, _, k) => rrwChannel(m, input, weights?.[k] ?? 1)),
    }),
    defineMap({
      name: 'boundary',
      description: 'reference boundary map',
      options: z.object({}),
      generate: (input) => perClass(input, (m) => signedChannel(m, input, 1)),
    }),
    defineMap({
      name: 'boundary-rw',
      description: 'reference boundary-rw map',
      options: z.object({}),
      generate: (input) => perClass(input, (m) => signedChannel(m, input, 0)),
    }),
    defineMap({
      name: 'active-contour',
      description: 'reference active-contour map',
      options: z.object({}),
      generate: (input) => perClass(input, (m) => m.map((y) => (y ? 0 : 1))),
    }),
  ],
});

export interface SpecVector {
  labels: number[];
  shape: number[];
  numClasses: number;
  maps: Record<'rrw' | 'boundary' | 'boundary-rw' | 'active-contour', number[]>;
}

export const SPEC: SpecVector = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../test/fixtures/loss-maps.json', import.meta.url)), 'utf8'),
) as SpecVector;

/** One-hot [B, ...shape, K] of B label maps. */
export function oneHot(
  labels: readonly (readonly number[])[],
  shape: readonly number[],
  numClasses: number,
): tf.Tensor {
  const data = new Float32Array(labels.length * labels[0]!.length * numClasses);
  labels.forEach((sample, b) => sample.forEach((label, i) => (data[(b * sample.length + i) * numClasses + label] = 1)));
  return tf.tensor(data, [labels.length, ...shape, numClasses]);
}

/** Maps of B label maps stacked to [B, ...shape, K] by a registry generator. */
export function mapsFor(
  registry: PluginRegistry,
  map: string,
  options: Record<string, unknown>,
  labels: readonly (readonly number[])[],
  shape: readonly number[],
  numClasses: number,
  spacing = shape.map(() => 1),
): tf.Tensor {
  const generator = registry.createMapGenerator(map, options);
  const parts = labels.map((l) => generator.generate({ labels: l, shape, numClasses, spacing }));
  const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.forEach((p, b) => data.set(p, b * p.length));
  return tf.tensor(data, [labels.length, ...shape, numClasses]);
}

/** Deterministic pseudo-random numbers from rwseg's one PRNG (data/random.ts) so tests never flake. */
export function seededRandom(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}

export function randomLabels(random: () => number, count: number, numClasses: number): number[] {
  return Array.from({ length: count }, () => Math.floor(random() * numClasses));
}

export function scalar(t: tf.Tensor): number {
  return t.dataSync()[0]!;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
