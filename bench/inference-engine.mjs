// The inference engine's own cost (window placement, gathering windows, Gaussian-weighted float32 accumulation,
// normalization of the sum), with a predictor that returns fixed probabilities so the model's time is left out,
// beside the time TF.js (wasm) takes for one batch of the same windows with the bench U-Net.
// Usage: node bench/inference-engine.mjs [--size 512] [--patch 128] [--slices 32] [--repeats 3]
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '@rwseg/core';
import { predictProbabilities, TfjsWindowPredictor, planWindows } from '@rwseg/core/inference';
import { benchUNet } from './bench-unet.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg('size', 512);
const patch = arg('patch', 128);
const slices = arg('slices', 32);
const repeats = arg('repeats', 3);
const classes = 3;

/** A predictor whose probabilities are fixed: what remains is the engine. */
const fixed = {
  inputWindow: [patch, patch],
  channels: 1,
  async predict(_windows, count) {
    return { data: new Float32Array(count * patch * patch * classes).fill(1 / classes), classes };
  },
};

async function best(fn) {
  let t = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await fn();
    t = Math.min(t, performance.now() - start);
  }
  return t;
}

const rows = [];
for (const shape of [
  [size, size],
  [slices, size, size],
]) {
  const image = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
  const plan = planWindows(fixed, shape, 1, { patch: [patch, patch] });
  const windows = plan.starts.length * plan.slices;
  const ms = await best(() => predictProbabilities(fixed, image, shape, 1, { patch: [patch, patch], batchSize: 4 }));
  const mvox = image.length / 1e6;
  rows.push({
    shape: shape.join('x'),
    windows,
    engineMs: ms.toFixed(1),
    msPerWindow: (ms / windows).toFixed(2),
    msPerMvoxel: (ms / mvox).toFixed(1),
  });
}

await useBackend('wasm');
const net = new TfjsWindowPredictor(benchUNet(tfl, { depth: 4, base: 16, classes }));
const batch = new Float32Array(4 * patch * patch).map((_, i) => Math.sin(i));
await net.predict(batch, 4, [patch, patch]);
const modelMs = await best(() => net.predict(batch, 4, [patch, patch]));
console.table(rows);
console.log(
  `TF.js wasm, bench U-Net depth 4 base 16: ${(modelMs / 4).toFixed(1)} ms per ${patch}x${patch} window (batch of 4)`,
);
