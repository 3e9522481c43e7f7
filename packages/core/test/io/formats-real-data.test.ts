/**
 * Real data rewritten as it is distributed, by independent tools at test time (fixtures/formats/real_data.py:
 * tifffile, pydicom): the 30 ISBI 2012 slices as one multi-page ImageJ TIFF (the challenge's train-volume.tif),
 * and an MSD hippocampus volume as a DICOM series with shuffled file names. rwseg must read back exactly what its
 * PNG and NIfTI readers give for the originals. Skips visibly without shared/data or /usr/bin/python3.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCi, readImage, readVolume } from '../../src/index.js';
import { SHARED_DATA, tempDir } from '../fixtures/io/shared-data.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCRIPT = path.resolve(HERE, '../../../test/fixtures/formats/real_data.py');

const DATA = SHARED_DATA || undefined;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : undefined;
// Skipped with the reason where shared/data or python is missing; under CI (which has both) they always run.
const ready = (DATA && PYTHON) || isCi() ? test : test.skip;
if (!DATA || !PYTHON)
  console.log('formats-real-data skipped here: needs shared/data and /usr/bin/python3 with tifffile, pydicom');

ready('the ISBI 2012 slices as one 30-page ImageJ TIFF read as a [30, 512, 512] stack in mm, page = PNG', async (t) => {
  const src = path.join(DATA!, 'isbi2012-em-membrane', 'images');
  const stack = path.join(tempDir(), 'train-volume.tif');
  execFileSync(PYTHON!, [SCRIPT, 'stack', src, stack]);
  const read = await readImage(stack);
  t.is(read.spacingSource, 'imagej');
  t.deepEqual(read.volume.shape, [30, 512, 512]);
  t.true(
    read.volume.spacing.every((s, i) => Math.abs(s - [5e-5, 4e-6, 4e-6][i]!) < 1e-12),
    `spacing ${read.volume.spacing}`,
  );
  const pngs = readdirSync(src)
    .filter((f) => f.endsWith('.png'))
    .sort();
  for (const [k, f] of pngs.entries()) {
    const page = await readVolume(path.join(src, f));
    const slice = read.volume.data.subarray(k * 512 * 512, (k + 1) * 512 * 512);
    if (!page.data.every((v, i) => v === slice[i])) return t.fail(`page ${k} differs from ${f}`);
  }
  t.pass();
});

ready('an MSD hippocampus volume as a shuffled DICOM series reads as the NIfTI does', async (t) => {
  const src = path.join(DATA!, 'msd-task04-hippocampus', 'imagesTr', 'hippocampus_001.nii.gz');
  const dir = path.join(tempDir(), 'series');
  execFileSync(PYTHON!, [SCRIPT, 'dicom', src, dir]);
  const nifti = await readVolume(src);
  const series = await readImage(dir);
  t.is(series.format, 'dicom-series');
  t.deepEqual(series.volume.shape, nifti.shape);
  t.deepEqual(series.volume.spacing, nifti.spacing);
  t.deepEqual(Array.from(series.volume.data), Array.from(nifti.data));
  const close = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-4);
  t.true(
    close(series.volume.orientation!.origin, nifti.orientation!.origin),
    JSON.stringify([series.volume.orientation, nifti.orientation]),
  );
  t.true(close(series.volume.orientation!.direction.flat(), nifti.orientation!.direction.flat()));
});
