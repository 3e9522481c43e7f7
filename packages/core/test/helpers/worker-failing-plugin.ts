/**
 * A third-party loss plugin that works in the training thread and throws in any worker thread: the data-parallel
 * tests' stand-in for a plugin whose dependency a worker cannot load. Loaded by path in the tests.
 */
import { isMainThread } from 'node:worker_threads';
import { defineLoss, definePlugin, PLUGIN_API_VERSION, tf, z } from '../../src/index.js';

const meanProbability = defineLoss({
  name: 'test-main-thread-only',
  description: 'mean of the probabilities times the target; throws outside the main thread',
  options: z.object({}),
  create: () => ({
    name: 'test-main-thread-only',
    requiredMaps: [],
    compute: ({ probs, target }) => {
      if (!isMainThread) throw new Error('native helper libfoo.so is not available in this thread');
      return tf.mean(tf.mul(probs, target));
    },
  }),
});

export default definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'test-worker-failing', losses: [meanProbability] });
