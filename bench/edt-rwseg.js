// Times rwseg's EDT on the masks written by bench/edt-masks.js: single thread (CPU time), and a batch through the
// worker pool (wall time per mask = batch time / batch size). Usage: node bench/edt-rwseg.js DIR [CASE]  -> one JSON line.
import { availableParallelism } from 'node:os';
import { EdtScratch, euclideanDistanceTransform, MapWorkerPool } from '../packages/core/dist/src/index.js';
import { readMask } from './edt-masks.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median CPU time (user + system) of this process, comparable with scipy's process_time on a loaded machine. */
function medianCpuTime(fn, repeats) {
  // Warm up until the optimising compiler (which runs on its own threads, counted in CPU time) is done.
  const warmUntil = performance.now() + 400;
  for (let r = 0; r < 5 || performance.now() < warmUntil; r++) fn();
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const t = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t);
    times.push((d.user + d.system) / 1e6);
  }
  return median(times);
}

/** Median wall time: the pool runs in parallel, so its gain only shows in wall time. */
async function medianWallTime(fn, repeats) {
  await fn();
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  return median(times);
}

const workers = Math.max(2, availableParallelism());
const pool = new MapWorkerPool({ size: workers, builtins: false });
const out = { workers };
for (const entry of manifest.filter((e) => process.argv[3] === undefined || e.name === process.argv[3])) {
  const mask = readMask(dir, entry);
  const repeats = mask.length <= 2_100_000 ? 15 : 5;
  const scratch = new EdtScratch();
  const result = new Float64Array(mask.length);
  const row = {};
  const kinds = [['isotropic', entry.shape.map(() => 1)], ['anisotropic', entry.anisotropic]];
  // Integer and fractional spacings reach V8 as different number representations: warm up on both first so
  // neither measurement pays for the other's recompilation.
  for (let r = 0; r < 3; r++) for (const [, spacing] of kinds) euclideanDistanceTransform(mask, entry.shape, spacing, { scratch, out: result });
  for (const [kind, spacing] of kinds) {
    row[kind] = medianCpuTime(() => euclideanDistanceTransform(mask, entry.shape, spacing, { scratch, out: result }), repeats);
    const batch = workers * 2;
    row[`${kind}Pool`] = (await medianWallTime(() => Promise.all(Array.from({ length: batch }, () => pool.distanceTransform(mask, entry.shape, spacing))), 2)) / batch;
  }
  out[entry.name] = row;
}
await pool.close();
console.log(JSON.stringify(out));
