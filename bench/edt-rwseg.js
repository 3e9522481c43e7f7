// Times rwseg's EDT on the masks written by bench/edt-masks.js: single thread (CPU time), and a batch through the
// worker pool against the same batch in one thread (wall time per mask = batch time / batch size, the two
// alternated). Usage: node bench/edt-rwseg.js DIR [CASE]  -> one JSON line.
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
  // Warm up until the optimizing compiler (which runs on its own threads, counted in CPU time) is done.
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

/**
 * Median wall time per mask of a batch through the pool and of the same batch in this thread, alternated so that
 * load from other processes hits both alike (the pool's gain can only show in wall time), after warming the
 * workers' compilers as medianCpuTime does.
 */
async function poolAndSerialWallTime(pooled, serial, batch, repeats) {
  const warmUntil = performance.now() + 400;
  for (let r = 0; r < 3 || performance.now() < warmUntil; r++) await pooled();
  const pool = [];
  const alone = [];
  for (let r = 0; r < repeats; r++) {
    let t = performance.now();
    await pooled();
    pool.push((performance.now() - t) / 1000 / batch);
    t = performance.now();
    serial();
    alone.push((performance.now() - t) / 1000 / batch);
  }
  return { pool: median(pool), serial: median(alone) };
}

const cases = manifest.filter((e) => process.argv[3] === undefined || e.name === process.argv[3]);
const kindsOf = (entry) => [
  ['isotropic', entry.shape.map(() => 1)],
  ['anisotropic', entry.anisotropic],
];
const workers = Math.max(2, availableParallelism());
const out = { workers };
// Single-thread figures first, before the pool exists: its workers' start-up and compilation run on threads of
// this process and would count in its CPU time.
for (const entry of cases) {
  const mask = readMask(dir, entry);
  const repeats = mask.length <= 2_100_000 ? 15 : 5;
  const scratch = new EdtScratch();
  const result = new Float64Array(mask.length);
  const row = {};
  // Integer and fractional spacings reach V8 as different number representations: warm up on both first so
  // neither measurement pays for the other's recompilation.
  for (let r = 0; r < 3; r++)
    for (const [, spacing] of kindsOf(entry))
      euclideanDistanceTransform(mask, entry.shape, spacing, { scratch, out: result });
  for (const [kind, spacing] of kindsOf(entry)) {
    row[kind] = medianCpuTime(
      () => euclideanDistanceTransform(mask, entry.shape, spacing, { scratch, out: result }),
      repeats,
    );
  }
  out[entry.name] = row;
}
const pool = new MapWorkerPool({ size: workers, builtins: false });
for (const entry of cases) {
  const mask = readMask(dir, entry);
  const batch = workers * 2;
  const scratch = new EdtScratch();
  for (const [kind, spacing] of kindsOf(entry)) {
    const pooled = () =>
      Promise.all(Array.from({ length: batch }, () => pool.distanceTransform(mask, entry.shape, spacing)));
    // The same work as the pool's: a fresh result array per mask.
    const serial = () => {
      for (let b = 0; b < batch; b++) euclideanDistanceTransform(mask, entry.shape, spacing, { scratch });
    };
    const wall = await poolAndSerialWallTime(pooled, serial, batch, mask.length <= 2_100_000 ? 7 : 3);
    out[entry.name][`${kind}Pool`] = wall.pool;
    out[entry.name][`${kind}Serial`] = wall.serial;
  }
}
await pool.close();
console.log(JSON.stringify(out));
