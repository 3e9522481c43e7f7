#!/usr/bin/env node
// Loss forward + backward time per call, each built-in loss next to its anchor: the same formula written as bare
// TF.js ops in this file, measured in the same run on the same tensors. The ratio is the cost of the plugin
// machinery (option vocabulary, input checks, class reduction). Each loss is also timed with validateInputs false:
// the difference is what the value checks (finite probabilities in [0, 1], one-hot targets) cost. Run after
// `npx tsc -b`:
//   node bench/losses.mjs [--backend cpu|wasm] [--size 64] [--batch 2]
import { parseArgs } from 'node:util';
import { PluginRegistry, tf, useBackend } from '@rwseg/core';
import { checkProbsAndTarget } from '@rwseg/core/plugin';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    size: { type: 'string', default: '64' },
    batch: { type: 'string', default: '2' },
  },
});
await useBackend(values.backend);
await import('@tensorflow/tfjs-layers'); // registers the gradients

const registry = new PluginRegistry();
for (const name of ['cross-entropy', 'dice', 'focal', 'boundary', 'region-wise', 'hausdorff', 'lovasz', 'compound']) {
  registry.register((await import(`@rwseg/plugin-loss-${name}`)).default, name);
}
// Only the option schemas of the maps matter here: the benchmark feeds a random map tensor.
const { z } = await import('@rwseg/core/plugin');
registry.register(
  {
    apiVersion: 1,
    name: 'bench-maps',
    maps: ['rrw', 'boundary'].map((name) => ({
      name,
      description: name,
      options: z.object({}),
      generate: () => new Float32Array(0),
    })),
  },
  'bench',
);

const B = Number(values.batch);
const S = Number(values.size);
const K = 3;
const logits = tf.randomNormal([B, S, S, K], 0, 1, 'float32', 1);
const target = tf.cast(tf.oneHot(tf.randomUniform([B, S, S], 0, K, 'int32', 2), K), 'float32');
const map = tf.randomUniform([B, S, S, K], -1, 1, 'float32', 3);
const eps = 1e-15;

const anchors = {
  'cross-entropy': (p) => tf.div(tf.sum(tf.neg(tf.mul(target, tf.log(tf.add(p, eps))))), B * S * S),
  dice: (p) => {
    const inter = tf.sum(tf.mul(p, target), [1, 2]);
    const sizes = tf.add(tf.sum(p, [1, 2]), tf.sum(target, [1, 2]));
    return tf.sub(1, tf.mean(tf.div(tf.mul(inter, 2), tf.add(sizes, 1e-6))));
  },
  focal: (p) =>
    tf.div(
      tf.sum(tf.neg(tf.mul(tf.mul(tf.pow(tf.add(tf.sub(1, p), eps), 2), target), tf.log(tf.add(p, eps))))),
      B * S * S,
    ),
  boundary: (p) => tf.mean(tf.slice(tf.mul(p, map), [0, 0, 0, 1], [B, S, S, K - 1])),
  rrw: (p) => tf.mean(tf.mul(p, map)),
};

const step = (fn) =>
  tf.tidy(() =>
    tf
      .grad((x) => fn(tf.softmax(x)))(logits)
      .dataSync(),
  );

/** Median ms per call of each function, timed in turn so that load on a shared machine hits them alike. */
function timeAll(fns, runs = 9) {
  fns.forEach(step);
  const times = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    fns.forEach((fn, j) => {
      const start = process.hrtime.bigint();
      step(fn);
      times[j].push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  return times.map((t) => t.sort((x, y) => x - y)[Math.floor(runs / 2)]);
}

const call = (loss) => (probs) =>
  loss.compute({
    probs,
    target,
    maps: Object.fromEntries(loss.requiredMaps.map((r) => [r.key, map])),
    context: { epoch: 0 },
  });
const checked = (name, options = {}) => call(registry.createLoss(name, options));
const unchecked = (name, options = {}) => call(registry.createLoss(name, { ...options, validateInputs: false }));

console.log(
  `backend ${tf.getBackend()}, probs [${B}, ${S}, ${S}, ${K}], forward + backward through softmax, median ms per call`,
);
console.log('loss                    rwseg  no checks   anchor  ratio  checks');
const row = (label, ours, off, theirs) =>
  console.log(
    `${label.padEnd(22)} ${ours.toFixed(1).padStart(6)} ${off.toFixed(1).padStart(10)} ${theirs === undefined ? '       -' : theirs.toFixed(1).padStart(8)}` +
      ` ${theirs === undefined ? '     -' : (ours / theirs).toFixed(2).padStart(6)} ${(((ours - off) / off) * 100).toFixed(0).padStart(6)}%`,
  );
for (const [name, anchor] of Object.entries(anchors)) {
  const [ours, off, theirs] = timeAll([checked(name), unchecked(name), anchor]);
  row(name, ours, off, theirs);
}
// The losses without an anchor here: their own tests check their values against MONAI, smp and nnU-Net.
for (const [name, options] of [
  ['dice', { jaccard: true, squaredPred: true }],
  ['generalized-dice', {}],
  ['tversky', {}],
  ['focal-tversky', {}],
  ['hausdorff-dt', {}],
  ['lovasz-softmax', {}],
  ['dc-and-ce', {}],
]) {
  const [ours, off] = timeAll([checked(name, options), unchecked(name, options)]);
  row(Object.keys(options).length > 0 ? `${name} ${Object.keys(options).join('+')}` : name, ours, off);
}

// The checks alone, outside any gradient: what validateInputs adds to every loss call.
const owner = { loss: 'bench', plugin: 'bench' };
const probs = tf.softmax(logits);
const input = { probs, target, maps: {}, context: { epoch: 0 } };
for (let i = 0; i < 5; i++) checkProbsAndTarget(owner, input);
const start = process.hrtime.bigint();
for (let i = 0; i < 50; i++) checkProbsAndTarget(owner, input);
console.log(
  `input checks alone (checkProbsAndTarget): ${(Number(process.hrtime.bigint() - start) / 1e6 / 50).toFixed(2)} ms per call`,
);
