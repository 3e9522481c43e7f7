// Train-step benchmark driver: ms per training step of the benchmark U-Net (2D, batch x 1 x size x size, base 16
// filters, depth 4, batch norm, transposed-conv up-sampling, softmax + soft Dice, Adam) on each TF.js backend,
// against PyTorch (Debian python3-torch, 2 threads) on the same architecture and batch, measured in the same
// run. Runs alternate (torch, tfjs, torch, tfjs...) so load from other processes hits both sides alike.
//
// Usage (after `npx tsc -b`): node bench/train-step.mjs [--backends wasm,wasm-dp2,wasm-dp2-fma,wasm-x2,wasm-stock,cpu] [--rounds 2]
//        [--steps 5] [--warmup 2] [--batch 4] [--size 256] [--threads 2] [--python /usr/bin/python3] [--json]
//        [--dims 3 --size 32|40x56x40 (--batch 2 --classes 3 --depth 4 by default in 3D)]
// --dims 3: rwseg's 3D U-Net (buildUNet({ dims: 3, depth 4, baseFilters 16, numClasses 3, normalization: 'instance' }))
// and its PyTorch twin layer by layer; --threads sets PyTorch's thread count (compare 1 with wasm, 2 with wasm-dp2).
// Peak RSS (maxRSS) of each side's process is reported.
// 'wasm-stock' is wasm without rwseg's faster kernels (it still needs rwseg's Conv2DBackpropFilter to train);
// 'wasm-x2' is the data-parallel prototype over 2 worker threads (each with its own Adam); 'wasm-dpN' is the
// product's training step (rwseg's trainStep, training.threads N: the training thread and N - 1 gradient workers,
// one optimizer; wasm-dp1 is that step on one thread). Any side + '-fma': with RWSEG_WASM_RELAXED_SIMD=1 (docs/backends.md). 'cpu' is left out by default: the pure-JS
// backend takes minutes per step at 256 x 256.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm' },
    rounds: { type: 'string', default: '2' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    batch: { type: 'string' },
    size: { type: 'string' },
    dims: { type: 'string', default: '2' },
    classes: { type: 'string' },
    depth: { type: 'string' },
    threads: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
    json: { type: 'boolean', default: false },
  },
});
const dims = Number(opt.dims);
// 3D defaults: the issue's benchmark (batch 2, 32^3, 3 classes, depth 4 = three poolings).
const batch = opt.batch ?? (dims === 3 ? '2' : '4');
const size = opt.size ?? (dims === 3 ? '32' : '256');
const shared = ['--steps', opt.steps, '--warmup', opt.warmup, '--batch', batch, '--size', size, '--dims', opt.dims];
if (dims === 3 || opt.classes !== undefined) shared.push('--classes', opt.classes ?? '3');
if (opt.depth !== undefined) shared.push('--depth', opt.depth);

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (result.status !== 0)
    return { error: (result.stderr || result.error?.message || 'failed').trim().split('\n').slice(-3).join(' ') };
  const line = result.stdout.trim().split('\n').pop();
  return JSON.parse(line);
}

const sides = [
  {
    key: 'pytorch',
    command: opt.python,
    args: [path.join(here, 'train-step-torch.py'), '--threads', opt.threads, ...shared],
  },
];
for (const name of opt.backends.split(',').filter(Boolean)) {
  // A '-fma' suffix runs the side with the relaxed-SIMD (fused multiply-add) kernels, opted into by environment.
  // A '-direct' suffix (before '-fma'; one-thread sides only) runs the direct 3D convolutions where Winograd would.
  const fma = name.endsWith('-fma');
  const unsuffixed = fma ? name.slice(0, -4) : name;
  const direct = unsuffixed.endsWith('-direct');
  const backend = direct ? unsuffixed.slice(0, -7) : unsuffixed;
  const stock = backend === 'wasm-stock';
  const parallel = /^wasm-x(\d+)$/.exec(backend);
  const product = /^wasm-dp(\d+)$/.exec(backend);
  const extra = [
    ...(stock
      ? ['--stock-kernels']
      : parallel
        ? ['--workers', parallel[1]]
        : product
          ? ['--product-threads', product[1]]
          : []),
    ...(direct ? ['--direct-conv3d'] : []),
  ];
  sides.push({
    key: name,
    env: fma ? { ...process.env, RWSEG_WASM_RELAXED_SIMD: '1' } : process.env,
    command: process.execPath,
    args: [
      path.join(here, 'train-step-tfjs.mjs'),
      '--backend',
      stock || parallel || product ? 'wasm' : backend,
      ...extra,
      ...shared,
    ],
  });
}

/**
 * How much a second thread can help right now: the same fixed CPU work (a counting loop, ~0.5 s) in 1 and then in 2
 * worker threads at once; 2 x wall(1) / wall(2) is 2 with two free cores and 1 when other processes leave this one
 * about a core. A control for the data-parallel sides, whose gain needs that second core.
 */
async function twoThreadSpeedup() {
  const burn = (threads) => {
    const t0 = performance.now();
    const code = 'let n = 0; while (n < 6e8) n++;';
    return Promise.all(
      Array.from(
        { length: threads },
        () => new Promise((resolve) => new Worker(code, { eval: true }).on('exit', resolve)),
      ),
    ).then(() => performance.now() - t0);
  };
  const one = await burn(1);
  const two = await burn(2);
  return Number(((2 * one) / two).toFixed(2));
}

const speedups = [await twoThreadSpeedup()];
const samples = new Map(sides.map((s) => [s.key, []]));
const errors = new Map();
for (let round = 0; round < Number(opt.rounds); round++) {
  for (const side of sides) {
    const result = run(side.command, side.args, side.env);
    if (result.error) errors.set(side.key, result.error);
    else samples.get(side.key).push(result);
    if (!opt.json)
      process.stderr.write(
        `round ${round + 1} ${side.key}: ${result.error ?? `${Math.round(result.msPerStep)} ms/step (${result.times.join(', ')})`}\n`,
      );
  }
}

speedups.push(await twoThreadSpeedup());
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const summary = sides.map((side) => {
  const runs = samples.get(side.key);
  if (runs.length === 0) return { side: side.key, error: errors.get(side.key) };
  const times = runs.flatMap((r) => r.times);
  const cpu = runs.map((r) => r.cpuMsPerStep).filter((v) => v !== undefined);
  const rss = runs.map((r) => r.maxRssMiB).filter((v) => v !== undefined);
  return {
    side: side.key,
    backend: runs[0].backend,
    msPerStep: median(times),
    minMs: Math.min(...times),
    steps: times.length,
    cpuMsPerStep: cpu.length ? median(cpu) : undefined,
    maxRssMiB: rss.length ? Math.max(...rss) : undefined,
  };
});
const torch = summary.find((s) => s.side === 'pytorch' && s.msPerStep !== undefined);
for (const s of summary)
  if (torch && s.msPerStep !== undefined) s.ratioToPytorch = Number((s.msPerStep / torch.msPerStep).toFixed(2));

const context = {
  dims,
  batch: Number(batch),
  size,
  cpus: os.cpus().length,
  loadavg: os.loadavg().map((l) => l.toFixed(2)),
  twoThreadSpeedup: speedups,
  node: process.version,
};
if (opt.json) {
  console.log(JSON.stringify({ context, summary }, null, 2));
} else {
  const spatial = size.includes('x') ? size : Array.from({ length: dims }, () => size).join(' x ');
  console.log(
    `${dims}D U-Net train step, ${batch} x 1 x ${spatial}, ${context.cpus} CPUs, load ${context.loadavg.join(' ')}`,
  );
  console.log(
    `two-thread speedup of a CPU burner before / after the rounds: ${speedups.join(' / ')} (2 = two free cores, 1 = about one)`,
  );
  console.log(
    '| side | ms/step (median) | min | steps | x PyTorch | CPU ms/step (all threads) | x PyTorch (CPU) | peak RSS MiB |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const s of summary) {
    if (s.error) {
      console.log(`| ${s.side} | failed: ${s.error} | | | | | | |`);
      continue;
    }
    const cpuRatio = torch?.cpuMsPerStep && s.cpuMsPerStep ? (s.cpuMsPerStep / torch.cpuMsPerStep).toFixed(2) : '';
    console.log(
      `| ${s.backend}${s.side.includes('-direct') ? ' (direct conv3d)' : ''}${s.side.endsWith('-fma') ? ' (FMA kernels)' : ''} | ${Math.round(s.msPerStep)} | ${Math.round(s.minMs)} | ${s.steps} | ${s.ratioToPytorch ?? ''} | ${s.cpuMsPerStep === undefined ? '' : Math.round(s.cpuMsPerStep)} | ${cpuRatio} | ${s.maxRssMiB ?? ''} |`,
    );
  }
}
