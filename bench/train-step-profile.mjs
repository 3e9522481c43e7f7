// Per-kernel CPU time of one training step of rwseg's U-Net on the wasm backend: every wasm kernel is wrapped to
// add up process.cpuUsage() around its calls (CPU time, so other processes on a loaded machine inflate it far
// less than wall time, unlike tf.profile's wall-clock kernel times). Forward, softmax + soft Dice, backward, Adam,
// as bench/train-step-tfjs.mjs; two warm-up steps, then the mean of --steps steps.
// Usage (after `npx tsc -b`): node bench/train-step-profile.mjs [--dims 3] [--size 32|40x56x40] [--batch 2]
//        [--classes 3] [--steps 2] [--shapes] [--top 25]
// --shapes: one line per kernel and input shapes.
import { tf, useBackend } from '@rwseg/core';
import { buildUNet } from '@rwseg/core/training';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    dims: { type: 'string', default: '3' },
    size: { type: 'string', default: '32' },
    batch: { type: 'string', default: '2' },
    classes: { type: 'string', default: '3' },
    steps: { type: 'string', default: '2' },
    top: { type: 'string', default: '25' },
    shapes: { type: 'boolean', default: false },
  },
});
const dims = Number(opt.dims);
const spatial = opt.size.includes('x')
  ? opt.size.split('x').map(Number)
  : Array.from({ length: dims }, () => Number(opt.size));
const [batch, classes, steps] = [Number(opt.batch), Number(opt.classes), Number(opt.steps)];

await useBackend('wasm');
const totals = new Map();
for (const kernel of tf.getKernelsForBackend('wasm')) {
  const inner = kernel.kernelFunc;
  const timed = (args) => {
    const c0 = process.cpuUsage();
    const result = inner(args);
    const c = process.cpuUsage(c0);
    const shapes = () => JSON.stringify(Object.values(args.inputs).map((t) => t.shape));
    const key = opt.shapes ? `${kernel.kernelName} ${shapes()}` : kernel.kernelName;
    totals.set(key, (totals.get(key) ?? 0) + (c.user + c.system) / 1000);
    return result;
  };
  tf.unregisterKernel(kernel.kernelName, 'wasm');
  tf.registerKernel({ ...kernel, kernelFunc: timed });
}

const model = buildUNet({ dims, depth: 4, baseFilters: 16, numClasses: classes, normalization: 'instance' }, spatial);
const x = tf.randomNormal([batch, ...spatial, 1], 0, 1, 'float32', 1);
const y = tf.tidy(() => {
  const labels = tf.cast(tf.greater(tf.randomUniform([batch, ...spatial], 0, 1, 'float32', 2), 0.7), 'int32');
  return tf.cast(tf.oneHot(labels, classes), 'float32');
});
const axes = Array.from({ length: dims + 1 }, (_, i) => i);
const optimizer = tf.train.adam(1e-3);
const step = () =>
  optimizer
    .minimize(() => {
      const p = model.apply(x, { training: true });
      const intersection = tf.sum(tf.mul(p, y), axes);
      const denominator = tf.add(tf.sum(p, axes), tf.sum(y, axes));
      return tf.sub(1, tf.mean(tf.div(tf.add(tf.mul(intersection, 2), 1e-5), tf.add(denominator, 1e-5))));
    }, true)
    .dispose();
step();
step();
totals.clear();
const c0 = process.cpuUsage();
for (let i = 0; i < steps; i++) step();
const c = process.cpuUsage(c0);
const stepMs = (c.user + c.system) / 1000 / steps;
const inKernels = [...totals.values()].reduce((a, b) => a + b, 0) / steps;
console.log(
  `${dims}D U-Net step, ${batch} x 1 x ${spatial.join(' x ')}, wasm with rwseg's kernels: ` +
    `${stepMs.toFixed(0)} ms CPU per step, ${inKernels.toFixed(0)} ms in kernels`,
);
console.log('| kernel | CPU ms per step | share of the step |');
console.log('|---|---|---|');
for (const [name, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(opt.top))) {
  console.log(`| ${name} | ${(ms / steps).toFixed(1)} | ${((100 * ms) / steps / stepMs).toFixed(1)} % |`);
}
