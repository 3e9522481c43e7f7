import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import {
  decodeNifti,
  encodeNifti,
  isRwsegError,
  readNifti,
  readPng,
  readVolume,
  writeNifti,
  writePng,
  writeVolume,
  type NiftiDatatypeName,
  type Volume,
} from '../../src/index.js';
import { IO_FIXTURES, SHARED_DATA, sharedDataTest, tempDir } from '../fixtures/io/shared-data.js';

interface Probe {
  index: number[];
  value: number;
}
interface Expected {
  file: string;
  shape: number[];
  spacing?: number[];
  sum: number;
  probes: Probe[];
  counts?: Record<string, number> | null;
  datatype?: number;
  srow?: number[];
  qformCode?: number;
  sformCode?: number;
}
const expected = JSON.parse(readFileSync(path.join(IO_FIXTURES, 'expected.json'), 'utf8')) as {
  nifti: Expected[];
  png: Expected[];
};

function at(volume: Volume, index: number[]): number {
  let flat = 0;
  index.forEach((i, axis) => (flat = flat * volume.shape[axis]! + i));
  return volume.data[flat]!;
}

function counts(data: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < data.length; i++) out[String(data[i])] = (out[String(data[i])] ?? 0) + 1;
  return out;
}

function sum(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  return s;
}

const ARRAY_BY_DATATYPE: Record<number, Function> = { 2: Uint8Array, 16: Float32Array };

for (const ref of expected.nifti) {
  sharedDataTest(`io: ${ref.file} matches the numpy reference`, async (t) => {
    const { header, volume } = await readNifti(path.join(SHARED_DATA, ref.file));
    t.deepEqual(volume.shape, ref.shape);
    t.deepEqual(volume.spacing, ref.spacing);
    t.is(header.datatype as number, ref.datatype!);
    t.true(volume.data instanceof ARRAY_BY_DATATYPE[ref.datatype!]!);
    t.is(header.qformCode, ref.qformCode!);
    t.is(header.sformCode, ref.sformCode!);
    t.deepEqual(header.srow.flat(), ref.srow);
    for (const probe of ref.probes) t.is(at(volume, probe.index), probe.value, `voxel [${probe.index}]`);
    t.true(Math.abs(sum(volume.data) - ref.sum) <= 1e-6 * Math.abs(ref.sum));
    if (ref.counts) t.deepEqual(counts(volume.data), ref.counts);
  });
}

for (const ref of expected.png) {
  sharedDataTest(`io: ${ref.file} matches the numpy reference`, async (t) => {
    const volume = await readVolume(path.join(SHARED_DATA, ref.file));
    t.deepEqual(volume.shape, ref.shape);
    t.deepEqual(volume.spacing, [1, 1]);
    t.true(volume.data instanceof Uint8Array);
    for (const probe of ref.probes) t.is(at(volume, probe.index), probe.value, `pixel [${probe.index}]`);
    t.is(sum(volume.data), ref.sum);
    if (ref.counts) t.deepEqual(counts(volume.data), ref.counts);
  });
}

/** A deterministic ramp with negative, fractional and large values where the datatype allows them. */
function sampleData(datatype: NiftiDatatypeName, n: number): Volume['data'] {
  const make: Record<NiftiDatatypeName, (i: number) => number> = {
    uint8: (i) => (i * 37) % 256,
    int8: (i) => ((i * 37) % 256) - 128,
    int16: (i) => ((i * 7919) % 65536) - 32768,
    uint16: (i) => (i * 7919) % 65536,
    int32: (i) => ((i * 2654435761) % 2 ** 31) - 2 ** 30,
    uint32: (i) => (i * 2654435761) % 2 ** 32,
    float32: (i) => Math.fround(Math.sin(i) * 1e4),
    float64: (i) => Math.sin(i) * 1e-7 + i * 1e12,
  };
  const Ctor = {
    uint8: Uint8Array,
    int8: Int8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
    float32: Float32Array,
    float64: Float64Array,
  }[datatype];
  const out = new Ctor(n);
  for (let i = 0; i < n; i++) out[i] = make[datatype](i);
  return out;
}

const DATATYPES: NiftiDatatypeName[] = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];
for (const datatype of DATATYPES) {
  for (const ext of ['.nii', '.nii.gz']) {
    test(`io: NIfTI ${datatype} round trip (${ext}, 3D anisotropic)`, async (t) => {
      const dir = tempDir();
      const volume: Volume = { data: sampleData(datatype, 4 * 5 * 6), shape: [4, 5, 6], spacing: [2.5, 0.75, 0.5] };
      const file = path.join(dir, `v${ext}`);
      await writeVolume(file, volume);
      const back = await readNifti(file);
      t.is(back.volume.data.constructor, volume.data.constructor);
      t.deepEqual(Array.from(back.volume.data), Array.from(volume.data));
      t.deepEqual(back.volume.shape, [4, 5, 6]);
      t.deepEqual(back.volume.spacing, [2.5, 0.75, 0.5]);
      // On disk x (the last Volume axis) is dim[1].
      t.deepEqual(back.header.dims, [6, 5, 4]);
      t.deepEqual(back.header.pixdim, [0.5, 0.75, 2.5]);
      t.is(readFileSync(file)[0] === 0x1f, ext === '.nii.gz');
    });
  }
}

test('io: NIfTI 2D and multi-channel volumes keep their layout', async (t) => {
  const dir = tempDir();
  const flat: Volume = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3], spacing: [0.5, 2] };
  await writeNifti(path.join(dir, 'flat.nii'), flat);
  const flatBack = await readNifti(path.join(dir, 'flat.nii'));
  t.deepEqual(flatBack.header.dims, [3, 2]);
  t.deepEqual(flatBack.volume.shape, [2, 3]);
  t.deepEqual(flatBack.volume.spacing, [0.5, 2]);

  // Channels-last in memory, channel-slowest (dim[4]) on disk.
  const twoChannel: Volume = {
    data: Int16Array.from([10, 20, 11, 21, 12, 22, 13, 23]),
    shape: [1, 2, 2, 2],
    spacing: [1, 1, 1],
    channels: 2,
  };
  await writeNifti(path.join(dir, 'mc.nii'), twoChannel);
  const raw = readFileSync(path.join(dir, 'mc.nii'));
  t.deepEqual(
    Array.from(new Int16Array(raw.buffer.slice(raw.byteOffset + 352, raw.byteOffset + 368))),
    [10, 11, 12, 13, 20, 21, 22, 23],
  );
  const back = await readNifti(path.join(dir, 'mc.nii'));
  t.is(back.volume.channels, 2);
  t.deepEqual(back.volume.shape, [1, 2, 2, 2]);
  t.deepEqual(Array.from(back.volume.data), Array.from(twoChannel.data));
});

sharedDataTest('io: orientation (qform, sform, qfac) and description survive a read-write round trip', async (t) => {
  const source = path.join(SHARED_DATA, 'msd-task04-hippocampus/labelsTr/hippocampus_003.nii.gz');
  const original = await readNifti(source);
  const header = {
    ...original.header,
    quatern: [0.5, -0.5, 0.5] as [number, number, number],
    qoffset: [-90, 126, -72] as [number, number, number],
    qfac: -1,
    srow: [
      [0, 0, -1.5, 10],
      [1, 0, 0, -3],
      [0, 2, 0, 7],
    ] as [number[], number[], number[]],
    descrip: 'oriented',
  };
  const dir = tempDir();
  await writeNifti(path.join(dir, 'a.nii.gz'), original.volume, { header });
  const back = await readNifti(path.join(dir, 'a.nii.gz'));
  for (const key of ['qformCode', 'sformCode', 'quatern', 'qoffset', 'qfac', 'srow', 'descrip', 'xyztUnits'] as const) {
    t.deepEqual(back.header[key], header[key], key);
  }
  t.deepEqual(Array.from(back.volume.data), Array.from(original.volume.data));
  t.true(back.volume.data instanceof Float32Array, 'the float32 label keeps its stored type');
});

function withHeaderEdit(bytes: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = new Uint8Array(bytes);
  edit(new DataView(copy.buffer));
  return copy;
}

test('io: scl_slope and scl_inter are applied on read; NaN or zero slope means none', async (t) => {
  const stored = encodeNifti({ data: Int16Array.from([0, 1, -2, 300]), shape: [4], spacing: [1] }, 'x.nii');
  const scaled = withHeaderEdit(stored, (v) => {
    v.setFloat32(112, 2.5, true);
    v.setFloat32(116, -3, true);
  });
  const a = await decodeNifti(scaled, 'scaled.nii');
  t.true(a.volume.data instanceof Float32Array);
  t.deepEqual(Array.from(a.volume.data), [-3, -0.5, -8, 747]);
  for (const slope of [Number.NaN, 0]) {
    const none = await decodeNifti(
      withHeaderEdit(stored, (v) => {
        v.setFloat32(112, slope, true);
        v.setFloat32(116, 5, true);
      }),
      'none.nii',
    );
    t.true(none.volume.data instanceof Int16Array);
    t.deepEqual(Array.from(none.volume.data), [0, 1, -2, 300]);
  }
});

test('io: big-endian NIfTI files are byte-swapped', async (t) => {
  const le = encodeNifti({ data: Int16Array.from([1, -2, 258]), shape: [3], spacing: [1.5] }, 'x.nii');
  const be = new Uint8Array(le.length);
  be.set(le);
  const view = new DataView(be.buffer);
  const lv = new DataView(le.buffer);
  // Swap every numeric header field we read, then the voxels.
  view.setInt32(0, 348, false);
  for (let o = 40; o < 76; o += 2) view.setInt16(o, lv.getInt16(o, true), false);
  for (let o = 76; o < 148; o += 4) if (o !== 120) view.setFloat32(o, lv.getFloat32(o, true), false);
  view.setInt16(120, lv.getInt16(120, true), false);
  for (let o = 252; o < 256; o += 2) view.setInt16(o, lv.getInt16(o, true), false);
  for (let o = 256; o < 328; o += 4) view.setFloat32(o, lv.getFloat32(o, true), false);
  for (let o = 352; o < le.length; o += 2) view.setInt16(o, lv.getInt16(o, true), false);
  const { header, volume } = await decodeNifti(be, 'be.nii');
  t.false(header.littleEndian);
  t.deepEqual(Array.from(volume.data), [1, -2, 258]);
  t.deepEqual(volume.spacing, [1.5]);
});

test('io: PNG 8-bit and 16-bit gray round trip', async (t) => {
  const dir = tempDir();
  const eight: Volume = { data: Uint8Array.from({ length: 12 }, (_, i) => i * 21), shape: [3, 4], spacing: [1, 1] };
  await writePng(path.join(dir, 'a.png'), eight);
  const a = await readPng(path.join(dir, 'a.png'));
  t.deepEqual(a.info, { width: 4, height: 3, bitDepth: 8, colorType: 0 });
  t.deepEqual(Array.from(a.volume.data), Array.from(eight.data));

  const sixteen: Volume = {
    data: Uint16Array.from({ length: 12 }, (_, i) => i * 5000 + 7),
    shape: [4, 3],
    spacing: [1, 1],
  };
  await writeVolume(path.join(dir, 'b.png'), sixteen);
  const b = await readPng(path.join(dir, 'b.png'));
  t.is(b.info.bitDepth, 16);
  t.true(b.volume.data instanceof Uint16Array);
  t.deepEqual(b.volume.shape, [4, 3]);
  t.deepEqual(Array.from(b.volume.data), Array.from(sixteen.data));

  // A label map held as Int32 (as the loader keeps labels) stores as 8-bit when its values fit.
  await writeVolume(path.join(dir, 'l.png'), { data: Int32Array.from([0, 1, 2, 4]), shape: [2, 2], spacing: [1, 1] });
  const l = await readPng(path.join(dir, 'l.png'));
  t.is(l.info.bitDepth, 8);
  t.deepEqual(Array.from(l.volume.data), [0, 1, 2, 4]);
});

function rgbPng(file: string, pixels: number[][]): void {
  const png = new PNG({ width: pixels.length, height: 1, colorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(pixels.flat());
  writeFileSync(file, PNG.sync.write(png, { colorType: 2, inputHasAlpha: false }));
}

test('io: color PNGs load as gray when R=G=B, as 3 channels otherwise, or refused / converted on request', async (t) => {
  const dir = tempDir();
  rgbPng(path.join(dir, 'gray.png'), [
    [5, 5, 5],
    [200, 200, 200],
  ]);
  t.deepEqual(Array.from((await readVolume(path.join(dir, 'gray.png'))).data), [5, 200]);
  const color = path.join(dir, 'color.png');
  rgbPng(color, [
    [5, 5, 5],
    [255, 0, 0],
  ]);
  const rgb = await readVolume(color);
  t.deepEqual([rgb.shape, rgb.channels, Array.from(rgb.data)], [[1, 2, 3], 3, [5, 5, 5, 255, 0, 0]]);
  const error = await t.throwsAsync(readVolume(color, { color: 'reject' }));
  t.true(isRwsegError(error, 'INVALID_INPUT'));
  t.true(error!.message.includes(color) && error!.message.includes('x=1, y=0'), error!.message);
  t.deepEqual(Array.from((await readPng(color, { color: 'luminance' })).volume.data), [5, 76]);
});

async function ioError(
  t: import('ava').ExecutionContext,
  promise: Promise<unknown>,
  ...mustContain: string[]
): Promise<void> {
  const error = await t.throwsAsync(promise);
  t.true(isRwsegError(error), `not an RwsegError: ${error}`);
  for (const text of mustContain) t.true(error!.message.includes(text), `"${error!.message}" lacks "${text}"`);
}

test('io: bad input fails with an RwsegError naming the file', async (t) => {
  const dir = tempDir();
  const missing = path.join(dir, 'missing.nii.gz');
  await ioError(t, readVolume(missing), missing, 'not found');

  const good = gzipSync(
    encodeNifti({ data: new Float32Array(1000).fill(1), shape: [10, 10, 10], spacing: [1, 1, 1] }, 'g'),
  );
  const truncatedGz = path.join(dir, 'truncated.nii.gz');
  writeFileSync(truncatedGz, good.subarray(0, good.length >> 1));
  await ioError(t, readVolume(truncatedGz), truncatedGz, 'truncated');

  const corruptGz = path.join(dir, 'corrupt.nii.gz');
  const corrupt = Buffer.from(good);
  for (let i = 20; i < 60; i++) corrupt[i] = corrupt[i]! ^ 0x5a;
  writeFileSync(corruptGz, corrupt);
  await ioError(t, readVolume(corruptGz), corruptGz, 'corrupt');

  const shortData = path.join(dir, 'short.nii');
  writeFileSync(shortData, gunzipSync(good).subarray(0, 2000));
  await ioError(t, readVolume(shortData), shortData, 'truncated voxel data', '10x10x10');

  const complex = path.join(dir, 'complex.nii');
  writeFileSync(
    complex,
    withHeaderEdit(gunzipSync(good), (v) => v.setInt16(70, 32, true)),
  );
  await ioError(t, readVolume(complex), complex, 'datatype 32', 'complex64');

  const notNifti = path.join(dir, 'text.nii');
  writeFileSync(notNifti, 'hello');
  await ioError(t, readVolume(notNifti), notNifti, 'not a NIfTI-1 file');

  const badPng = path.join(dir, 'bad.png');
  writeFileSync(badPng, Buffer.alloc(100, 7));
  await ioError(t, readVolume(badPng), badPng, 'PNG');

  const unknown = path.join(dir, 'x.xyz');
  writeFileSync(unknown, 'neither an image nor a known extension');
  await ioError(t, readVolume(unknown), 'x.xyz', 'unrecognized image format');

  const mismatch = path.join(dir, 'mismatch.nii');
  await ioError(
    t,
    writeVolume(mismatch, { data: new Float32Array(5), shape: [2, 3], spacing: [1, 1] }),
    mismatch,
    '[2, 3]',
    '5',
  );
  await ioError(
    t,
    writeVolume(mismatch, { data: new Float32Array(6), shape: [2, 3], spacing: [1] }),
    mismatch,
    'spacing',
  );
  await ioError(
    t,
    writeVolume(path.join(dir, 'neg.png'), { data: Float32Array.from([0, -1]), shape: [1, 2], spacing: [1, 1] }),
    'neg.png',
    '-1',
  );
  await ioError(
    t,
    writeNifti(
      path.join(dir, 'wrap.nii'),
      { data: Float32Array.from([0, 300]), shape: [2], spacing: [1] },
      { datatype: 'uint8' },
    ),
    'wrap.nii',
    '300',
    'uint8',
  );
});
