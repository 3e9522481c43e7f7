/**
 * Data-parallel training (training/data-parallel.ts) of a 3D U-Net on wasm with rwseg's 3D kernels: two compute
 * threads give the one-thread loss and gradients (instance norm is per sample, cross-entropy a mean over samples),
 * and the worker thread can differentiate conv3dTranspose (its gradient is registered per thread).
 */
import test from 'ava';
import {
  buildUNet,
  createRegistry,
  GradientWorkers,
  lossAndGradients,
  tf,
  useBackend,
  type Batch,
  type Loss,
} from '../../src/index.js';
import { seededValues } from '@rwseg/tfjs-training-backends/testing';

const PATCH = [8, 8, 4];
const CLASSES = 3;

test.before(async () => {
  await useBackend('wasm');
});

/** `size` samples of random images with labels from thresholds of a smoothed copy (all classes present). */
function randomBatch(size: number, seed: number): Batch {
  const voxels = PATCH.reduce((a, b) => a * b, 1);
  const image = seededValues(size * voxels, seed);
  const labels = new Int32Array(size * voxels);
  for (let i = 0; i < labels.length; i++) labels[i] = image[i]! < -0.3 ? 0 : image[i]! < 0.4 ? 1 : 2;
  const target = new Float32Array(labels.length * CLASSES);
  labels.forEach((l, i) => {
    target[i * CLASSES + l] = 1;
  });
  return {
    size,
    image,
    channels: 1,
    numClasses: CLASSES,
    spacing: [1, 1, 1],
    scales: [{ shape: PATCH, labels, target, maps: {} }],
    caseIds: Array.from({ length: size }, (_, i) => `case-${i}`),
  } as unknown as Batch;
}

const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);

test.serial('3D U-Net on wasm: two threads give the gradients of one (3 samples split 2 + 1)', async (t) => {
  const registry = await createRegistry({ packageJson: false });
  const loss: Loss = registry.createLoss('cross-entropy');
  const model = buildUNet(
    { dims: 3, depth: 2, baseFilters: 4, numClasses: CLASSES, normalization: 'instance', seed: 3 },
    PATCH,
  );
  t.true(
    model.layers.some((l) => l.getClassName() === 'Conv3DTranspose'),
    'the net up-samples with conv3dTranspose',
  );
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const batch = randomBatch(3, 17);
  const ctx = { epoch: 0, dsWeights: [1], variables };
  const single = await lossAndGradients(model, loss, batch, ctx);
  const workers = await GradientWorkers.start(model, [1], { threads: 2, loss: 'cross-entropy' });
  try {
    const parallel = await workers.lossAndGradients(model, loss, batch, ctx);
    const lossDiff = Math.abs(parallel.value - single.value);
    t.true(lossDiff <= 1e-5 * Math.abs(single.value), `loss ${parallel.value} vs ${single.value}`);
    parallel.grads.forEach((g, i) => {
      const scale = maxAbs(single.grads[i]!);
      t.true(scale > 0, `variable ${variables[i]!.name} has a gradient`);
      const diff = tf.tidy(() => maxAbs(tf.sub(g, single.grads[i]!)));
      t.true(diff <= 1e-5 * scale, `${variables[i]!.name}: max difference ${diff}, largest entry ${scale}`);
    });
    tf.dispose([...single.grads, ...parallel.grads]);
  } finally {
    await workers.close();
  }
  model.dispose();
});
