/** Small shared pieces of the overlap losses' tests: a registry with this plugin, random cases, comparisons. */
import { PluginRegistry, tf } from '@rwseg/core';
import { createRandom } from '@rwseg/core/data';
import plugin from '../src/index.js';

export function overlapRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  registry.register(plugin, plugin.name);
  return registry;
}

/** Random logits [2, 3, 3, K] and a one-hot target of random labels, from rwseg's seeded PRNG. */
export function randomCase(seed: number, numClasses = 3) {
  const random = createRandom(seed);
  const count = 2 * 9;
  const labels = Array.from({ length: count }, () => Math.floor(random.next() * numClasses));
  const target = tf.cast(
    tf.reshape(tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses), [2, 3, 3, numClasses]),
    'float32',
  );
  const logits = tf.tensor(
    Array.from({ length: count * numClasses }, () => (random.next() - 0.5) * 3),
    [2, 3, 3, numClasses],
  );
  return { labels, target, logits, probs: tf.softmax(logits) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export const scalar = (t: tf.Tensor): number => t.dataSync()[0]!;
