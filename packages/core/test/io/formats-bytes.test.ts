/**
 * The byte-level entry points: decodeImage on bytes in memory gives what readImage gives on the file (whatever
 * the bytes are called), declaredSize reads from headers what the decoders then produce, encodeImage writes what
 * writeVolume writes; the label-format rule; multi-frame GIFs as stacks and DICOM MONOCHROME1 as MONOCHROME2 would
 * show it (fixtures by Pillow and pydicom: fixtures/formats/make_formats2.py); TIFF stacks keep their slice spacing
 * for tifffile (ImageJ calibration).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  declaredSize,
  decodeImage,
  encodeImage,
  isCi,
  labelFileName,
  labelFormatFor,
  readImage,
  readVolume,
  writeVolume,
  type ImageFormat,
} from '../../src/index.js';
import { tempDir } from '../fixtures/io/shared-data.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/formats');
const EXPECTED2 = JSON.parse(readFileSync(path.join(FIXTURES, 'expected2.json'), 'utf8')) as Record<
  string,
  { shape: number[]; spacing: number[]; data: number[] }
>;

const SINGLE_FILES: [string, ImageFormat][] = [
  ['stack16.tif', 'tiff'],
  ['stack_imagej.tif', 'tiff'],
  ['rgb8.tif', 'tiff'],
  ['rgb.jpg', 'jpeg'],
  ['gray.bmp', 'bmp'],
  ['mask.gif', 'gif'],
  ['volume-gzip.nrrd', 'nrrd'],
  ['volume-raw-be.nrrd', 'nrrd'],
  ['volume.mha', 'metaimage'],
  ['rotated.nii.gz', 'nifti'],
  ['rle.dcm', 'dicom'],
  ['stored12.dcm', 'dicom'],
  ['frames.gif', 'gif'],
];

test('decodeImage on bytes under any name equals readImage on the file; declaredSize gives the size', async (t) => {
  for (const [name, format] of SINGLE_FILES) {
    const file = path.join(FIXTURES, name);
    const bytes = readFileSync(file);
    const fromFile = await readImage(file);
    // A body without a name: the signature decides (NIfTI is gzipped here, so its name or format says).
    const fromBytes = await decodeImage(bytes, name.endsWith('.nii.gz') ? { format } : { name: 'request body' });
    t.is(fromBytes.format, format, name);
    t.deepEqual(fromBytes.volume.shape, fromFile.volume.shape, name);
    t.deepEqual(fromBytes.volume.spacing, fromFile.volume.spacing, name);
    t.deepEqual(fromBytes.volume.orientation, fromFile.volume.orientation, name);
    t.is(fromBytes.spacingSource, fromFile.spacingSource, name);
    t.deepEqual(Array.from(fromBytes.volume.data), Array.from(fromFile.volume.data), name);
    if (format === 'nifti') continue; // gzipped: sized after a bounded inflate (the server's job)
    const size = declaredSize(bytes, format);
    const { volume } = fromFile;
    const spatial = volume.channels ? volume.shape.slice(0, -1) : volume.shape;
    t.truthy(size, name);
    t.is(
      size!.voxels,
      spatial.reduce((a, b) => a * b, 1),
      `${name}: declared ${size!.dims.join('x')}`,
    );
  }
});

test('a multi-frame GIF (Pillow) reads as a [frames, H, W] stack of its frames', async (t) => {
  const read = await readImage(path.join(FIXTURES, 'frames.gif'));
  const want = EXPECTED2['frames.gif']!;
  t.deepEqual(read.volume.shape, want.shape);
  t.deepEqual(Array.from(read.volume.data), want.data);
  t.deepEqual(declaredSize(readFileSync(path.join(FIXTURES, 'frames.gif')), 'gif')!.dims, want.shape);
});

test('DICOM MONOCHROME1 (pydicom; uncompressed and RLE) reads as MONOCHROME2 would show it', async (t) => {
  for (const name of ['mono1.dcm', 'mono1-rle.dcm']) {
    const { volume } = await readImage(path.join(FIXTURES, name));
    const want = EXPECTED2[name]!;
    t.deepEqual(volume.shape, want.shape, name);
    t.deepEqual(volume.spacing, want.spacing, name);
    t.deepEqual(Array.from(volume.data), want.data, name);
  }
});

test('labels are written in the input format where rwseg writes it, PNG for 2D lossy/palette, NIfTI for DICOM', (t) => {
  const cases: [Parameters<typeof labelFormatFor>[0], number, ImageFormat][] = [
    ['nifti', 3, 'nifti'],
    ['png', 2, 'png'],
    ['tiff', 2, 'tiff'],
    ['tiff', 3, 'tiff'],
    ['nrrd', 3, 'nrrd'],
    ['metaimage', 3, 'metaimage'],
    ['jpeg', 2, 'png'],
    ['gif', 2, 'png'],
    ['bmp', 2, 'png'],
    ['gif', 3, 'nifti'],
    ['dicom', 2, 'nifti'],
    ['dicom-series', 3, 'nifti'],
  ];
  for (const [input, rank, want] of cases) t.is(labelFormatFor(input, rank), want, `${input} ${rank}D`);
  t.is(labelFileName('/data/case_01.nii.gz', 'nifti'), 'case_01.nii.gz');
  t.is(labelFileName('/data/ISIC_1.jpg', 'png'), 'ISIC_1.png');
  t.is(labelFileName('/data/ct1/', 'nifti'), 'ct1.nii.gz');
  t.is(labelFileName('/data/scan.mhd', 'metaimage'), 'scan.mha');
});

test('encodeImage writes what writeVolume writes; a read-only format is refused naming the others', async (t) => {
  const volume = await readVolume(path.join(FIXTURES, 'volume.mha'));
  const dir = tempDir();
  for (const [format, name] of [
    ['nrrd', 'v.nrrd'],
    ['metaimage', 'v.mha'],
    ['nifti', 'v.nii'],
  ] as const) {
    const file = path.join(dir, name);
    await writeVolume(file, volume);
    const bytes = await encodeImage(volume, format, { name: file });
    const again = await decodeImage(bytes, { format });
    const fromFile = await readVolume(file);
    t.deepEqual(again.volume.shape, fromFile.shape, name);
    t.deepEqual(again.volume.orientation, fromFile.orientation, name);
    t.deepEqual(Array.from(again.volume.data), Array.from(fromFile.data), name);
  }
  const error = await t.throwsAsync(encodeImage(volume, 'jpeg', { name: 'labels.jpg' }));
  t.regex(error!.message, /labels\.jpg: cannot write JPEG: it is read-only in rwseg; rwseg writes .*\.nrrd/);
});

test('a TIFF stack rwseg writes keeps its slice spacing for tifffile (ImageJ calibration)', async (t) => {
  const stack = await readVolume(path.join(FIXTURES, 'stack16.tif'));
  const file = path.join(tempDir(), 'labels.tif');
  await writeVolume(file, { ...stack, spacing: [2.5, 0.3, 0.4] });
  const back = await readImage(file);
  t.is(back.spacingSource, 'imagej');
  t.deepEqual(
    back.volume.spacing.map((s) => Math.round(s * 1e9) / 1e9),
    [2.5, 0.3, 0.4],
  );
  t.deepEqual(Array.from(back.volume.data), Array.from(stack.data));
  const python = '/usr/bin/python3';
  const script =
    'import sys, json, tifffile\n' +
    't = tifffile.TiffFile(sys.argv[1])\n' +
    'a = t.asarray()\n' +
    'print(json.dumps({"imagej": t.imagej_metadata, "data": a.ravel().tolist(), "shape": a.shape}))';
  let other: { imagej: { spacing: number; unit: string }; data: number[]; shape: number[] } | undefined;
  try {
    if (existsSync(python))
      other = JSON.parse(execFileSync(python, ['-c', script, file], { encoding: 'utf8', stdio: 'pipe' }));
  } catch (error) {
    if (!String((error as { stderr?: string }).stderr).includes('ModuleNotFoundError')) throw error;
  }
  if (!other) {
    if (isCi()) t.fail('tifffile not found');
    else t.log('SKIPPED the tifffile read: /usr/bin/python3 with tifffile not found');
    return;
  }
  t.deepEqual(other.shape, [3, 4, 5]);
  t.is(other.imagej.unit, 'mm');
  t.is(other.imagej.spacing, 2.5);
  // tifffile reads an ImageJ stack as one contiguous block: right only if the pages' pixels are back to back.
  t.deepEqual(other.data, Array.from(stack.data));
});
