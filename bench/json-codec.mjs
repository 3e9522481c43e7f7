#!/usr/bin/env node
// The server's JSON tensor codec against the JavaScript baselines, on the U-Net benchmark's tensors (a 1x64x64x1
// FP32 input, a 1x64x64x3 softmax output), alternating in one run. Build first (`npx tsc -b`).
//   node bench/json-codec.mjs [--size 64] [--rounds 20]
// decode: the request body (JSON text, as bytes) to the feeds' Float32Array: the server's splitBody + decodeRequest
//   (JSON.parse, then one loop into a pre-sized typed array with every check) against JSON.parse plus
//   Float32Array.from, the least any JSON reader can do in JavaScript.
// encode: the output tensor to the answer's bytes: float32ListBytes (the shortest float32 text, written as bytes)
//   against Buffer.from(JSON.stringify(Array.from(data))), and typed-array join.
import { parseArgs } from 'node:util';
import { decodeRequest, splitBody } from '../packages/server/dist/src/inference-codec.js';
import { float32ListBytes } from '../packages/server/dist/src/float32-text.js';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '64' }, rounds: { type: 'string', default: '20' } },
});
const size = Number(values.size);
const rounds = Number(values.rounds);
const input = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i * 0.01) * 2);
const shape = [1, size, size, 1];
const body = Buffer.from(
  JSON.stringify({ inputs: [{ name: 'image', shape, datatype: 'FP32', data: Array.from(input) }] }),
);
const specs = [{ name: 'image', datatype: 'FP32', shape: [-1, -1, -1, 1] }];
const outputs = [{ name: 'probabilities', datatype: 'FP32', shape: [-1, -1, -1, 3] }];
// A softmax over three classes, as the U-Net answers.
const output = new Float32Array(size * size * 3);
for (let i = 0; i < output.length; i += 3) {
  const e = [Math.exp(Math.sin(i)), Math.exp(Math.cos(i * 0.7)), Math.exp(Math.sin(i * 1.3))];
  const sum = e[0] + e[1] + e[2];
  for (let c = 0; c < 3; c++) output[i + c] = e[c] / sum;
}

const cases = {
  'decode: splitBody + decodeRequest': () =>
    decodeRequest(splitBody(body, undefined).json, Buffer.alloc(0), specs, outputs, { maxElements: 1 << 25 }),
  'decode: JSON.parse + Float32Array.from': () => Float32Array.from(JSON.parse(body.toString('utf8')).inputs[0].data),
  'encode: float32ListBytes': () => float32ListBytes(output),
  'encode: JSON.stringify(Array.from)': () => Buffer.from(JSON.stringify(Array.from(output))),
  'encode: typed-array join': () => Buffer.from(`[${output.join(',')}]`),
};
const totals = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const fn of Object.values(cases)) for (let i = 0; i < 30; i++) fn();
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    const start = performance.now();
    for (let i = 0; i < 10; i++) fn();
    totals[name].push((performance.now() - start) / 10);
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${size}x${size}: ${input.length} floats in (${body.length} bytes), ${output.length} out`);
console.log('| case | ms (median of rounds) | bytes |');
console.log('|---|---|---|');
for (const [name, fn] of Object.entries(cases)) {
  const result = fn();
  const bytes = Buffer.isBuffer(result) ? result.length : '';
  console.log(`| ${name} | ${median(totals[name]).toFixed(3)} | ${bytes} |`);
}
