// Per-kernel speed of rwseg's WebAssembly SIMD kernels on the wasm backend, on the benchmark U-Net's layer shapes
// (batch 4, 256 x 256, base 16, depth 4: docs/BENCHMARKS.md "Training step"). Anchor, in the same process: the
// same kernel with the SIMD module switched off, i.e. the stock tfjs-backend-wasm kernel (XNNPACK for convolutions)
// or rwseg's earlier JavaScript / XNNPACK-composed kernel where stock wasm has none or is unusable. The two sides
// alternate call by call; each figure is the median of --reps calls.
// Usage: node bench/wasm-kernels.mjs [--reps 7] [--batch 4] [--size 256] [--only conv|elementwise|conv3d|winograd]
// [--size3d 32]: winograd is the 3x3x3 convolutions of the 3D U-Net at each level (batch 2, side --size3d halved per
// level, 16 << level channels), direct SIMD kernel (off) against Winograd F(2x2x2, 3x3x3) (on), in CPU time.
// [--size3d 16]: conv3d is the 3D U-Net's kernels (batch 2, side --size3d, 16-32 channels); its anchors are the
// stock Conv3D loop and the cpu backend's gradients (the stock wasm gradients are wrong), so keep the side small.
import { tf, useBackend } from '@rwseg/core';
import { setSimdKernelsEnabled, setWinogradEnabled } from '@rwseg/tfjs-training-backends/testing';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    reps: { type: 'string', default: '7' },
    batch: { type: 'string', default: '4' },
    size: { type: 'string', default: '256' },
    only: { type: 'string' },
    size3d: { type: 'string' },
  },
});
const reps = Number(opt.reps);
const n = Number(opt.batch);
const size = Number(opt.size);
await useBackend('wasm');

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Times `run` (returns tensors to dispose) with `toggle` off and on (default: the SIMD kernels), alternating; warms
 * both up first. cpu: process CPU time instead of wall time (less inflated by other processes on a loaded machine).
 */
function compare(run, toggle = setSimdKernelsEnabled, cpu = false) {
  const times = { off: [], on: [] };
  const clock = cpu ? () => process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 : () => performance.now();
  for (let r = -1; r < reps; r++) {
    for (const side of ['off', 'on']) {
      toggle(side === 'on');
      const t0 = clock();
      tf.dispose(run());
      if (r >= 0) times[side].push(clock() - t0);
    }
  }
  toggle(true);
  return { off: median(times.off), on: median(times.on) };
}

const rows = [];
function report(kernel, shape, anchor, result) {
  rows.push({ kernel, shape, anchor, ...result });
  console.log(
    `${kernel.padEnd(22)} ${shape.padEnd(30)} ${anchor.padEnd(26)} ${result.off.toFixed(1).padStart(8)} ms  rwseg SIMD ${result.on.toFixed(1).padStart(8)} ms  x${(result.off / result.on).toFixed(2)}`,
  );
}

const levels = Array.from({ length: 5 }, (_, l) => ({ side: size >> l, channels: 16 << l }));
const random = (shape) => tf.randomNormal(shape, 0, 1, 'float32', 7);

if (opt.only === undefined || opt.only === 'conv') {
  for (const { side, channels: c } of levels) {
    const x = random([n, side, side, c]);
    const dy = random([n, side, side, c]);
    const w = random([3, 3, c, c]);
    const shape = `[${n},${side},${side},${c}] 3x3 ${c}->${c}`;
    report(
      'FusedConv2D',
      shape,
      'XNNPACK',
      compare(() => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same' })),
    );
    report(
      'Conv2DBackpropInput',
      shape,
      'XNNPACK (flipped kernel)',
      compare(() =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy, filter: w },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape },
          ),
      ),
    );
    report(
      'Conv2DBackpropFilter',
      shape,
      'XNNPACK (swapped conv)',
      compare(() =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape },
          ),
      ),
    );
    tf.dispose([x, dy, w]);
  }
  for (const { side, channels: c } of levels.slice(0, -1)) {
    // Transposed conv 2x2 stride 2 from the level below: forward (Conv2DBackpropInput) and filter gradient.
    const low = random([n, side / 2, side / 2, 2 * c]);
    const up = random([n, side, side, c]);
    const w = random([2, 2, c, 2 * c]);
    const shape = `[${n},${side / 2},${side / 2},${2 * c}] -> [${n},${side},${side},${c}]`;
    report(
      'Conv2DTranspose fwd',
      shape,
      'matMul + stock DepthToSpace',
      compare(() => tf.conv2dTranspose(low, w, up.shape, 2, 'valid')),
    );
    report(
      'Conv2DBackpropFilter s2',
      shape,
      'XNNPACK (swapped conv)',
      compare(() =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: up, dy: low },
            { strides: 2, pad: 'valid', dataFormat: 'NHWC', filterShape: w.shape },
          ),
      ),
    );
    tf.dispose([low, up, w]);
  }
}

if (opt.only === undefined || opt.only === 'elementwise') {
  const c = 16;
  const shape = [n, size, size, c];
  const label = `[${shape}]`;
  const x = random(shape);
  const y = random(shape);
  const v = random([c]);
  const mask = tf.greater(x, 0);
  report(
    'Sum (axes 0,1,2)',
    label,
    'JavaScript float64 loop',
    compare(() => tf.sum(x, [0, 1, 2])),
  );
  report(
    'Mean (axes 0,1,2)',
    label,
    'stock',
    compare(() => tf.mean(x, [0, 1, 2], true)),
  );
  report(
    'LeakyRelu',
    label,
    'stock',
    compare(() => tf.leakyRelu(x, 0.01)),
  );
  report(
    'Greater (scalar)',
    label,
    'stock',
    compare(() => tf.greater(x, 0)),
  );
  report(
    'Select',
    label,
    'stock',
    compare(() => tf.where(mask, x, y)),
  );
  report(
    'Multiply (same shape)',
    label,
    'stock',
    compare(() => tf.mul(x, y)),
  );
  report(
    'Multiply ([C] vector)',
    label,
    'stock',
    compare(() => tf.mul(x, v)),
  );
  report(
    'Sub ([1,1,1,C] vector)',
    label,
    'stock',
    compare(() => tf.sub(x, tf.reshape(v, [1, 1, 1, c]))),
  );
  report(
    'FusedBatchNorm',
    label,
    'stock',
    compare(() => tf.batchNorm(x, v, tf.abs(v), v, v, 1e-5)),
  );
  report(
    'Concat (last axis)',
    `2 x ${label}`,
    'stock',
    compare(() => tf.concat([x, y], 3)),
  );
  const joined = tf.concat([x, y], 3);
  report(
    'SplitV (last axis)',
    `[${joined.shape}]`,
    'stock',
    compare(() => tf.split(joined, 2, 3)),
  );
  report(
    'DepthToSpace (block 2)',
    `[${n},${size / 2},${size / 2},${4 * c}]`,
    'stock',
    compare(() => tf.depthToSpace(tf.reshape(x, [n, size / 2, size / 2, 4 * c]), 2)),
  );
  const pooled = tf.maxPool(x, 2, 2, 'valid');
  const dyPool = random(pooled.shape);
  report(
    'MaxPoolGrad (2x2, 2)',
    label,
    'rwseg JavaScript',
    compare(() =>
      tf
        .engine()
        .runKernel(
          'MaxPoolGrad',
          { dy: dyPool, input: x, output: pooled },
          { filterSize: 2, strides: 2, pad: 'valid' },
        ),
    ),
  );
  tf.dispose([x, y, v, mask, joined, pooled, dyPool]);
}
if (opt.only === undefined || opt.only === 'conv3d') {
  const side = Number(opt.size3d ?? 16);
  for (const c of [16, 32]) {
    const x = random([2, side, side, side, c]);
    const dy = random([2, side, side, side, c]);
    const w = random([3, 3, 3, c, c]);
    const shape = `[2,${side},${side},${side},${c}] 3x3x3 ${c}->${c}`;
    report(
      'Conv3D',
      shape,
      'stock (naive loop)',
      compare(() => tf.conv3d(x, w, 1, 'same')),
    );
    report(
      'Conv3DBackpropInputV2',
      shape,
      'cpu backend',
      compare(() =>
        tf
          .engine()
          .runKernel('Conv3DBackpropInputV2', { dy, filter: w }, { strides: 1, pad: 'same', inputShape: x.shape }),
      ),
    );
    report(
      'Conv3DBackpropFilterV2',
      shape,
      'cpu backend',
      compare(() =>
        tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { strides: 1, pad: 'same', filterShape: w.shape }),
      ),
    );
    const low = random([2, side / 2, side / 2, side / 2, 2 * c]);
    const wt = random([2, 2, 2, c, 2 * c]);
    report(
      'Conv3DTranspose fwd',
      `[2,${side / 2},${side / 2},${side / 2},${2 * c}] -> ${c}`,
      'cpu backend',
      compare(() => tf.conv3dTranspose(low, wt, x.shape, 2, 'same')),
    );
    const pooled = tf.maxPool3d(x, 2, 2, 'valid');
    const dyPool = random(pooled.shape);
    report(
      'MaxPool3D (2x2x2, 2)',
      `[${x.shape}]`,
      'cpu backend',
      compare(() => tf.maxPool3d(x, 2, 2, 'valid')),
    );
    report(
      'MaxPool3DGrad',
      `[${x.shape}]`,
      'cpu backend',
      compare(() =>
        tf
          .engine()
          .runKernel(
            'MaxPool3DGrad',
            { dy: dyPool, input: x, output: pooled },
            { filterSize: 2, strides: 2, pad: 'valid' },
          ),
      ),
    );
    tf.dispose([x, dy, w, low, wt, pooled, dyPool]);
  }
}
if (opt.only === 'winograd') {
  const top = Number(opt.size3d ?? 32);
  for (let level = 0; level < 4 && top >> level >= 2; level++) {
    const side = top >> level;
    const c = 16 << level;
    const x = random([2, side, side, side, c]);
    const dy = random([2, side, side, side, c]);
    const w = random([3, 3, 3, c, c]);
    const shape = `[2,${side},${side},${side},${c}] 3x3x3 ${c}->${c}`;
    const cpuTime = (run) => compare(run, setWinogradEnabled, true);
    report(
      'Conv3D',
      shape,
      'direct SIMD (CPU ms)',
      cpuTime(() => tf.conv3d(x, w, 1, 'same')),
    );
    const attrs = { strides: 1, pad: 'same' };
    const input = () =>
      tf.engine().runKernel('Conv3DBackpropInputV2', { dy, filter: w }, { ...attrs, inputShape: x.shape });
    const filter = () => tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { ...attrs, filterShape: w.shape });
    report('Conv3DBackpropInputV2', shape, 'direct SIMD (CPU ms)', cpuTime(input));
    report('Conv3DBackpropFilterV2', shape, 'direct SIMD (CPU ms)', cpuTime(filter));
    tf.dispose([x, dy, w]);
  }
}
console.log(JSON.stringify({ reps, batch: n, size, rows }));
