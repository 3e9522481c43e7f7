/**
 * Small pieces a loss's tests share: a registry with the reference maps, one-hot targets, maps stacked over a
 * batch, the spec vector's target, one loss evaluation at epoch 0, seeded random labels, and comparisons.
 */
import { createRandom } from '../data/random.js';
import type { RwsegPlugin } from '../plugins/api.js';
import { PluginRegistry } from '../plugins/registry.js';
import type { Loss } from '../plugins/api.js';
import { tf } from '../tf.js';
import { referenceMapsPlugin } from './reference-maps.js';
import { SPEC_VECTOR } from './spec-vector.js';

/** A fresh registry with the reference maps (reference-maps.ts) and `plugins` (a loss plugin under test). */
export function referenceRegistry(...plugins: RwsegPlugin[]): PluginRegistry {
  const registry = new PluginRegistry();
  registry.register(referenceMapsPlugin, 'test reference maps');
  for (const plugin of plugins) registry.register(plugin, plugin.name);
  return registry;
}

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

/**
 * B = 2 samples of 3 x 4 pixels: random labels (the last class absent from sample 1), a one-hot target [2, 3, 4, K]
 * and softmax probabilities of random logits, with `p` their values for brute-force references.
 */
export function randomLossCase(seed: number, numClasses = 3) {
  const random = seededRandom(seed);
  const labels = [randomLabels(random, 12, numClasses), randomLabels(random, 12, numClasses - 1)];
  const logits = tf.tensor(
    Array.from({ length: 2 * 12 * numClasses }, () => (random() - 0.5) * 4),
    [2, 3, 4, numClasses],
  );
  const probs = tf.softmax(logits);
  return { labels, target: oneHot(labels, [3, 4], numClasses), probs, p: probs.dataSync() };
}

/** The spec vector's labels one-hot, [1, ...SPEC_VECTOR.shape, K]. */
export function specTarget(): tf.Tensor {
  return oneHot([SPEC_VECTOR.labels], SPEC_VECTOR.shape, SPEC_VECTOR.numClasses);
}

/** How many labels hold each class 0..numClasses-1. */
export function classCounts(labels: readonly number[], numClasses: number): number[] {
  return Array.from({ length: numClasses }, (_, k) => labels.filter((l) => l === k).length);
}

/** The loss of `probs` against `target` with `maps` (by map key), at epoch 0. */
export function computeLoss(
  loss: Loss,
  probs: tf.Tensor,
  target: tf.Tensor,
  maps: Record<string, tf.Tensor> = {},
): tf.Tensor {
  return loss.compute({ probs, target, maps, context: { epoch: 0 } });
}
