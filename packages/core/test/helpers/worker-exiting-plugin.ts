/**
 * A third-party loss plugin whose code ends the worker thread it runs in (process.exit inside a worker_threads
 * worker ends that thread only), once: at the first step of epoch `dieAtEpoch` or later, if the file `marker` does
 * not exist yet; it writes the marker first, so the resumed run trains through. The stand-in for a native addon or
 * an out-of-memory abort killing a data-parallel gradient worker mid-step. Loaded by path in the tests.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { defineLoss, definePlugin, PLUGIN_API_VERSION, tf, z } from '../../src/index.js';

const exitingLoss = defineLoss({
  name: 'test-worker-exits',
  description: 'soft Dice over all classes; ends its worker thread once, at epoch dieAtEpoch',
  options: z.object({ marker: z.string(), dieAtEpoch: z.number().int().nonnegative().default(1) }),
  create: ({ marker, dieAtEpoch }) => ({
    name: 'test-worker-exits',
    requiredMaps: [],
    compute: ({ probs, target, context }) => {
      if (!isMainThread && context.epoch >= dieAtEpoch && !existsSync(marker)) {
        writeFileSync(marker, `worker thread ended at epoch ${context.epoch}\n`);
        process.exit(7);
      }
      return tf.tidy(() => {
        const inter = tf.sum(tf.mul(probs, target));
        return tf.sub(1, tf.div(tf.mul(inter, 2), tf.add(tf.sum(probs), tf.sum(target))));
      });
    },
  }),
});

export default definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'test-worker-exiting', losses: [exitingLoss] });
