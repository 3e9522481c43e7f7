// One backend's side of the train-step benchmark: builds the benchmark U-Net in TF.js layers, runs warm-up and
// timed training steps (forward, softmax + soft Dice loss, backward, Adam), prints one JSON line on stdout.
// Usage: node bench/train-step-tfjs.mjs --backend wasm [--batch 4] [--size 256] [--base 16] [--depth 4]
//        [--steps 5] [--warmup 2] [--stock-kernels] [--profile] [--workers 2] [--product-threads N]
//        [--dims 3 --size 32|40x56x40 --classes 3]
// --dims 3: rwseg's own 3D U-Net, buildUNet({ dims: 3, depth, baseFilters: base, numClasses: classes,
// normalization: 'instance' }) (depth = levels, bottleneck included: depth 4 = three poolings), batch x size^3 x 1
// (or D x H x W), the same Dice loss and Adam. The 2D net below is the older benchmark net (batch norm, depth =
// poolings) kept so the 2D figures stay comparable.
// --product-threads N: the product's training step instead (rwseg's trainStep: the trainer's code path, with its
// AdamW and gradient clipping at 12, the registry's Dice loss pooled over the batch as below), over N compute
// threads through the trainer's data-parallel workers (training.threads N; 1 = the training thread alone).
// --workers N: data-parallel prototype (docs/backends.md, "Using both cores"): N worker threads, each with its own
// backend and batch/N samples, gradients averaged on the main thread, the same Adam step applied in every worker.
import {
  createRegistry,
  tf,
  useBackend,
  describeBackend,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  setWinogradEnabled,
} from '@rwseg/core';
import { buildLoss } from '@rwseg/core/losses';
import { AdamW, buildUNet, GradientWorkers, lossAndGradients, trainStep } from '@rwseg/core/training';
import * as tfl from '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const { values: opt } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '4' },
    size: { type: 'string', default: '256' },
    base: { type: 'string', default: '16' },
    depth: { type: 'string', default: '4' },
    classes: { type: 'string', default: '2' },
    dims: { type: 'string', default: '2' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    'stock-kernels': { type: 'boolean', default: false },
    // The direct 3D convolution kernels where Winograd would run (this thread only: not the product's workers).
    'direct-conv3d': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
    'product-threads': { type: 'string' },
  },
  args: isMainThread ? process.argv.slice(2) : workerData.argv,
});
const workers = Number(opt.workers);
if (isMainThread && workers > 1) {
  await runDataParallel(workers);
  process.exit(0);
}
const rank = isMainThread ? 0 : workerData.rank;
const [batch, base, depth, classes, steps, warmup, dims] = [
  'batch',
  'base',
  'depth',
  'classes',
  'steps',
  'warmup',
  'dims',
].map((k) => Number(opt[k]));
/** Spatial shape: '256' (square / cube) or 'DxHxW'. */
const spatial = opt.size.includes('x')
  ? opt.size.split('x').map(Number)
  : Array.from({ length: dims }, () => Number(opt.size));
if (spatial.length !== dims || spatial.some((v) => !Number.isInteger(v) || v <= 0))
  throw new Error(`--size ${opt.size} is not a ${dims}D size`);
const size = opt.size;
const spatialAxes = Array.from({ length: dims + 1 }, (_, i) => i);

await useBackend(opt.backend);
if (opt['direct-conv3d']) setWinogradEnabled(false);
if (opt['stock-kernels']) {
  // Stock wasm kernels, except the filter gradient wasm lacks (without it nothing trains).
  unregisterWasmTrainingKernels();
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: WASM_TRAINING_KERNELS.Conv2DBackpropFilter,
  });
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
  if (dims === 3)
    return buildUNet(
      { dims: 3, depth, baseFilters: base, numClasses: classes, normalization: 'instance', activation: 'leaky-relu' },
      spatial,
    );
  const input = tfl.input({ shape: [...spatial, 1] });
  const skips = [];
  let x = input;
  for (let level = 0; level < depth; level++) {
    x = block(x, base * 2 ** level);
    skips.push(x);
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x);
  }
  x = block(x, base * 2 ** depth);
  for (let level = depth - 1; level >= 0; level--) {
    x = tfl.layers
      .conv2dTranspose({ filters: base * 2 ** level, kernelSize: 2, strides: 2, padding: 'valid' })
      .apply(x);
    x = tfl.layers.concatenate({ axis: -1 }).apply([skips[level], x]);
    x = block(x, base * 2 ** level);
  }
  const logits = tfl.layers.conv2d({ filters: classes, kernelSize: 1 }).apply(x);
  return tfl.model({ inputs: input, outputs: tfl.layers.softmax({ axis: -1 }).apply(logits) });
}

/** 1 - mean over classes of the soft Dice (sums over batch and pixels), as in the PyTorch twin. */
function diceLoss(probs, target) {
  const axes = spatialAxes;
  const intersection = tf.sum(tf.mul(probs, target), axes);
  const denominator = tf.add(tf.sum(probs, axes), tf.sum(target, axes));
  const dice = tf.div(tf.add(tf.mul(intersection, 2), 1e-5), tf.add(denominator, 1e-5));
  return tf.sub(1, tf.mean(dice));
}

const localBatch = isMainThread ? batch : batch / workers;
const model = unet();
const params = model.countParams();
const optimizer = tf.train.adam(1e-3);
const x = tf.randomNormal([localBatch, ...spatial, 1], 0, 1, 'float32', 1 + 10 * rank);
const labels = tf.tidy(() =>
  tf.cast(tf.greater(tf.randomUniform([localBatch, ...spatial], 0, 1, 'float32', 2 + 10 * rank), 0.7), 'int32'),
);
const y = tf.tidy(() => tf.cast(tf.oneHot(labels, classes), 'float32'));

function step() {
  const loss = optimizer.minimize(() => diceLoss(model.apply(x, { training: true }), y), true);
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

if (opt['product-threads'] !== undefined) {
  await runProductStep(Number(opt['product-threads']));
  process.exit(0);
}

if (!isMainThread) {
  await serveWorker();
} else {
  for (let i = 0; i < warmup; i++) step();
  const times = [];
  const cpuTimes = [];
  let lastLoss = NaN;
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    lastLoss = step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
  }
  let profile;
  if (opt.profile) {
    const byKernel = new Map();
    const info = await tf.profile(() => {
      step();
    });
    for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + k.kernelTimeMs);
    profile = [...byKernel]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([name, ms]) => ({ name, ms: Math.round(ms) }));
  }
  const sorted = [...times].sort((a, b) => a - b);
  const description = describeBackend();
  console.log(
    JSON.stringify({
      framework: 'tfjs',
      backend: opt.backend + (opt['stock-kernels'] ? ' (stock kernels)' : ''),
      details: description?.details,
      params,
      batch,
      size,
      base,
      depth,
      dims,
      msPerStep: sorted[Math.floor(sorted.length / 2)],
      minMs: sorted[0],
      times: times.map(Math.round),
      // CPU time of this process (one compute thread on wasm): less sensitive than wall time to other processes.
      cpuMsPerStep: [...cpuTimes].sort((a, b) => a - b)[Math.floor(cpuTimes.length / 2)],
      lastLoss,
      profile,
      maxRssMiB: peakRssMiB(),
    }),
  );
}

/** Worker side of the data-parallel prototype: gradients out, averaged gradients in, the same Adam step. */
async function serveWorker() {
  const variables = model.trainableWeights.map((w) => w.read());
  if (rank === 0)
    parentPort.postMessage({ type: 'weights', weights: model.getWeights().map((w) => w.dataSync().slice()) });
  parentPort.on('message', (message) => {
    if (message.type === 'weights') {
      model.setWeights(model.getWeights().map((w, i) => tf.tensor(message.weights[i], w.shape)));
      parentPort.postMessage({ type: 'ready' });
    } else if (message.type === 'step') {
      const { value, grads } = tf.variableGrads(() => diceLoss(model.apply(x, { training: true }), y), variables);
      const flat = tf.tidy(() => tf.concat(variables.map((v) => tf.reshape(grads[v.name], [-1]))));
      const data = flat.dataSync().slice();
      tf.dispose([flat, value, ...Object.values(grads)]);
      parentPort.postMessage({ type: 'grads', grads: data, loss: 0 }, [data.buffer]);
    } else if (message.type === 'apply') {
      const named = {};
      let offset = 0;
      for (const v of variables) {
        named[v.name] = tf.tensor(message.grads.subarray(offset, offset + v.size), v.shape);
        offset += v.size;
      }
      optimizer.applyGradients(named);
      tf.dispose(Object.values(named));
      parentPort.postMessage({ type: 'applied' });
    } else if (message.type === 'exit') {
      process.exit(0);
    }
  });
}

async function runDataParallel(count) {
  const pool = Array.from(
    { length: count },
    (_, r) => new Worker(new URL(import.meta.url), { workerData: { rank: r, argv: process.argv.slice(2) } }),
  );
  const next = (worker, type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.type === type) {
          worker.off('message', onMessage);
          resolve(message);
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  const { weights } = await next(pool[0], 'weights');
  await Promise.all(
    pool.map((w) => {
      w.postMessage({ type: 'weights', weights });
      return next(w, 'ready');
    }),
  );
  const step = async () => {
    const replies = await Promise.all(
      pool.map((w) => {
        const reply = next(w, 'grads');
        w.postMessage({ type: 'step' });
        return reply;
      }),
    );
    const mean = replies[0].grads;
    for (let r = 1; r < replies.length; r++) {
      const g = replies[r].grads;
      for (let i = 0; i < mean.length; i++) mean[i] += g[i];
    }
    for (let i = 0; i < mean.length; i++) mean[i] /= replies.length;
    await Promise.all(
      pool.map((w) => {
        const reply = next(w, 'applied');
        w.postMessage({ type: 'apply', grads: mean });
        return reply;
      }),
    );
  };
  const warmupSteps = Number(opt.warmup);
  for (let i = 0; i < warmupSteps; i++) await step();
  const times = [];
  const cpuTimes = [];
  for (let i = 0; i < Number(opt.steps); i++) {
    const c0 = process.cpuUsage(); // covers every thread of the process, workers included
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
  }
  for (const w of pool) w.postMessage({ type: 'exit' });
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      framework: 'tfjs',
      backend: `${opt.backend} x ${count} workers (data-parallel)`,
      batch: Number(opt.batch),
      size: opt.size,
      msPerStep: sorted[Math.floor(sorted.length / 2)],
      minMs: sorted[0],
      times: times.map(Math.round),
      cpuMsPerStep: [...cpuTimes].sort((a, b) => a - b)[Math.floor(cpuTimes.length / 2)],
      maxRssMiB: peakRssMiB(),
    }),
  );
}

/** The product's step (trainStep over `threads` compute threads) on the same model and batch, timed as above. */
async function runProductStep(threads) {
  // The bench's soft Dice: one Dice per class pooled over batch and pixels, smoothing 1e-5 above and below.
  const lossConfig = { loss: 'dice', options: { batch: true, smooth: 1e-5, smoothNumerator: 1e-5 } };
  const loss = buildLoss(await createRegistry({ packageJson: false }), lossConfig);
  const variables = model.trainableWeights.map((w) => w.read());
  const optimizer = new AdamW(variables, { weightDecay: 0 });
  const labelData = labels.dataSync();
  const sample = {
    size: batch,
    image: x.dataSync().slice(),
    channels: 1,
    numClasses: classes,
    spacing: spatial.map(() => 1),
    scales: [{ shape: spatial, labels: Int32Array.from(labelData), target: y.dataSync().slice(), maps: {} }],
    caseIds: Array.from({ length: batch }, (_, i) => `random-${i}`),
  };
  const workers = threads > 1 ? await GradientWorkers.start(model, [1], { threads, loss: lossConfig }) : undefined;
  const gradients = workers
    ? (b, ctx) => workers.lossAndGradients(model, loss, b, ctx)
    : (b, ctx) => lossAndGradients(model, loss, b, ctx);
  let iteration = 0;
  const step = async () =>
    (
      await trainStep(loss, optimizer, sample, {
        epoch: 0,
        iteration: iteration++,
        lr: 1e-3,
        clipNorm: 12,
        dsWeights: [1],
        variables,
        gradients,
      })
    ).loss;
  for (let i = 0; i < warmup; i++) await step();
  const times = [];
  const cpuTimes = [];
  let lastLoss = NaN;
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage(); // covers every thread of the process, workers included
    const t0 = performance.now();
    lastLoss = await step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
  }
  await workers?.close();
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      framework: 'tfjs',
      backend: `${opt.backend}, rwseg trainStep, ${threads} thread(s)`,
      details: describeBackend()?.details,
      params,
      batch,
      size,
      base,
      depth,
      dims,
      msPerStep: sorted[Math.floor(sorted.length / 2)],
      minMs: sorted[0],
      times: times.map(Math.round),
      cpuMsPerStep: [...cpuTimes].sort((a, b) => a - b)[Math.floor(cpuTimes.length / 2)],
      lastLoss,
      maxRssMiB: peakRssMiB(),
    }),
  );
}

/** Peak resident memory of this process (worker threads included), MiB: Linux reports maxRSS in KiB. */
function peakRssMiB() {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
