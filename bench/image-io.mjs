#!/usr/bin/env node
// Image reading speed for data as distributed (docs/BENCHMARKS.md, "Image IO"). Needs shared/data and
// /usr/bin/python3 with tifffile, pydicom, nibabel (packages/core/test/fixtures/formats/real_data.py writes the files):
// - a DICOM series (an MSD hippocampus volume, one file per slice): rwseg's reader (dicom-parser for uncompressed
//   files) against decoding each file with ITK-Wasm's GDCM, the path compressed files take;
// - the 30 ISBI 2012 slices as one multi-page TIFF (ITK-Wasm) against the 30 PNG files (pngjs).
// Usage (after `npx tsc -b`): node bench/image-io.mjs [--reps N]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readVolume } from '../packages/core/dist/src/index.js';
import { listDicomFiles } from '../packages/core/dist/src/io/dicom-series.js';
import { readItkImage } from '../packages/core/dist/src/io/itk-image.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const data =
  (process.env.RWSEG_SHARED_DIR && path.join(process.env.RWSEG_SHARED_DIR, 'data')) ||
  [path.join(root, '..', 'shared', 'data'), path.join(root, '..', '..', 'shared', 'data')].find((d) => existsSync(d));
const reps = Number(process.argv[process.argv.indexOf('--reps') + 1]) || 3;
const script = path.join(root, 'packages/core/test/fixtures/formats/real_data.py');
if (!data) throw new Error('shared/data not found (set RWSEG_SHARED_DIR)');

async function median(fn) {
  await fn(); // warm-up: module loading and wasm instantiation are not what is measured
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const work = mkdtempSync(path.join(tmpdir(), 'rwseg-image-io-'));
const series = path.join(work, 'series');
execFileSync('/usr/bin/python3', [
  script,
  'dicom',
  path.join(data, 'msd-task04-hippocampus/imagesTr/hippocampus_001.nii.gz'),
  series,
]);
const files = await listDicomFiles(series);
const rwseg = await median(() => readVolume(series));
const gdcm = await median(async () => {
  for (const f of files) await readItkImage(f, 'dicom');
});
console.log(
  `DICOM series, ${files.length} slices: rwseg ${rwseg.toFixed(0)} ms, GDCM per file ${gdcm.toFixed(0)} ms (${(gdcm / rwseg).toFixed(1)}x)`,
);

const pngDir = path.join(data, 'isbi2012-em-membrane/images');
const stack = path.join(work, 'train-volume.tif');
execFileSync('/usr/bin/python3', [script, 'stack', pngDir, stack]);
const pngs = readdirSync(pngDir)
  .filter((f) => f.endsWith('.png'))
  .sort();
const tiff = await median(() => readVolume(stack));
const png = await median(async () => {
  for (const f of pngs) await readVolume(path.join(pngDir, f));
});
console.log(
  `ISBI 30 x 512 x 512: multi-page TIFF (ITK-Wasm) ${tiff.toFixed(0)} ms, 30 PNG files (pngjs) ${png.toFixed(0)} ms (${(png / tiff).toFixed(1)}x)`,
);
