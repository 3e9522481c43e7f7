#!/usr/bin/env node
// onnxruntime session options on the server benchmark's U-Net (depth 2, base 8, a 1x64x64x1 image), in-process:
// CPU and wall milliseconds per session.run, back to back and after an idle gap (as a server at one connection
// idles a round trip between requests), configurations alternating round by round. Build first (`npx tsc -b`).
//   node bench/session-options.mjs [--size 64] [--runs 300] [--rounds 6] [--gap-ms 1]
// CPU per run after a gap includes the timer's own cost, the same for every configuration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { benchUNet } from './bench-unet.mjs';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    runs: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '6' },
    'gap-ms': { type: 'string', default: '1' },
  },
});
const size = Number(values.size);
const runs = Number(values.runs);
const gapMs = Number(values['gap-ms']);

const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-cpu');
const tfl = await import('@tensorflow/tfjs-layers');
const { convertLayersModel } = await import('@rwseg/tfjs-to-onnx');
await tf.setBackend('cpu');
const dir = mkdtempSync(join(tmpdir(), 'rwseg-session-options-'));
const file = join(dir, 'model.onnx');
writeFileSync(file, convertLayersModel(benchUNet(tfl, { depth: 2, base: 8, inputName: 'image' })).bytes);

const noSpin = { extra: { session: { intra_op: { allow_spinning: '0' } } } };
const configs = {
  // rwseg serve's default: one intra-op thread per core, no spin-waiting.
  'threads per core, no spinning': noSpin,
  'threads per core, spinning': {},
  'one thread': { intraOpNumThreads: 1, ...noSpin },
  'one thread, no memory arena': { intraOpNumThreads: 1, enableCpuMemArena: false, ...noSpin },
  'one thread, no memory pattern': { intraOpNumThreads: 1, enableMemPattern: false, ...noSpin },
  'threads per core, no spinning, no arena': { enableCpuMemArena: false, ...noSpin },
};
const sessions = {};
for (const [name, options] of Object.entries(configs))
  sessions[name] = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], ...options });
const input = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i * 0.01) * 2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(session, gap) {
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, size, size, 1]) };
  for (let i = 0; i < 20; i++) await session.run(feeds);
  const cpu = process.cpuUsage();
  let wall = 0;
  for (let i = 0; i < runs; i++) {
    if (gap > 0) await sleep(gap);
    const start = performance.now();
    await session.run(feeds);
    wall += performance.now() - start;
  }
  const used = process.cpuUsage(cpu);
  return { cpu: (used.user + used.system) / 1000 / runs, wall: wall / runs };
}

const results = Object.fromEntries(Object.keys(configs).map((k) => [k, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const name of Object.keys(configs)) {
    const busy = await measure(sessions[name], 0);
    const idle = await measure(sessions[name], gapMs);
    results[name].push({ busy, idle });
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(
  `| session options | CPU ms/run | wall ms/run | CPU ms/run after ${gapMs} ms | wall ms/run after ${gapMs} ms |`,
);
console.log('|---|---|---|---|---|');
for (const [name, rows] of Object.entries(results)) {
  const cells = [
    median(rows.map((r) => r.busy.cpu)),
    median(rows.map((r) => r.busy.wall)),
    median(rows.map((r) => r.idle.cpu)),
    median(rows.map((r) => r.idle.wall)),
  ];
  console.log(`| ${name} | ${cells.map((c) => c.toFixed(3)).join(' | ')} |`);
}
for (const session of Object.values(sessions)) await session.release();
rmSync(dir, { recursive: true, force: true });
console.log(
  `\nload average ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
