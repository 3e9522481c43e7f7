#!/usr/bin/env node
// `npm run bench`: every benchmark under bench/ in sequence, each printing rwseg's figure next to its anchor
// measured in the same run. Output of each goes to the terminal and to bench/results/<stamp>/<name>.log, with
// versions.json (machine and library versions) and summary.md (status and time per benchmark) beside them.
//
// Usage (after `npx tsc -b`):
//   node bench/run.js [--only NAME[,NAME...]] [--quick] [--list] [--out DIR]
// --quick passes each benchmark its smallest arguments (a check that it runs, not numbers to report);
// benchmarks without such arguments run as they are. Benchmarks run one after another, never side by side:
// two at once would each measure the other.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

/**
 * The suite. `args`: the full run, as docs/BENCHMARKS.md reports it; `quick`: a small run that exercises the same
 * code (undefined: the benchmark has no smaller setting and runs in full); `anchor`: what rwseg is compared with.
 * `device`: needs a lent GPU machine; printed, not run, unless named with --only.
 */
export const BENCHMARKS = [
  {
    name: 'edt',
    file: 'edt.js',
    args: [],
    quick: [path.join(tmpdir(), 'rwseg-edt-bench'), '512x512'],
    anchor: 'scipy.ndimage.distance_transform_edt (python3)',
    section: 'Distance transforms and surface metrics',
  },
  {
    name: 'edt-classes',
    file: 'edt-classes.js',
    args: [],
    anchor: 'one full EDT per class and side',
    section: 'Distance transforms and surface metrics',
  },
  ...[192, 256].map((side) => ({
    name: side === 192 ? 'hd95' : `hd95-${side}`,
    file: 'hd95.js',
    args: [path.join(tmpdir(), `rwseg-hd95-bench-${side}`), String(side)],
    quick: [path.join(tmpdir(), 'rwseg-hd95-bench-48'), '48'],
    anchor: 'scipy HD95 (MONAI definition, python3)',
    section: 'Distance transforms and surface metrics',
  })),
  {
    name: 'losses',
    file: 'losses.mjs',
    args: [],
    quick: ['--size', '16', '--batch', '1'],
    anchor: 'the same formula as bare TF.js ops',
    section: 'Losses',
  },
  {
    name: 'losses-wasm',
    file: 'losses.mjs',
    args: ['--backend', 'wasm', '--size', '128', '--batch', '4'],
    quick: ['--backend', 'wasm', '--size', '16', '--batch', '1'],
    anchor: 'the same formula as bare TF.js ops',
    section: 'Losses',
  },
  {
    name: 'loader',
    file: 'loader.mjs',
    args: [],
    quick: ['--batches', '2', '--workers', '1', '--no-step'],
    anchor: 'the same stream made serially in the main thread; one TF.js training step',
    section: 'Data loader',
  },
  {
    name: 'image-io',
    file: 'image-io.mjs',
    args: ['--reps', '5'],
    quick: ['--reps', '1'],
    anchor: 'ITK-Wasm GDCM per DICOM file; the 30 ISBI PNG files through pngjs',
    section: 'Image IO',
  },
  {
    name: 'train-step',
    file: 'train-step.mjs',
    args: ['--backends', 'wasm,wasm-fma,wasm-dp2,wasm-dp2-fma', '--rounds', '2', '--steps', '3', '--warmup', '1'],
    quick: ['--backends', 'wasm', '--rounds', '1', '--steps', '1', '--warmup', '1', '--size', '64'],
    anchor: 'PyTorch (python3-torch, 2 threads), same U-Net and batch',
    section: 'Training step',
  },
  {
    name: 'wasm-kernels',
    file: 'wasm-kernels.mjs',
    args: ['--reps', '7'],
    quick: ['--reps', '1', '--size', '32'],
    anchor: "the stock wasm kernel (XNNPACK for convolutions), or rwseg's kernel without SIMD, same process",
    section: 'wasm training kernels',
  },
  {
    name: 'onnx-inference',
    file: 'onnx-inference.mjs',
    args: [],
    quick: ['--batch', '1', '--size', '32', '--base', '4', '--depth', '2', '--runs', '2', '--cpu-runs', '1'],
    anchor: 'TF.js predict (wasm, cpu) on the same model',
    section: 'ONNX export',
  },
  {
    name: 'self-contained',
    file: 'self-contained.mjs',
    args: [],
    quick: ['--height', '40', '--width', '50', '--base', '4', '--depth', '2', '--runs', '1'],
    anchor: 'the network-only ONNX graph with normalization, padding and arg-max done by the client in JS, same image',
    section: 'Self-contained ONNX',
  },
  {
    name: 'inference-engine',
    file: 'inference-engine.mjs',
    args: [],
    quick: ['--size', '64', '--patch', '32', '--slices', '2', '--repeats', '1'],
    anchor: 'TF.js predict (wasm) of the same windows with the bench U-Net',
    section: 'Inference engine',
  },
  {
    name: 'validation-loss',
    file: 'validation-loss.mjs',
    args: [],
    quick: ['--cases', '1', '--size', '64', '--rounds', '1'],
    anchor: 'the same validation pass without the loss',
    section: 'Validation loss',
  },
  {
    name: 'server',
    file: 'server.mjs',
    args: [],
    quick: ['--duration', '1', '--models', 'affine,seg2d'],
    anchor: 'onnxruntime-node in-process, same model and input',
    section: 'Inference server',
  },
  {
    name: 'gpu',
    device: true,
    anchor: 'PyTorch CUDA; onnxruntime CPU provider',
    section: 'GPU',
    how: 'node bench/gpu/pack.mjs, then on the GPU machine: bash bench/gpu/run-on-device.sh with bench/gpu/carry (TINY=1: toy sizes on a software adapter)',
  },
];

const GPU_LOCAL =
  'node bench/gpu/pack.mjs --skip-debs && TINY=1 PYTHON=${PYTHON:-/usr/bin/python3} RWSEG_GPU_WORK=${TMPDIR:-/tmp}/rwseg-gpu-bench bash bench/gpu/run-on-device.sh';

function parseArgs(argv) {
  const options = { only: undefined, quick: false, list: false, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') options.quick = true;
    else if (a === '--list') options.list = true;
    else if (a === '--only' || a === '--out') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) fail(`${a} needs a value`);
      if (a === '--only') options.only = value.split(',').filter(Boolean);
      else options.out = value;
    } else fail(`unknown option '${a}' (known: --only NAME[,NAME], --quick, --list, --out DIR)`);
  }
  const names = BENCHMARKS.map((b) => b.name);
  for (const n of options.only ?? [])
    if (!names.includes(n)) fail(`--only: no benchmark '${n}' (known: ${names.join(', ')})`);
  return options;
}

function fail(message) {
  console.error(`bench/run.js: ${message}`);
  process.exit(2);
}

/** One line of a command's output, or undefined when the command is missing or fails. */
function probe(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 })
      .trim()
      .split('\n')
      .pop();
  } catch {
    return undefined;
  }
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** The machine and the versions every figure depends on, as docs/BENCHMARKS.md states them. */
export function versions() {
  const python = process.env.PYTHON ?? 'python3';
  const py = (code) => probe(python, ['-c', code]);
  return {
    date: new Date().toISOString(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg()
      .map((l) => l.toFixed(1))
      .join(' '),
    node: process.version,
    tfjs: packageVersion('@tensorflow/tfjs-core'),
    tfjsBackendWasm: packageVersion('@tensorflow/tfjs-backend-wasm'),
    onnxruntime: packageVersion('onnxruntime-node'),
    python: py('import platform; print(platform.python_version())'),
    numpy: py('import numpy; print(numpy.__version__)'),
    scipy: py('import scipy; print(scipy.__version__)'),
    torch:
      py('import torch; print(torch.__version__)') ??
      probe('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)']),
    autocannon: packageVersion('autocannon'),
  };
}

/** Runs a command, teeing its stdout and stderr to the terminal and to `log`; resolves to its exit code. */
function runLogged(cmd, args, log, shown) {
  return new Promise((resolve) => {
    const file = createWriteStream(log);
    file.write(`$ ${shown}\n\n`);
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      file.write(d);
    });
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
      file.write(d);
    });
    child.on('error', (e) => file.write(`\n${e.message}\n`));
    child.on('close', (code, signal) => file.end(() => resolve(code ?? (signal ? 128 : 1))));
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.list) {
    for (const b of BENCHMARKS)
      console.log(`${b.name.padEnd(15)} ${b.device ? '(GPU machine) ' : ''}anchor: ${b.anchor}`);
    return;
  }
  const selected = BENCHMARKS.filter((b) => (options.only ? options.only.includes(b.name) : true));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = path.resolve(options.out ?? path.join(here, 'results', `${stamp}${options.quick ? '-quick' : ''}`));
  mkdirSync(out, { recursive: true });
  const info = versions();
  writeFileSync(path.join(out, 'versions.json'), `${JSON.stringify(info, null, 2)}\n`);
  console.log(
    `rwseg benchmarks${options.quick ? ' (quick: a check that each runs; do not report these numbers)' : ''}; logs in ${out}`,
  );
  console.log(
    Object.entries(info)
      .map(([k, v]) => `${k} ${v ?? 'n/a'}`)
      .join(' | '),
  );

  const rows = [];
  for (const bench of selected) {
    if (bench.device && !options.only) {
      rows.push({ name: bench.name, status: 'not run (needs a GPU machine)', seconds: 0, command: bench.how, log: '' });
      continue;
    }
    const args = options.quick && bench.quick ? bench.quick : (bench.args ?? []);
    // Named explicitly, the GPU benchmark runs its toy-size end-to-end check on whatever adapter is here.
    const command = bench.device ? GPU_LOCAL : `node bench/${bench.file} ${args.join(' ')}`.trim();
    console.log(`\n== ${bench.name}: ${command}  (anchor: ${bench.anchor})`);
    const log = path.join(out, `${bench.name}.log`);
    const started = Date.now();
    const code = bench.device
      ? await runLogged('bash', ['-c', command], log, command)
      : await runLogged(process.execPath, [path.join(here, bench.file), ...args], log, command);
    const seconds = (Date.now() - started) / 1000;
    rows.push({ name: bench.name, status: code === 0 ? 'ok' : `failed (exit ${code})`, seconds, command, log });
    console.log(`== ${bench.name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s`);
  }

  const table = [
    '| benchmark | status | seconds | command | log |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.status} | ${r.seconds.toFixed(1)} | \`${r.command}\` | ${r.log ? path.basename(r.log) : ''} |`,
    ),
  ].join('\n');
  writeFileSync(
    path.join(out, 'summary.md'),
    `# Benchmark run ${info.date}${options.quick ? ' (quick)' : ''}\n\n${table}\n`,
  );
  writeFileSync(
    path.join(out, 'summary.json'),
    `${JSON.stringify({ versions: info, quick: options.quick, runs: rows }, null, 2)}\n`,
  );
  console.log(`\nSummary (${out}/summary.md):\n${table}`);
  if (rows.some((r) => r.status.startsWith('failed'))) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
