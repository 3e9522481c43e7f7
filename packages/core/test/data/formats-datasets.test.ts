/**
 * Datasets as they are distributed, read without conversion (fixtures: test/fixtures/formats/datasets, written
 * by make_formats.py with tifffile, Pillow, pydicom and nibabel): TIFF images with GIF masks named by suffix,
 * JPEG with PNG masks, nnU-Net v2 with multi-page TIFF stacks and with MHA, a DICOM series with a NIfTI label;
 * the pairing rule's failures and nnU-Net dataset.json's.
 */
import test from 'ava';
import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDataset, isRwsegError, loadCase, openDataset } from '../../src/index.js';
import { tempDir } from '../fixtures/io/shared-data.js';

const DATASETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/formats/datasets');
const EXPECTED = JSON.parse(readFileSync(path.join(DATASETS, 'expected.json'), 'utf8')) as {
  'drive-like': { maskVoxels: Record<string, number> };
};
const DRIVE = path.join(DATASETS, 'drive-like');
const DRIVE_PAIRING = { imageSuffix: '_training', maskSuffix: '_manual1' };

function copyDataset(name: string): string {
  const dir = path.join(tempDir(), name);
  cpSync(path.join(DATASETS, name), dir, { recursive: true });
  return dir;
}

test('datasets: RGB TIFF images, 0/255 GIF masks paired by suffix: 3 channels, classes 0/1', async (t) => {
  const info = openDataset(DRIVE, DRIVE_PAIRING);
  t.deepEqual(
    info.training.map((c) => c.id),
    ['21', '22', '23', '24'],
  );
  t.is(path.basename(info.training[0]!.label!), '21_manual1.gif');
  for (const ref of info.training) {
    const c = await loadCase(info, ref);
    t.deepEqual(c.image.shape, [16, 16, 3]);
    t.is(c.image.channels, 3);
    const ones = c.label!.data.reduce((n, v) => n + v, 0);
    t.is(ones, EXPECTED['drive-like'].maskVoxels[ref.id], `case ${ref.id}: mask voxels`);
  }
  const report = await checkDataset(info);
  t.true(report.ok, JSON.stringify(report.problems));
  t.deepEqual(report.formats, { images: { TIFF: 4 }, labels: { GIF: 4 } });
  t.deepEqual(report.spacingSources, { none: 4 });
  t.regex(report.pairing!, /images\/\* as <id>_training\.<ext> with labels\/<id>_manual1\.<any image extension>/);
  t.is(report.notices.length, 1);
  t.regex(report.notices[0]!, /4 mask\(s\) hold only 0 and 255: read as class 0 \(0\) and class 1 \(255\)/);
  // An explicit mapping turns the guess off (here: 255 is the background).
  const inverted = openDataset(DRIVE, { ...DRIVE_PAIRING, labelMapping: { 0: 1, 255: 0 } });
  const c = await loadCase(inverted, inverted.training[0]!);
  t.is(
    c.label!.data.reduce((n, v) => n + v, 0),
    256 - EXPECTED['drive-like'].maskVoxels['21']!,
  );
  t.deepEqual((await checkDataset(inverted)).notices, []);
});

test('datasets: JPEG images with PNG masks named <id>_segmentation', async (t) => {
  const info = openDataset(path.join(DATASETS, 'isic-like'), { maskSuffix: '_segmentation' });
  t.deepEqual(
    info.training.map((c) => c.id),
    ['ISIC_0000000', 'ISIC_0000001'],
  );
  const report = await checkDataset(info);
  t.true(report.ok, JSON.stringify(report.problems));
  t.deepEqual(report.formats, { images: { JPEG: 2 }, labels: { PNG: 2 } });
  t.deepEqual(report.channels, ['R', 'G', 'B']);
  t.true(report.classFrequency[1]! > 0.1);
});

test('datasets: a pairing rule that matches nothing, twice, or names a foreign file fails naming the files', (t) => {
  const noSuffix = t.throws(() => openDataset(DRIVE));
  t.true(isRwsegError(noSuffix, 'INVALID_INPUT'), String(noSuffix));
  t.regex(
    noSuffix!.message,
    /21_training\.tif has no label: expected .*labels\/21_training\.<png\|tif\|gif\|\.\.\.> \(set --mask-suffix/,
  );
  const twice = copyDataset('drive-like');
  copyFileSync(path.join(twice, 'labels', '22_manual1.gif'), path.join(twice, 'labels', '22_manual1.png'));
  t.regex(
    t.throws(() => openDataset(twice, DRIVE_PAIRING))!.message,
    /22_training\.tif matches 2 masks \(.*22_manual1\.gif, .*22_manual1\.png\); keep one/,
  );
  t.regex(
    t.throws(() => openDataset(DRIVE, { ...DRIVE_PAIRING, imageGlob: '*_test.tif' }))!.message,
    /images: no image matches the image glob "\*_test\.tif"/,
  );
  t.regex(
    t.throws(() => openDataset(DRIVE, { imageSuffix: '_test', maskSuffix: '_manual1' }))!.message,
    /21_training\.tif: name does not end in the image suffix "_test"/,
  );
  t.throws(
    () => openDataset(DRIVE, { ...DRIVE_PAIRING, imageGlob: '2[12]*' }),
    undefined,
    'only * and ? are wildcards',
  );
  t.deepEqual(
    openDataset(DRIVE, { ...DRIVE_PAIRING, imageGlob: '2?_training.TIF' }).training.map((c) => c.id),
    ['21', '22', '23', '24'],
  );
});

test('datasets: nnU-Net v2 with multi-page TIFF stacks: 3D cases, ImageJ spacing in mm', async (t) => {
  const info = openDataset(path.join(DATASETS, 'stack-v2'));
  t.is(info.kind, 'msd');
  t.deepEqual(info.classNames, ['background', 'membrane', 'organelle']);
  const c = await loadCase(info, info.training[1]!);
  t.deepEqual(c.image.shape, [3, 16, 16, 1]);
  for (const [a, e] of c.image.spacing.map((s, i) => [s, [5e-5, 4e-6, 4e-6][i]!]))
    t.true(Math.abs(a! - e!) < 1e-12, `spacing ${c.image.spacing}`);
  const report = await checkDataset(info);
  t.true(report.ok, JSON.stringify(report.problems));
  t.deepEqual(report.formats, { images: { TIFF: 2 }, labels: { TIFF: 2 } });
  t.deepEqual(report.spacingSources, { imagej: 2 });
  t.true(report.casesWithClass.every((n) => n === 2));
});

test('datasets: nnU-Net v2 with MHA volumes; numTraining and region labels are checked', async (t) => {
  const root = copyDataset('mha-v2');
  const report = await checkDataset(openDataset(root));
  t.true(report.ok, JSON.stringify(report.problems));
  t.deepEqual(report.spacings, [[2, 0.5, 0.5]]);
  t.deepEqual(report.spacingSources, { header: 2 });
  const json = JSON.parse(readFileSync(path.join(root, 'dataset.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(root, 'dataset.json'), JSON.stringify({ ...json, numTraining: 3 }));
  t.regex(
    t.throws(() => openDataset(root))!.message,
    /dataset\.json: numTraining is 3 but imagesTr\/ holds 2 case\(s\) ending in \.mha/,
  );
  writeFileSync(
    path.join(root, 'dataset.json'),
    JSON.stringify({
      ...json,
      labels: { background: 0, membrane: 1, organelle: 2, everything: [1, 2] },
      regions_class_order: [1, 2],
    }),
  );
  t.regex(t.throws(() => openDataset(root))!.message, /label "everything": \[1,2\] is an nnU-Net region/);
  writeFileSync(path.join(root, 'dataset.json'), JSON.stringify(json));
  copyFileSync(path.join(root, 'imagesTr', 'em_000_0000.mha'), path.join(root, 'imagesTr', 'em_002_0000.mha'));
  t.regex(t.throws(() => openDataset(root))!.message, /case em_002: label .*labelsTr\/em_002\.mha not found/);
});

test('datasets: a DICOM series folder as the image, a NIfTI label on its grid', async (t) => {
  const info = openDataset(path.join(DATASETS, 'dicom-folder'));
  t.deepEqual(
    info.training.map((c) => c.id),
    ['ct1'],
  );
  const report = await checkDataset(info);
  t.true(report.ok, JSON.stringify(report.problems));
  t.deepEqual(report.formats, { images: { 'DICOM series': 1 }, labels: { NIfTI: 1 } });
  t.deepEqual(report.spacingSources, { dicom: 1 });
  const c = await loadCase(info, info.training[0]!);
  t.deepEqual(c.image.shape, [4, 6, 5, 1]);
  t.is(
    c.label!.data.reduce((n, v) => n + v, 0),
    2 * 3 * 3,
  );
});
