// One backend's side of the train-step benchmark: builds the benchmark U-Net in TF.js layers, runs warm-up and
// timed training steps (forward, softmax + soft Dice loss, backward, Adam), prints one JSON line on stdout.
// Usage: node bench/train-step-tfjs.mjs --backend wasm [--batch 4] [--size 256] [--base 16] [--depth 4]
//        [--steps 5] [--warmup 2] [--stock-kernels] [--profile]
import { tf, useBackend, describeBackend, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS } from '@rwseg/core';
import * as tfl from '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '4' },
    size: { type: 'string', default: '256' },
    base: { type: 'string', default: '16' },
    depth: { type: 'string', default: '4' },
    classes: { type: 'string', default: '2' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    'stock-kernels': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const [batch, size, base, depth, classes, steps, warmup] = ['batch', 'size', 'base', 'depth', 'classes', 'steps', 'warmup'].map((k) => Number(opt[k]));

await useBackend(opt.backend);
if (opt['stock-kernels']) {
  // Stock wasm kernels, except the filter gradient wasm lacks (without it nothing trains).
  unregisterWasmTrainingKernels();
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: WASM_TRAINING_KERNELS.Conv2DBackpropFilter });
}

/** conv3x3 (no bias) -> batch norm -> LeakyReLU(0.01), twice: the nnU-Net block. */
function block(x, filters) {
  for (let i = 0; i < 2; i++) {
    x = tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false }).apply(x);
    x = tfl.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }).apply(x);
    x = tfl.layers.leakyReLU({ alpha: 0.01 }).apply(x);
  }
  return x;
}

function unet() {
  const input = tfl.input({ shape: [size, size, 1] });
  const skips = [];
  let x = input;
  for (let level = 0; level < depth; level++) {
    x = block(x, base * 2 ** level);
    skips.push(x);
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x);
  }
  x = block(x, base * 2 ** depth);
  for (let level = depth - 1; level >= 0; level--) {
    x = tfl.layers.conv2dTranspose({ filters: base * 2 ** level, kernelSize: 2, strides: 2, padding: 'valid' }).apply(x);
    x = tfl.layers.concatenate({ axis: -1 }).apply([skips[level], x]);
    x = block(x, base * 2 ** level);
  }
  const logits = tfl.layers.conv2d({ filters: classes, kernelSize: 1 }).apply(x);
  return tfl.model({ inputs: input, outputs: tfl.layers.softmax({ axis: -1 }).apply(logits) });
}

/** 1 - mean over classes of the soft Dice (sums over batch and pixels), as in the PyTorch twin. */
function diceLoss(probs, target) {
  const axes = [0, 1, 2];
  const intersection = tf.sum(tf.mul(probs, target), axes);
  const denominator = tf.add(tf.sum(probs, axes), tf.sum(target, axes));
  const dice = tf.div(tf.add(tf.mul(intersection, 2), 1e-5), tf.add(denominator, 1e-5));
  return tf.sub(1, tf.mean(dice));
}

const model = unet();
const params = model.countParams();
const optimizer = tf.train.adam(1e-3);
const x = tf.randomNormal([batch, size, size, 1], 0, 1, 'float32', 1);
const labels = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([batch, size, size], 0, 1, 'float32', 2), 0.7), 'int32'));
const y = tf.tidy(() => tf.cast(tf.oneHot(labels, classes), 'float32'));

function step() {
  const loss = optimizer.minimize(() => diceLoss(model.apply(x, { training: true }), y), true);
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

for (let i = 0; i < warmup; i++) step();
const times = [];
let lastLoss = NaN;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  lastLoss = step();
  times.push(performance.now() - t0);
}
let profile;
if (opt.profile) {
  const byKernel = new Map();
  const info = await tf.profile(() => { step(); });
  for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + k.kernelTimeMs);
  profile = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, ms]) => ({ name, ms: Math.round(ms) }));
}
const sorted = [...times].sort((a, b) => a - b);
const description = describeBackend();
console.log(JSON.stringify({
  framework: 'tfjs',
  backend: opt.backend + (opt['stock-kernels'] ? ' (stock kernels)' : ''),
  details: description?.details,
  params, batch, size, base, depth,
  msPerStep: sorted[Math.floor(sorted.length / 2)],
  minMs: sorted[0],
  times: times.map(Math.round),
  lastLoss,
  profile,
}));
