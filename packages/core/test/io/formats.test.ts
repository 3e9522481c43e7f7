/**
 * Every format rwseg reads, against fixtures written by other tools (test/fixtures/formats/make_formats.py:
 * tifffile, Pillow, pydicom, nibabel, NRRD/MetaImage headers from their specs): voxels, shape, spacing and
 * orientation exactly (JPEG within a few gray levels: another libjpeg build); writers through round trips; and
 * corrupt or truncated files of each format failing with an error that names the file.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isCi,
  isRwsegError,
  niftiAffine,
  readImage,
  readNifti,
  readVolume,
  writeVolume,
  type SpacingSource,
  type Volume,
} from '../../src/index.js';
import { tempDir } from '../fixtures/io/shared-data.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/formats');

interface Expected {
  shape: number[];
  spacing: number[];
  data: number[];
  tolerance: number;
  channels?: number;
  orientation?: { origin: number[]; direction: number[][] };
  affine?: number[][];
  files?: string[];
}
const EXPECTED = JSON.parse(readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Record<string, Expected>;

const SPACING_SOURCE: Record<string, SpacingSource> = {
  'stack16.tif': 'tiff-resolution',
  'stack_imagej.tif': 'imagej',
  'gray8.tif': 'none',
  'rgb8.tif': 'none',
  'rgb.jpg': 'none',
  'gray.jpg': 'none',
  'mask.gif': 'none',
  'gray.bmp': 'none',
  'rgb.bmp': 'none',
  'volume-gzip.nrrd': 'header',
  'volume-raw-be.nrrd': 'header',
  'volume.mha': 'header',
  'volume.mhd': 'header',
  'rotated.nii.gz': 'header',
  'dicom-series': 'dicom',
  'rle.dcm': 'dicom',
  'stored12.dcm': 'dicom',
};

function closeTo(
  t: import('ava').ExecutionContext,
  actual: readonly number[],
  expected: readonly number[],
  tolerance: number,
  what: string,
): void {
  t.is(actual.length, expected.length, `${what}: length`);
  const worst = expected.reduce((w, e, i) => Math.max(w, Math.abs(actual[i]! - e)), 0);
  t.true(worst <= tolerance, `${what}: largest difference ${worst} > ${tolerance}`);
}

function assertMatches(t: import('ava').ExecutionContext, volume: Volume, ref: Expected, name: string): void {
  t.deepEqual(volume.shape, ref.channels ? [...ref.shape.slice(0, -1), ref.channels] : ref.shape, `${name}: shape`);
  t.is(volume.channels, ref.channels, `${name}: channels`);
  closeTo(t, volume.spacing, ref.spacing, 1e-6 * Math.max(...ref.spacing), `${name}: spacing`);
  if (ref.tolerance === 0) t.deepEqual(Array.from(volume.data), ref.data, `${name}: voxels`);
  else closeTo(t, Array.from(volume.data), ref.data, ref.tolerance, `${name}: voxels`);
  if (ref.orientation) {
    t.truthy(volume.orientation, `${name}: orientation missing`);
    closeTo(t, volume.orientation!.origin, ref.orientation.origin, 1e-4, `${name}: origin`);
    closeTo(t, volume.orientation!.direction.flat(), ref.orientation.direction.flat(), 1e-6, `${name}: direction`);
  } else {
    t.is(volume.orientation, undefined, `${name}: a raster format has no orientation`);
  }
}

for (const [name, ref] of Object.entries(EXPECTED)) {
  test(`formats: ${name} reads as the independent tool wrote it`, async (t) => {
    const read = await readImage(path.join(FIXTURES, name));
    assertMatches(t, read.volume, ref, name);
    t.is(read.spacingSource, SPACING_SOURCE[name], `${name}: spacing source`);
  });
}

test('formats: content decides over the extension (a PNG-in-TIFF-clothing, a GIF named .png)', async (t) => {
  const dir = tempDir();
  copyFileSync(path.join(FIXTURES, 'mask.gif'), path.join(dir, 'mask.png'));
  copyFileSync(path.join(FIXTURES, 'volume-gzip.nrrd'), path.join(dir, 'volume.tif'));
  const gif = await readImage(path.join(dir, 'mask.png'));
  t.is(gif.format, 'gif');
  t.deepEqual(Array.from(gif.volume.data), EXPECTED['mask.gif']!.data);
  t.is((await readImage(path.join(dir, 'volume.tif'))).format, 'nrrd');
});

test('formats: color policies: labels refuse color, luminance on request, gray-as-RGB is gray', async (t) => {
  const rgb = path.join(FIXTURES, 'rgb8.tif');
  const error = await t.throwsAsync(readVolume(rgb, { color: 'reject' }));
  t.true(isRwsegError(error, 'INVALID_INPUT') && error!.message.includes(rgb), error!.message);
  const luma = await readVolume(rgb, { color: 'luminance' });
  const ref = EXPECTED['rgb8.tif']!.data;
  t.deepEqual(luma.shape, [4, 6]);
  t.is(luma.data[5], Math.round(0.299 * ref[15]! + 0.587 * ref[16]! + 0.114 * ref[17]!));
  // gray.bmp is an 8-bit palette BMP that ITK hands back as RGB; R = G = B, so one channel.
  t.is((await readVolume(path.join(FIXTURES, 'gray.bmp'))).channels, undefined);
});

test('formats: NIfTI orientation matches nibabel, and a label written from it overlays the image', async (t) => {
  const ref = EXPECTED['rotated.nii.gz']!;
  const image = await readVolume(path.join(FIXTURES, 'rotated.nii.gz'));
  const dir = tempDir();
  // What predict does: new voxels, the image's spacing and orientation.
  const labels: Volume = {
    data: Uint8Array.from(image.data),
    shape: image.shape,
    spacing: image.spacing,
    orientation: image.orientation!,
  };
  await writeVolume(path.join(dir, 'labels.nii.gz'), labels);
  const back = await readNifti(path.join(dir, 'labels.nii.gz'));
  closeTo(t, niftiAffine(back.header)!.flat(), ref.affine!.slice(0, 3).flat(), 1e-5, 'sform');
  t.is(back.header.qformCode, 1);
  // The qform alone (sform removed) gives the same affine: viewers preferring either agree.
  closeTo(t, niftiAffine({ ...back.header, sformCode: 0 })!.flat(), ref.affine!.slice(0, 3).flat(), 1e-5, 'qform');
});

test('formats: NRRD, MHA and TIFF writers round trip voxels, spacing and orientation', async (t) => {
  const dir = tempDir();
  const source = await readVolume(path.join(FIXTURES, 'volume-gzip.nrrd'));
  for (const name of ['out.nrrd', 'out.mha', 'out.nii.gz']) {
    await writeVolume(path.join(dir, name), source);
    assertMatches(t, await readVolume(path.join(dir, name)), EXPECTED['volume-gzip.nrrd']!, name);
  }
  const stack = await readVolume(path.join(FIXTURES, 'stack16.tif'));
  await writeVolume(path.join(dir, 'out.tif'), stack);
  const tiff = await readImage(path.join(dir, 'out.tif'));
  t.deepEqual(Array.from(tiff.volume.data), EXPECTED['stack16.tif']!.data);
  t.deepEqual(tiff.volume.shape, [3, 4, 5]);
  closeTo(t, tiff.volume.spacing.slice(1), [2.5, 5], 1e-6, 'TIFF spacing');
  t.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
    'no temporary file left behind',
  );
  const refused = await t.throwsAsync(writeVolume(path.join(dir, 'out.jpg'), stack));
  t.true(isRwsegError(refused, 'INVALID_OPTIONS') && refused!.message.includes('read-only'), refused!.message);
});

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : undefined;

/** The file as tifffile / nibabel / the NRRD and MetaImage specs read it (fixtures/formats/read_back.py). */
function independentRead(
  file: string,
):
  | { shape: number[]; spacing: number[]; origin: number[] | null; direction: number[][] | null; data: number[] }
  | undefined {
  if (!PYTHON) return undefined;
  try {
    return JSON.parse(
      execFileSync(PYTHON, [path.join(FIXTURES, 'read_back.py'), file], { encoding: 'utf8', maxBuffer: 1 << 26 }),
    );
  } catch (error) {
    // Only a missing python module is a reason to skip; a parse failure is a finding.
    if (String((error as { stderr?: string }).stderr ?? '').includes('ModuleNotFoundError')) return undefined;
    throw error;
  }
}

test('formats: what rwseg writes, independent readers read the same (tifffile, nibabel, NRRD/MHA specs)', async (t) => {
  const dir = tempDir();
  const oriented = await readVolume(path.join(FIXTURES, 'volume.mha'));
  const stack = await readVolume(path.join(FIXTURES, 'stack16.tif'));
  for (const [name, volume] of [
    ['w.nrrd', oriented],
    ['w.mha', oriented],
    ['w.nii.gz', oriented],
    ['w.tif', stack],
  ] as const) {
    const file = path.join(dir, name);
    await writeVolume(file, volume);
    const other = independentRead(file);
    if (!other) {
      const why = `/usr/bin/python3 with numpy, tifffile and nibabel not found`;
      // CI installs them (.ci/run): there a missing reader is a failure, not a skip.
      if (isCi()) t.fail(`the independent read of ${name} could not run: ${why}`);
      else t.log(`SKIPPED the independent read of ${name}: ${why}`);
      continue;
    }
    t.deepEqual(other.shape, [...volume.shape], `${name}: shape`);
    closeTo(t, other.spacing, volume.spacing, 1e-5, `${name}: spacing`);
    closeTo(t, other.data, Array.from(volume.data), 0, `${name}: voxels`);
    if (other.origin && volume.orientation) {
      closeTo(t, other.origin, volume.orientation.origin, 1e-4, `${name}: origin`);
      closeTo(t, other.direction!.flat(), volume.orientation.direction.flat(), 1e-5, `${name}: direction`);
    }
  }
});

/** Copies the series into a temp folder without (or with extra) slices. */
function seriesCopy(edit: (dir: string, files: string[]) => void): string {
  const dir = tempDir();
  const files = EXPECTED['dicom-series']!.files!;
  for (const f of files) copyFileSync(path.join(FIXTURES, 'dicom-series', f), path.join(dir, f));
  edit(dir, files);
  return dir;
}

async function failsWith(
  t: import('ava').ExecutionContext,
  promise: Promise<unknown>,
  ...parts: string[]
): Promise<void> {
  const error = await t.throwsAsync(promise);
  t.true(isRwsegError(error), `not an RwsegError: ${error}`);
  for (const part of parts) t.true(error!.message.includes(part), `"${error!.message}" lacks "${part}"`);
}

test('formats: DICOM series with a missing, duplicated or foreign slice fail naming the files', async (t) => {
  // a.dcm is slice 2 of 4 (positions 7.5): removing it leaves a 5 mm gap between c.dcm and d.dcm.
  const gap = seriesCopy((dir) => {
    readdirSync(dir).includes('a.dcm') && writeFileSync(path.join(dir, 'a.dcm'), '');
  });
  await failsWith(t, readVolume(gap), 'a.dcm');
  const missing = seriesCopy((dir) => {
    copyFileSync(path.join(dir, 'a.dcm'), path.join(dir, '.hidden'));
  });
  t.deepEqual((await readVolume(missing)).shape, [4, 6, 5], 'hidden files are not slices');
  const holed = tempDir();
  for (const f of ['c.dcm', 'd.dcm', 'b.dcm'])
    copyFileSync(path.join(FIXTURES, 'dicom-series', f), path.join(holed, f));
  await failsWith(t, readVolume(holed), 'missing slices', '5.000 mm', '2.500 mm', 'c.dcm', 'd.dcm');
  const twice = seriesCopy((dir) => copyFileSync(path.join(dir, 'a.dcm'), path.join(dir, 'a-copy.dcm')));
  await failsWith(t, readVolume(twice), 'two slices at one position', 'a.dcm');
  const empty = tempDir();
  mkdirSync(path.join(empty, 'sub'));
  await failsWith(t, readVolume(empty), empty, 'no .dcm file');
});

test('formats: corrupt and truncated files of each format fail with an error naming the file', async (t) => {
  const dir = tempDir();
  const cases: [string, number][] = [
    ['stack16.tif', 0.5],
    ['rgb.jpg', 0.3],
    ['mask.gif', 0.4],
    ['rgb.bmp', 0.5],
    ['volume-gzip.nrrd', 0.7],
    ['volume-raw-be.nrrd', 0.8],
    ['volume.mha', 0.7],
    ['dicom-series/a.dcm', 0.6],
  ];
  for (const [name, keep] of cases) {
    const bytes = readFileSync(path.join(FIXTURES, name));
    const file = path.join(dir, `truncated-${path.basename(name)}`);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * keep)));
    await failsWith(t, readVolume(file), file);
  }
  // Right magic, garbage after it.
  for (const [name, magic] of [
    ['bad.tif', 'II*\0'],
    ['bad.nrrd', 'NRRD0004\n'],
    ['bad.jpg', '\xff\xd8\xff\xe0'],
    ['bad.gif', 'GIF89a'],
  ] as const) {
    const file = path.join(dir, name);
    writeFileSync(file, Buffer.concat([Buffer.from(magic, 'latin1'), Buffer.alloc(64, 0x5a)]));
    await failsWith(t, readVolume(file), file);
  }
});
