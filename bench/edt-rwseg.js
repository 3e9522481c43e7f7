// Times rwseg's EDT on the masks written by bench/edt-masks.js: single thread, and a batch through the worker
// pool (per-mask time = batch time / batch size). Usage: node bench/edt-rwseg.js DIR  -> one JSON line.
import { availableParallelism } from 'node:os';
import { EdtScratch, euclideanDistanceTransform, MapWorkerPool } from '../packages/core/dist/src/index.js';
import { readMask } from './edt-masks.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function medianTime(fn, repeats) {
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
for (const entry of manifest) {
  const mask = readMask(dir, entry);
  const repeats = mask.length <= 2_100_000 ? 5 : 3;
  const scratch = new EdtScratch();
  const result = new Float64Array(mask.length);
  const row = {};
  for (const [kind, spacing] of [['isotropic', entry.shape.map(() => 1)], ['anisotropic', entry.anisotropic]]) {
    row[kind] = await medianTime(() => euclideanDistanceTransform(mask, entry.shape, spacing, { scratch, out: result }), repeats);
    const batch = workers * 2;
    row[`${kind}Pool`] = (await medianTime(() => Promise.all(Array.from({ length: batch }, () => pool.distanceTransform(mask, entry.shape, spacing))), 2)) / batch;
  }
  out[entry.name] = row;
}
await pool.close();
console.log(JSON.stringify(out));
