// rwseg's exact EDT against scipy.ndimage.distance_transform_edt, same masks, same run.
// Usage (after `npx tsc -b`): node bench/edt.js [DIR] [CASE...]   (DIR defaults to $TMPDIR/rwseg-edt-bench; CASE, e.g.
// 512x512, limits the run to those masks: `npm run bench -- --quick` uses that)
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMasks } from './edt-masks.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? path.join(tmpdir(), 'rwseg-edt-bench');
const only = process.argv.slice(3);
const manifest = ensureMasks(dir).filter((e) => only.length === 0 || only.includes(e.name));
const run = (cmd, args) =>
  JSON.parse(
    execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 })
      .trim()
      .split('\n')
      .pop(),
  );
// Case by case, scipy then rwseg, so that load from other processes on a shared machine hits both alike.
const scipy = {};
const rwseg = {};
for (const entry of manifest) {
  Object.assign(scipy, run('python3', [path.join(here, 'edt-scipy.py'), dir, entry.name]));
  Object.assign(rwseg, run(process.execPath, [path.join(here, 'edt-rwseg.js'), dir, entry.name]));
}
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
console.log(
  `masks in ${dir}; single thread: median CPU time of the process (scipy: time.process_time); pool: ${rwseg.workers} workers, ` +
    `wall time per mask of a batch of ${rwseg.workers * 2}, alternated with the same batch in one thread (wall)`,
);
console.log(
  '| case | spacing | foreground | scipy (CPU) | rwseg 1 thread (CPU) | speed-up | pool (wall per mask) | 1 thread (wall per mask) | pool gain |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const entry of manifest) {
  for (const kind of ['isotropic', 'anisotropic']) {
    const s = scipy[entry.name][kind];
    const r = rwseg[entry.name][kind];
    const p = rwseg[entry.name][`${kind}Pool`];
    const w = rwseg[entry.name][`${kind}Serial`];
    const spacing = kind === 'isotropic' ? 'iso' : entry.anisotropic.join('x');
    console.log(
      `| ${entry.name} | ${spacing} | ${(entry.fraction * 100).toFixed(0)} % | ${ms(s)} | ${ms(r)} | ${(s / r).toFixed(1)}x | ${ms(p)} | ${ms(w)} | ${(w / p).toFixed(1)}x |`,
    );
  }
}
