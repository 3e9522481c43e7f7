#!/usr/bin/env node
// Inference time of a U-Net-sized model exported by @rwseg/tfjs-to-onnx, in onnxruntime-node (CPU EP), against
// TF.js predict on the wasm and cpu backends: same model, same input, same process. Build first (`npx tsc -b`).
//   node bench/onnx-inference.mjs [--batch 4] [--size 128] [--base 16] [--depth 4] [--runs 5] [--cpu-runs 2]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import { checkParity, convertLayersModel } from '@rwseg/tfjs-to-onnx';
import { benchUNet } from './bench-unet.mjs';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '4' },
    size: { type: 'string', default: '128' },
    base: { type: 'string', default: '16' },
    depth: { type: 'string', default: '4' },
    runs: { type: 'string', default: '5' },
    'cpu-runs': { type: 'string', default: '2' },
  },
});
const [batch, size, base, depth, runs, cpuRuns] = ['batch', 'size', 'base', 'depth', 'runs', 'cpu-runs'].map((k) =>
  Number(values[k]),
);
tf.env().set('PROD', true);

const unet = () => benchUNet(tfl, { depth, base });

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(n, fn) {
  await fn(); // warm-up: kernel compilation, allocation
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { medianMs: median(ms), runs: n };
}

await tf.setBackend('cpu');
const model = unet();
const input = tf.randomNormal([batch, size, size, 1], 0, 1, 'float32', 42);
const { bytes } = convertLayersModel(model);
const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
const feeds = { input: new ort.Tensor('float32', input.dataSync(), input.shape) };

const results = {};
results.onnxruntimeCpu = await time(runs, () => session.run(feeds));
for (const backend of ['wasm', 'cpu']) {
  if (!(await tf.setBackend(backend))) {
    results[`tfjs_${backend}`] = { error: 'backend failed to initialize' };
    continue;
  }
  await tf.ready();
  results[`tfjs_${backend}`] = await time(backend === 'cpu' ? cpuRuns : runs, async () => {
    const y = model.predict(input);
    await y.data();
    y.dispose();
  });
}
// Same run, same input: the two engines must agree, or the timing compares different work.
await tf.setBackend('wasm');
const parity = await checkParity(model, bytes, { inputs: [[input]], randomCases: 0 });

const params = model.countParams();
console.log(
  `U-Net depth ${depth}, base ${base} filters, ${(params / 1e6).toFixed(2)} M parameters, input [${input.shape}], ONNX ${(bytes.length / 1e6).toFixed(1)} MB`,
);
console.log(`max abs error onnx vs tfjs ${parity.maxAbsError.toExponential(2)}`);
const ort_ = results.onnxruntimeCpu.medianMs;
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(16)} ${r.error ?? `${r.medianMs.toFixed(0).padStart(7)} ms median of ${r.runs}  (${(r.medianMs / ort_).toFixed(2)}x onnxruntime)`}`,
  );
}
console.log(
  JSON.stringify({
    bench: 'onnx-inference',
    batch,
    size,
    depth,
    base,
    params,
    results,
    maxAbsError: parity.maxAbsError,
  }),
);
await session.release();
