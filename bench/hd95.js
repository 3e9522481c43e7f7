// HD95 of one 3D prediction/reference pair: rwseg's computeSegmentationMetrics (which also yields Dice, HD,
// ASSD and NSD from the same two distance transforms) against a scipy implementation of MONAI's definition,
// same masks, same run. Usage (after `npx tsc -b`): node bench/hd95.js [DIR] [SIDE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeSegmentationMetrics } from '../packages/core/dist/src/index.js';
import { blobMask } from './edt-masks.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const side = Number(process.argv[3] ?? 192);
const dir = process.argv[2] ?? path.join(tmpdir(), `rwseg-hd95-bench-${side}`);
const shape = [side, side, side];
const spacing = [2.5, 0.8, 0.8];
if (!existsSync(path.join(dir, 'pair.json'))) {
  mkdirSync(dir, { recursive: true });
  // Same balls, the prediction missing two of them and shifted by a few voxels.
  writeFileSync(path.join(dir, 'ref.u8'), blobMask(shape, 77, 24));
  writeFileSync(path.join(dir, 'pred.u8'), blobMask(shape, 77, 22, [0, 2, 3]));
  writeFileSync(path.join(dir, 'pair.json'), JSON.stringify({ shape, spacing }));
}
const load = (f) => new Uint8Array(readFileSync(path.join(dir, f)));
const pred = load('pred.u8');
const ref = load('ref.u8');

const scipy = JSON.parse(execFileSync('python3', [path.join(here, 'hd95-scipy.py'), dir], { encoding: 'utf8' }).trim());
computeSegmentationMetrics(pred, ref, shape, spacing, { numClasses: 2 });
const times = [];
let metrics;
for (let r = 0; r < 3; r++) {
  // CPU time of this process, as scipy's process_time: the machine is shared.
  const t = process.cpuUsage();
  metrics = computeSegmentationMetrics(pred, ref, shape, spacing, { numClasses: 2 });
  const d = process.cpuUsage(t);
  times.push((d.user + d.system) / 1e6);
}
const seconds = times.sort((a, b) => a - b)[1];
const m = metrics[0];
console.log(`${side}^3 pair, spacing ${spacing.join('x')}`);
console.log(`CPU time, median of 3. scipy (MONAI definition): HD95 ${scipy.hd95.toFixed(6)} mm in ${(scipy.seconds * 1000).toFixed(0)} ms`);
console.log(`rwseg: HD95 ${m.hd95.toFixed(6)} mm (Dice ${m.dice.toFixed(4)}, HD ${m.hd.toFixed(3)}, ASSD ${m.assd.toFixed(4)}, NSD ${m.nsd.toFixed(4)}) in ${(seconds * 1000).toFixed(0)} ms`);
console.log(`speed-up ${(scipy.seconds / seconds).toFixed(1)}x; values ${Math.abs(scipy.hd95 - m.hd95) < 1e-9 ? 'agree' : 'DIFFER'}`);
