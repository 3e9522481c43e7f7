// HD, HD95, ASSD and NSD of one 3D prediction/reference pair: rwseg's computeSegmentationMetrics (which also
// gives Dice, and all four distance metrics from the same surface distances) against a scipy implementation of
// MONAI's definitions, same masks, same run, values compared to 1e-6.
// Usage (after `npx tsc -b`): node bench/hd95.js [DIR SIDE]   (no arguments: the 192^3 and the 256^3 pair, each
// in $TMPDIR/rwseg-hd95-bench-SIDE, written on first use)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeSegmentationMetrics } from '../packages/core/dist/src/index.js';
import { blobMask } from './edt-masks.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const spacing = [2.5, 0.8, 0.8];
const nsdTolerance = 1;
const pairs =
  process.argv.length > 3
    ? [{ dir: process.argv[2], side: Number(process.argv[3]) }]
    : [192, 256].map((side) => ({ dir: path.join(tmpdir(), `rwseg-hd95-bench-${side}`), side }));

/** Writes the pair once: the same balls, the prediction missing two of them and shifted by a few voxels. */
function ensurePair(dir, shape) {
  if (existsSync(path.join(dir, 'pair.json'))) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'ref.u8'), blobMask(shape, 77, 24));
  writeFileSync(path.join(dir, 'pred.u8'), blobMask(shape, 77, 22, [0, 2, 3]));
  writeFileSync(path.join(dir, 'pair.json'), JSON.stringify({ shape, spacing }));
}

const rows = [];
for (const { dir, side } of pairs) {
  const shape = [side, side, side];
  ensurePair(dir, shape);
  const load = (f) => new Uint8Array(readFileSync(path.join(dir, f)));
  const pred = load('pred.u8');
  const ref = load('ref.u8');
  const scipy = JSON.parse(
    execFileSync('python3', [path.join(here, 'hd95-scipy.py'), dir, String(nsdTolerance)], { encoding: 'utf8' }).trim(),
  );
  const options = { numClasses: 2, nsdTolerance };
  // Warm up until the optimizing compiler (its threads count in CPU time) is done, as bench/edt-rwseg.js does.
  const warmUntil = performance.now() + 400;
  for (let r = 0; r < 2 || performance.now() < warmUntil; r++)
    computeSegmentationMetrics(pred, ref, shape, spacing, options);
  const times = [];
  let metrics;
  for (let r = 0; r < 5; r++) {
    // CPU time of this process, as scipy's process_time: the machine is shared.
    const t = process.cpuUsage();
    metrics = computeSegmentationMetrics(pred, ref, shape, spacing, options);
    const d = process.cpuUsage(t);
    times.push((d.user + d.system) / 1e6);
  }
  const seconds = times.sort((a, b) => a - b)[2];
  const m = metrics[0];
  const differ = ['hd', 'hd95', 'assd', 'nsd'].filter((k) => !(Math.abs(scipy[k] - m[k]) <= 1e-6));
  rows.push({ side, scipy, m, seconds, differ });
}
console.log(
  `spacing ${spacing.join('x')} mm, NSD tolerance ${nsdTolerance} mm; CPU time, median of 5 (scipy: median of 3, time.process_time)`,
);
console.log('| pair | scipy (MONAI definitions) | rwseg | speed-up | HD95 | HD | ASSD | NSD | values (1e-6) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const { side, scipy, m, seconds, differ } of rows) {
  const agree = differ.length === 0 ? 'agree' : `DIFFER: ${differ.join(', ')}`;
  console.log(
    `| ${side}^3 | ${(scipy.seconds * 1000).toFixed(0)} ms | ${(seconds * 1000).toFixed(0)} ms | ${(scipy.seconds / seconds).toFixed(1)}x ` +
      `| ${m.hd95.toFixed(6)} mm | ${m.hd.toFixed(6)} mm | ${m.assd.toFixed(6)} mm | ${m.nsd.toFixed(6)} | ${agree} |`,
  );
}
if (rows.some((r) => r.differ.length > 0)) process.exitCode = 1;
