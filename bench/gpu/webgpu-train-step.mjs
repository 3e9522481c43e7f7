#!/usr/bin/env node
// Milliseconds per training step (forward, backward, Adam update, loss read back) of the benchmark U-Net on the
// TF.js webgpu backend, per batch size. The net is the probe U-Net of @rwseg/tfjs-training-backends/testing (2D,
// batch norm, leakyRelu; bench/gpu/torch_unet.py builds the same one in PyTorch). Prints one JSON line per batch size.
// Usage (after `npx tsc -b`): node bench/gpu/webgpu-train-step.mjs [--batches 4,16,64] [--size 256] [--base 16]
//   [--depth 4] [--steps 5] [--warmup 2] [--allow-software] [--backend webgpu|cpu|wasm]
import { parseArgs } from 'node:util';
import { describeWebGpuAdapter, disposeWebGpuBackend, initWebGpuBackend, tf, useBackend } from '@rwseg/core';
import { probeUnetForward, probeUnetLoss, probeUnetWeights } from '@rwseg/tfjs-training-backends/testing';

const { values: a } = parseArgs({
  options: {
    batches: { type: 'string', default: '4,16,64' },
    size: { type: 'string', default: '256' },
    base: { type: 'string', default: '16' },
    depth: { type: 'string', default: '4' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'webgpu' },
    'allow-software': { type: 'boolean', default: false },
  },
});
const spec = { inChannels: 1, classes: 2, base: Number(a.base), depth: Number(a.depth) };
const size = Number(a.size);

if (a.backend === 'webgpu') await initWebGpuBackend({ allowSoftwareAdapter: a['allow-software'] });
else await useBackend(a.backend);
const adapter = describeWebGpuAdapter();

const weights = Object.fromEntries(
  Object.entries(probeUnetWeights(spec, 1)).map(([k, t]) => [k, tf.variable(t, true, k)]),
);
const parameters = Object.values(weights).reduce((n, v) => n + v.size, 0);

for (const batch of a.batches.split(',').map(Number)) {
  const row = { what: `tfjs-${a.backend}`, batch, size, base: spec.base, depth: spec.depth, parameters };
  const optimizer = tf.train.adam(1e-3);
  const images = tf.randomUniform([batch, size, size, 1]);
  const oneHot = tf.oneHot(tf.reshape(tf.cast(tf.greater(images, 0.5), 'int32'), [batch, size, size]), 2);
  try {
    const step = async () => {
      const loss = optimizer.minimize(
        () => probeUnetLoss(probeUnetForward(spec, weights, images), oneHot),
        true,
        Object.values(weights),
      );
      const value = (await loss.data())[0];
      loss.dispose();
      return value;
    };
    for (let i = 0; i < Number(a.warmup); i++) await step();
    const start = performance.now();
    let loss = 0;
    for (let i = 0; i < Number(a.steps); i++) loss = await step();
    row.msPerStep = Number(((performance.now() - start) / Number(a.steps)).toFixed(1));
    row.steps = Number(a.steps);
    row.finalLoss = loss;
  } catch (error) {
    row.error = String(error?.message ?? error).slice(0, 300);
  }
  optimizer.dispose();
  tf.dispose([images, oneHot]);
  console.log(JSON.stringify({ ...row, adapter }));
}
tf.dispose(Object.values(weights));
await disposeWebGpuBackend();
