/**
 * `convertToNnUNet`: any dataset rwseg opens written as an nnU-Net v2 raw folder. The geometry of what it writes
 * is checked by rwseg's reader and, where /usr/bin/python3 has nibabel, by nibabel (skipped visibly otherwise).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isCi,
  checkDataset,
  convertToNnUNet,
  isRwsegError,
  niftiAffine,
  openDataset,
  readNifti,
  readVolume,
} from '../../src/index.js';
import { tempDir } from '../fixtures/io/shared-data.js';

const DATASETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/formats/datasets');
/** The RAS affine of the DICOM series (LPS origin (-10, -20, 5), columns 0.8 mm, rows 0.7 mm, slices 2.5 mm). */
const SERIES_AFFINE = [
  [-0.8, 0, 0, 10],
  [0, -0.7, 0, 20],
  [0, 0, 2.5, 5],
];

function nibabelAffine(file: string): number[][] | undefined {
  if (!existsSync('/usr/bin/python3')) return undefined;
  try {
    const out = execFileSync(
      '/usr/bin/python3',
      ['-c', 'import sys, json, nibabel; print(json.dumps(nibabel.load(sys.argv[1]).affine[:3].tolist()))', file],
      { encoding: 'utf8' },
    );
    return JSON.parse(out) as number[][];
  } catch {
    return undefined;
  }
}

test('convert: a DICOM series with a NIfTI label becomes nnU-Net v2 NIfTI on the scanner grid', async (t) => {
  const out = path.join(tempDir(), 'Dataset001_CT');
  const result = await convertToNnUNet(openDataset(path.join(DATASETS, 'dicom-folder')), out);
  t.deepEqual([result.training, result.fileEnding], [1, '.nii.gz']);
  const json = JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8')) as Record<string, unknown>;
  t.deepEqual(json.labels, { background: 0, class1: 1 });
  t.is(json.numTraining, 1);
  for (const file of ['imagesTr/ct1_0000.nii.gz', 'labelsTr/ct1.nii.gz']) {
    const { header, volume } = await readNifti(path.join(out, file));
    t.deepEqual(volume.shape, [4, 6, 5], file);
    const affine = niftiAffine(header)!;
    t.true(
      affine.flat().every((v, i) => Math.abs(v - SERIES_AFFINE.flat()[i]!) < 1e-5),
      `${file}: ${JSON.stringify(affine)}`,
    );
    const independent = nibabelAffine(path.join(out, file));
    if (!independent && isCi()) t.fail('the nibabel check could not run: /usr/bin/python3 with nibabel not found');
    else if (!independent) t.log('SKIPPED the nibabel check: /usr/bin/python3 with nibabel not found');
    else
      t.true(
        independent.flat().every((v, i) => Math.abs(v - SERIES_AFFINE.flat()[i]!) < 1e-5),
        `nibabel sees ${JSON.stringify(independent)}`,
      );
  }
  const hu = await readVolume(path.join(out, 'imagesTr/ct1_0000.nii.gz'));
  t.is(hu.data.constructor, Int32Array, 'the stored type is kept (Hounsfield units after the rescale)');
  // The result is a dataset rwseg itself accepts, as nnU-Net v2.
  const report = await checkDataset(openDataset(out));
  t.true(report.ok, JSON.stringify(report.problems));
});

test('convert: RGB TIFF + GIF masks become one PNG per channel and 0/1 masks; failures leave nothing', async (t) => {
  const out = path.join(tempDir(), 'Dataset002_Drive');
  const info = openDataset(path.join(DATASETS, 'drive-like'), { imageSuffix: '_training', maskSuffix: '_manual1' });
  const result = await convertToNnUNet(info, out, { fileEnding: '.png' });
  t.deepEqual(result.channelNames, ['R', 'G', 'B']);
  t.deepEqual(
    readdirSync(path.join(out, 'imagesTr')).filter((f) => f.startsWith('21_')),
    ['21_0000.png', '21_0001.png', '21_0002.png'],
  );
  const mask = await readVolume(path.join(out, 'labelsTr', '21.png'));
  t.deepEqual([...new Set(mask.data)].sort(), [0, 1]);
  const report = await checkDataset(openDataset(out));
  t.true(report.ok, JSON.stringify(report.problems));
  t.deepEqual(report.channels, ['R', 'G', 'B']);

  const taken = await t.throwsAsync(convertToNnUNet(info, out));
  t.true(isRwsegError(taken, 'INVALID_OPTIONS') && taken!.message.includes('not empty'), taken!.message);
  // A mask that does not fit its image fails the conversion, and no output folder appears.
  const broken = path.join(tempDir(), 'broken');
  mkdirSync(path.join(broken, 'images'), { recursive: true });
  mkdirSync(path.join(broken, 'labels'));
  writeFileSync(
    path.join(broken, 'images', 'a.tif'),
    readFileSync(path.join(DATASETS, 'drive-like', 'images', '21_training.tif')),
  );
  writeFileSync(path.join(broken, 'labels', 'a.gif'), readFileSync(path.join(DATASETS, '..', 'mask.gif')));
  const target = path.join(tempDir(), 'never');
  const error = await t.throwsAsync(convertToNnUNet(openDataset(broken), target));
  t.regex(error!.message, /label .*a\.gif has shape \[6, 8\] but image .*a\.tif has \[16, 16\]/);
  t.false(existsSync(target));
  t.deepEqual(
    readdirSync(path.dirname(target)).filter((f) => f.startsWith('never')),
    [],
  );
});
