// A whole 3D training run through the Winograd path: the same tiny 3D U-Net (instance norm, transposed-conv
// up-sampling), same initial weights and batch, trained a few Adam steps on wasm (rwseg's kernels, Winograd for its
// 3x3x3 convolutions with >= 4 input channels) and on the cpu backend (the numerics oracle): the losses agree.
import test from 'ava';
import { buildUNet, tf, useBackend } from '../src/index.js';
import { conv3dForwardPath } from '../src/backends/wasm-kernels/conv3d.js';
import type { WasmBackend } from '../src/backends/wasm-kernels/stock.js';
import { seededValues } from './kernels-compare.js';

const PATCH = [8, 6, 8];
const CLASSES = 3;
const BATCH = 2;
const STEPS = 4;
const NET = { dims: 3 as const, depth: 2, baseFilters: 8, numClasses: CLASSES, normalization: 'instance' as const };

test.before(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
});

const voxels = PATCH.reduce((a, b) => a * b, 1);
const image = seededValues(BATCH * voxels, 7);
/** One-hot labels from thresholds of the image (every class present). */
const target = (() => {
  const out = new Float32Array(BATCH * voxels * CLASSES);
  image.forEach((v, i) => { out[i * CLASSES + (v < -0.3 ? 0 : v < 0.4 ? 1 : 2)] = 1; });
  return out;
})();

/** Soft Dice loss (mean over classes) of the softmax output, on the current backend. */
function diceLoss(probabilities: tf.Tensor, onehot: tf.Tensor): tf.Scalar {
  const axes = [0, 1, 2, 3];
  const overlap = tf.sum(tf.mul(probabilities, onehot), axes);
  const total = tf.add(tf.sum(probabilities, axes), tf.sum(onehot, axes));
  return tf.sub(1, tf.mean(tf.div(tf.mul(2, overlap), tf.add(total, 1e-5)))) as tf.Scalar;
}

/** Losses of STEPS Adam steps from `weights` on `backend`. */
async function lossCurve(backend: 'cpu' | 'wasm', weights: Float32Array[]): Promise<number[]> {
  await useBackend(backend);
  const model = buildUNet({ ...NET, seed: 1 }, PATCH);
  model.setWeights(weights.map((values, i) => tf.tensor(values, model.getWeights()[i]!.shape)));
  const x = tf.tensor5d(image, [BATCH, ...PATCH, 1] as never);
  const y = tf.tensor5d(target, [BATCH, ...PATCH, CLASSES] as never);
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const cost = optimizer.minimize(() => diceLoss(model.apply(x) as tf.Tensor, y), true)!;
    losses.push(cost.dataSync()[0]!);
    cost.dispose();
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return losses;
}

test.serial('a 3D U-Net trained on wasm with Winograd convolutions follows the cpu backend\'s loss curve', async (t) => {
  await useBackend('wasm');
  const model = buildUNet({ ...NET, seed: 1 }, PATCH);
  const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  // The net's 3x3x3 convolutions after the first (1 input channel) take the Winograd path.
  const backend = tf.backend() as unknown as WasmBackend;
  const paths = model.layers.filter((l) => l.getClassName() === 'Conv3D').map((l) => {
    const inShape = (l.input as unknown as { shape: (number | null)[] }).shape.map((s) => s ?? BATCH) as never;
    const kernel = (l.getWeights()[0]!).shape as never;
    return conv3dForwardPath(backend, tf.backend_util.computeConv3DInfo(inShape, kernel, 1, 1, 'same'));
  });
  model.dispose();
  t.true(paths.filter((p) => p === 'winograd').length >= 4, `Conv3D paths: ${paths.join(', ')}`);

  const cpu = await lossCurve('cpu', weights);
  const wasm = await lossCurve('wasm', weights);
  t.log(`cpu ${cpu.join(', ')}\nwasm ${wasm.join(', ')}`);
  t.true(cpu.at(-1)! < cpu[0]!, 'the loss falls');
  // Float32 differences between the backends' kernels (~1e-6 relative per op) grow through Adam's normalized steps;
  // measured: under 3e-7 relative over these 4 steps.
  for (let s = 0; s < STEPS; s++) {
    const relative = Math.abs(wasm[s]! - cpu[s]!) / Math.abs(cpu[s]!);
    t.true(relative < 1e-4, `step ${s}: wasm ${wasm[s]} vs cpu ${cpu[s]} (relative ${relative})`);
  }
});
