/**
 * Tiny in-memory training material for the trainer tests: bright disks on noise (2 classes), a BatchSource over
 * them, and a soft-Dice + cross-entropy loss registered the way a plugin would register it.
 */
import {
  buildUNet,
  defineLoss,
  definePlugin,
  PLUGIN_API_VERSION,
  PluginRegistry,
  createRandom,
  tf,
  z,
  type Batch,
  type BatchSource,
  type Loss,
  type Random,
  type ValidationCase,
} from '../../src/index.js';

/** One image [H, W] and its labels: a disk of random center and radius, intensity 1 + noise inside, noise outside. */
export function diskCase(rng: Random, h: number, w: number): { image: Float32Array; labels: Int32Array } {
  const cy = 3 + rng.next() * (h - 6);
  const cx = 3 + rng.next() * (w - 6);
  const r = 2 + rng.next() * Math.min(h, w) * 0.2;
  const image = new Float32Array(h * w);
  const labels = new Int32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = (y - cy) ** 2 + (x - cx) ** 2 <= r * r;
      labels[y * w + x] = inside ? 1 : 0;
      image[y * w + x] = (inside ? 1 : 0) + 0.3 * (rng.next() - 0.5);
    }
  }
  return { image, labels };
}

export function oneHot(labels: Int32Array, k: number): Float32Array {
  const out = new Float32Array(labels.length * k);
  labels.forEach((l, i) => (out[i * k + l] = 1));
  return out;
}

/** A batch of B disk patches; `maps` adds named map arrays (e.g. to inject NaN). */
export function diskBatch(
  seed: number,
  size: number,
  patch: [number, number],
  maps: Record<string, (n: number) => Float32Array> = {},
): Batch {
  const rng = createRandom(seed);
  const n = patch[0] * patch[1];
  const image = new Float32Array(size * n);
  const labels = new Int32Array(size * n);
  for (let b = 0; b < size; b++) {
    const c = diskCase(rng, patch[0], patch[1]);
    image.set(c.image, b * n);
    labels.set(c.labels, b * n);
  }
  return {
    size,
    image,
    channels: 1,
    numClasses: 2,
    spacing: [1, 1],
    scales: [
      {
        shape: patch,
        labels,
        target: oneHot(labels, 2),
        maps: Object.fromEntries(Object.entries(maps).map(([k, f]) => [k, f(size * n * 2)])),
      },
    ],
    caseIds: Array.from({ length: size }, (_, b) => `disk-${seed}-${b}`),
  };
}

/** Fresh random batches per call, seeded: the same seed gives the same stream. */
export function diskSource(seed: number, size: number, patch: [number, number]): BatchSource {
  const rng = createRandom(seed);
  return { next: async () => diskBatch(rng.int(2 ** 31), size, patch), close: async () => {} };
}

export function diskValidationCases(seed: number, count: number, shape: [number, number]): ValidationCase[] {
  const rng = createRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const c = diskCase(rng, shape[0], shape[1]);
    return {
      id: `val-${i}`,
      image: { data: c.image, shape, spacing: [1, 1] },
      labels: { data: c.labels, shape, spacing: [1, 1] },
    };
  });
}

const softDiceCe = defineLoss({
  name: 'test-dice-ce',
  description: 'soft Dice + cross-entropy, for trainer tests',
  options: z.object({ map: z.string().optional() }),
  create: ({ map }) => ({
    name: 'test-dice-ce',
    requiredMaps: map ? [{ map, options: {}, key: map }] : [],
    compute: ({ probs, target, maps }) =>
      tf.tidy(() => {
        const axes = [0, 1, 2];
        const inter = tf.sum(tf.mul(probs, target), axes);
        const denom = tf.add(tf.sum(probs, axes), tf.sum(target, axes));
        const dice = tf.sub(1, tf.mean(tf.div(tf.add(tf.mul(inter, 2), 1e-5), tf.add(denom, 1e-5))));
        const ce = tf.neg(tf.mean(tf.sum(tf.mul(target, tf.log(tf.add(probs, 1e-7))), -1)));
        const weighted = map ? tf.mean(tf.mul(probs, maps[map]!)) : tf.scalar(0);
        return tf.add(tf.add(dice, ce), weighted);
      }),
  }),
});

export function testLoss(options: Record<string, unknown> = {}): Loss {
  const registry = new PluginRegistry();
  registry.register(
    definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'test-losses', losses: [softDiceCe] }),
    'test',
  );
  return registry.createLoss('test-dice-ce', options);
}

export const TINY_UNET = {
  dims: 2 as const,
  depth: 2,
  baseFilters: 4,
  numClasses: 2,
  normalization: 'batch' as const,
  seed: 1,
};

/** The run the kill/resume test does in a child process and again in the test process. */
export function childTrainingOptions(outDir: string, epochs: number, resume: boolean | string) {
  return {
    model: buildUNet(TINY_UNET, [16, 16]),
    loss: testLoss(),
    openData: (_epoch: number, seed: number) => diskSource(seed, 2, [16, 16]),
    epochs,
    iterationsPerEpoch: 3,
    learningRate: 0.01,
    weightDecay: 1e-4,
    seed: 5,
    outDir,
    resume,
  };
}
