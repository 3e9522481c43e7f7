#!/usr/bin/env node
// What a self-contained ONNX export costs: the network alone, fed by a client that normalizes (core's
// normalizeChannels), zero-pads to the size grid, crops and takes the arg-max in JS, against the self-contained
// graph (normalization, padding, cropping and ArgMax inside) on the same raw image, in the same process
// (onnxruntime-node CPU EP). Build first (`npx tsc -b`).
//   node bench/self-contained.mjs [--height 250] [--width 330] [--base 16] [--depth 4] [--runs 7]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import { normalizeChannels } from '@rwseg/core/data';
import { convertLayersModel } from '@rwseg/tfjs-to-onnx';
import { benchUNet } from './bench-unet.mjs';

const { values } = parseArgs({
  options: {
    height: { type: 'string', default: '250' },
    width: { type: 'string', default: '330' },
    base: { type: 'string', default: '16' },
    depth: { type: 'string', default: '4' },
    runs: { type: 'string', default: '7' },
  },
});
const [height, width, base, depth, runs] = ['height', 'width', 'base', 'depth', 'runs'].map((k) => Number(values[k]));
tf.env().set('PROD', true);
await tf.setBackend('cpu');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// The two variants run interleaved, one of each per round, so a busy machine slows both alike.
async function timePair(fa, fb) {
  await fa(); // warm-up
  await fb();
  const [ma, mb] = [[], []];
  for (let i = 0; i < runs; i++) {
    for (const [fn, ms] of [
      [fa, ma],
      [fb, mb],
    ]) {
      const t0 = performance.now();
      await fn();
      ms.push(performance.now() - t0);
    }
  }
  return [median(ma), median(mb)];
}

const model = benchUNet(tfl, { depth, base });
const grid = 2 ** depth;
const raw = Float32Array.from({ length: height * width }, (_, i) => 400 + 120 * Math.sin(i * 0.013) + (i % 97));

// The client's share when the graph is the network alone (zeros split around the image as rwseg's inference).
const plain = await ort.InferenceSession.create(convertLayersModel(model).bytes, { executionProviders: ['cpu'] });
async function clientSide(normalization) {
  const data = Float32Array.from(raw);
  normalizeChannels(data, 1, { normalization });
  const [ph, pw] = [Math.ceil(height / grid) * grid, Math.ceil(width / grid) * grid];
  const [top, left] = [Math.floor((ph - height) / 2), Math.floor((pw - width) / 2)];
  const padded = new Float32Array(ph * pw);
  for (let y = 0; y < height; y++) padded.set(data.subarray(y * width, (y + 1) * width), (y + top) * pw + left);
  const out = (await plain.run({ input: new ort.Tensor('float32', padded, [1, ph, pw, 1]) }))['output'].data;
  const k = out.length / (ph * pw);
  const labels = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = ((y + top) * pw + x + left) * k;
      let best = 0;
      for (let c = 1; c < k; c++) if (out[o + c] > out[o + best]) best = c;
      labels[y * width + x] = best;
    }
  }
  return labels;
}

const rows = [];
for (const method of ['zscore', 'percentile']) {
  const bytes = convertLayersModel(model, { selfContained: { normalization: { method }, argmaxOutput: true } }).bytes;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const feeds = { input: new ort.Tensor('float32', raw, [1, height, width, 1]) };
  const [client, graph] = await timePair(
    () => clientSide(method),
    () => session.run(feeds),
  );
  const a = await clientSide(method);
  const b = (await session.run(feeds))['labels'].data;
  const differing = a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);
  const ratio = graph / client;
  rows.push({ method, clientSideMs: client, selfContainedMs: graph, ratio, differingLabels: differing });
  await session.release();
}
await plain.release();
console.log(JSON.stringify({ image: [height, width], grid, depth, base, runs, rows }, null, 2));
