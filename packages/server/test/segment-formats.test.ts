/**
 * The segment route on every single-file format core reads: bodies written by other tools (fixtures/formats,
 * make_formats.py), labels equal to onnxruntime on the decoded image, answered in the input's format where rwseg
 * writes it (PNG for JPEG/GIF/BMP, NIfTI for DICOM), and read back by an independent reader (tifffile, nibabel,
 * the NRRD/MetaImage specs: core's read_back.py) with the image's geometry. Then the size cap on formats whose
 * small files decode huge, and corrupt bodies of each format: 400 naming the format, never 500.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { decodeImage, decodePng } from '@rwseg/core/io';
import { isCi } from '@rwseg/core/testing';
import { runDirect, startTestServer, type TestServer } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/formats', import.meta.url));
const READ_BACK = fileURLToPath(new URL('../../../core/test/fixtures/formats/read_back.py', import.meta.url));
const GEOMETRY = JSON.parse(readFileSync(path.join(FIXTURES, 'geometry.json'), 'utf8')) as Record<
  string,
  { shape: number[]; spacing: number[]; origin?: number[]; direction?: number[][] }
>;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : undefined;

let t0: TestServer;
test.before(async () => {
  t0 = await startTestServer({ maxBatchSize: 4 });
});
test.after.always(async () => {
  await t0?.server.close();
});

/** What seg2d gives on these pixels: z-score over the image, argmax per pixel (slice by slice is the same). */
async function expectedLabels(values: ArrayLike<number>, dims: number[]): Promise<number[]> {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]! / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (values[i]! - mean) ** 2 / n;
  const normalized = Float32Array.from(values, (v) => (v - mean) / Math.sqrt(variance));
  const out = await runDirect('seg2d', { image: { data: normalized, dims: [...dims, 1] } });
  const p = out.probabilities!.data as Float32Array;
  return Array.from({ length: p.length / 3 }, (_, v) => {
    const row = Array.from(p.subarray(v * 3, v * 3 + 3));
    return row.indexOf(Math.max(...row));
  });
}

interface ReadBack {
  shape: number[];
  spacing: number[];
  origin: number[] | null;
  direction: number[][] | null;
  data: number[];
}

/** The answer as a tool that is not rwseg reads it; undefined (test skipped) without python's readers. */
function readBack(t: ExecutionContext, bytes: Uint8Array, extension: string): ReadBack | undefined {
  if (!PYTHON) {
    if (isCi()) t.fail('/usr/bin/python3 not found');
    else t.log('skipped: /usr/bin/python3 not found');
    return undefined;
  }
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'rwseg-segment-')), `labels${extension}`);
  writeFileSync(file, bytes);
  try {
    return JSON.parse(execFileSync(PYTHON, [READ_BACK, file], { encoding: 'utf8', stdio: 'pipe' })) as ReadBack;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? error);
    if (/ModuleNotFoundError/.test(stderr) && !isCi()) {
      t.log(`skipped the independent read-back: ${stderr.trim().split('\n').at(-1)}`);
      return undefined;
    }
    throw error;
  }
}

const close = (a: readonly number[], b: readonly number[], what: string, t: ExecutionContext) => {
  t.is(a.length, b.length, what);
  t.true(
    a.every((v, i) => Math.abs(v - b[i]!) < 1e-4),
    `${what}: [${a.join(', ')}] vs [${b.join(', ')}]`,
  );
};

async function segment(body: Uint8Array, query = '', headers: Record<string, string> = {}) {
  return fetch(`${t0.url}/v2/models/seg2d/segment${query}`, { method: 'POST', headers, body });
}

const CASES: [name: string, type: string | undefined, answer: string, extension: string][] = [
  ['gray.tif', 'image/tiff', 'image/tiff', '.tif'],
  ['stack.tif', undefined, 'image/tiff', '.tif'],
  ['oblique.nrrd', undefined, 'application/octet-stream', '.nrrd'],
  ['oblique.mha', undefined, 'application/octet-stream', '.mha'],
  ['slice.dcm', 'application/dicom', 'application/gzip', '.nii.gz'],
];

for (const [name, type, answer, extension] of CASES) {
  test(`${name} in (${type ?? 'format from the bytes'}): labels as ${extension} on the image's grid`, async (t) => {
    const body = readFileSync(path.join(FIXTURES, name));
    const res = await segment(body, '', type ? { 'content-type': type } : {});
    t.is(
      res.status,
      200,
      await res
        .clone()
        .text()
        .catch(() => ''),
    );
    t.is(res.headers.get('content-type'), answer);
    const disposition = res.headers.get('content-disposition') ?? '';
    t.is(disposition, `attachment; filename="labels${extension}"`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    // The labels are what onnxruntime gives on the image as core decodes it.
    const { volume } = await decodeImage(body, { name });
    const spatial = [...volume.shape];
    const expected = await expectedLabels(volume.data, spatial.length === 3 ? spatial : [1, ...spatial]);
    const want = GEOMETRY[name]!;
    const back = readBack(t, bytes, extension);
    if (!back) return;
    t.deepEqual(back.shape, want.shape);
    t.deepEqual(back.data, expected);
    t.deepEqual(new Set(back.data), new Set([0, 1, 2]));
    close(back.spacing, want.spacing, `${name} spacing`, t);
    if (want.origin) close(back.origin!, want.origin, `${name} origin`, t);
    if (want.direction) close(back.direction!.flat(), want.direction.flat(), `${name} direction`, t);
  });
}

test('JPEG, BMP and GIF in (by Content-Type, ?filename=, the bytes): PNG label maps out', async (t) => {
  const requests: [string, string, Record<string, string>][] = [
    ['gray.jpg', '', { 'content-type': 'image/jpeg' }],
    ['gray.bmp', '?filename=scan.BMP', {}],
    ['gray.gif', '', { 'content-type': 'application/octet-stream' }],
  ];
  for (const [name, query, headers] of requests) {
    const body = readFileSync(path.join(FIXTURES, name));
    const res = await segment(body, query, headers);
    t.is(res.status, 200, name);
    t.is(res.headers.get('content-type'), 'image/png', name);
    const { volume } = decodePng(new Uint8Array(await res.arrayBuffer()), 'out.png');
    const decoded = (await decodeImage(body, { name })).volume;
    t.deepEqual(volume.shape, GEOMETRY[name]!.shape, name);
    t.deepEqual(Array.from(volume.data), await expectedLabels(decoded.data, [1, ...decoded.shape]), name);
  }
});

test('?format= wins over Content-Type; a DICOM series or a detached header is refused saying why', async (t) => {
  const tiff = readFileSync(path.join(FIXTURES, 'gray.tif'));
  const ok = await segment(tiff, '?format=tif', { 'content-type': 'image/png' });
  t.is(ok.status, 200);
  t.is(ok.headers.get('content-type'), 'image/tiff');
  for (const query of ['?format=dicom-series', '?filename=volume.mhd', '?format=nhdr']) {
    const res = await segment(tiff, query);
    t.is(res.status, 400, query);
    const { error } = (await res.json()) as { error: string };
    t.regex(error, /DICOM series .* cannot be sent as one request body/, query);
  }
});

/** A copy of `bytes` with big-/little-endian integers written at the given offsets. */
function patched(bytes: Buffer, edits: [offset: number, value: number, width: 2 | 4, big?: boolean][]): Buffer {
  const out = Buffer.from(bytes);
  for (const [offset, value, width, big] of edits) {
    if (width === 2) big ? out.writeUInt16BE(value, offset) : out.writeUInt16LE(value, offset);
    else big ? out.writeUInt32BE(value, offset) : out.writeUInt32LE(value, offset);
  }
  return out;
}

/** Offset of a JPEG's first start-of-frame segment. */
function sofOffset(jpeg: Buffer): number {
  for (let p = 2; p < jpeg.length; p += 2 + jpeg.readUInt16BE(p + 2)) {
    const m = jpeg[p + 1]!;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return p;
  }
  throw new Error('no SOF');
}

test.serial('small bodies that declare huge images are 413 naming the cap, before anything is decoded', async (t) => {
  const s = await startTestServer({ maxVoxels: 100_000 });
  try {
    const read = (name: string) => readFileSync(path.join(FIXTURES, name));
    const jpeg = read('gray.jpg');
    const sof = sofOffset(jpeg);
    const nrrd = read('oblique.nrrd').toString('latin1').replace('sizes: 6 7 2', 'sizes: 600 700 2');
    const mha = read('oblique.mha').toString('latin1').replace('DimSize = 6 7 2', 'DimSize = 600 700 2');
    const cases: [string, Buffer, RegExp][] = [
      [
        'jpeg',
        patched(jpeg, [
          [sof + 5, 4000, 2, true],
          [sof + 7, 3000, 2, true],
        ]),
        /3000x4000 = 12000000 voxels/,
      ],
      [
        'bmp',
        patched(read('gray.bmp'), [
          [18, 5000, 4],
          [22, 5000, 4],
        ]),
        /5000x5000 = 25000000 voxels/,
      ],
      [
        'gif',
        patched(read('gray.gif'), [
          [6, 4000, 2],
          [8, 4000, 2],
        ]),
        /4000x4000 = 16000000 voxels/,
      ],
      ['nrrd', Buffer.from(nrrd, 'latin1'), /600x700x2 = 840000 voxels/],
      ['mha', Buffer.from(mha, 'latin1'), /600x700x2 = 840000 voxels/],
    ];
    for (const [format, body, message] of cases) {
      const res = await fetch(`${s.url}/v2/models/seg2d/segment?format=${format}`, { method: 'POST', body });
      t.is(res.status, 413, format);
      const { error } = (await res.json()) as { error: string };
      t.regex(error, message, format);
      t.regex(error, /limit of 100000 \(--max-voxels\)/, format);
    }
    // A TIFF whose ImageWidth/ImageLength say 4000 x 4000 (tag values found by walking the IFD).
    const tiff = read('gray.tif');
    const ifd = tiff.readUInt32LE(4);
    const edits: [number, number, 2 | 4][] = [];
    for (let e = 0; e < tiff.readUInt16LE(ifd); e++) {
      const at = ifd + 2 + e * 12;
      const tag = tiff.readUInt16LE(at);
      if (tag === 256 || tag === 257) edits.push([at + 8, 4000, tiff.readUInt16LE(at + 2) === 3 ? 2 : 4]);
    }
    t.is(edits.length, 2);
    const res = await fetch(`${s.url}/v2/models/seg2d/segment`, { method: 'POST', body: patched(tiff, edits) });
    t.is(res.status, 413);
    t.regex(((await res.json()) as { error: string }).error, /4000x4000 = 16000000 voxels/);
  } finally {
    await s.server.close();
  }
});

test('corrupt or truncated bodies of each format are 400 naming the format, and the route keeps working', async (t) => {
  const names = ['gray.tif', 'stack.tif', 'gray.jpg', 'gray.bmp', 'gray.gif', 'oblique.nrrd', 'oblique.mha'];
  names.push('slice.dcm');
  const FORMAT = /TIFF|JPEG|BMP|GIF|NRRD|MetaImage|DICOM/;
  for (const name of names) {
    const bytes = readFileSync(path.join(FIXTURES, name));
    for (const keep of [0.5, 0.9]) {
      const body = bytes.subarray(0, Math.floor(bytes.length * keep));
      const res = await segment(body, `?filename=${name}`);
      const text = await res.text();
      t.is(res.status, 400, `${name} cut to ${keep}: ${text}`);
      t.regex(JSON.parse(text).error, FORMAT, `${name} cut to ${keep}`);
    }
    // The right signature, zeros after it (no size, no pixels: a header that declares a huge size is a 413, above).
    const garbage = Buffer.concat([bytes.subarray(0, 8), Buffer.alloc(200)]);
    const res = await segment(garbage, `?filename=${name}`);
    const text = await res.text();
    t.is(res.status, 400, `${name} with garbage: ${text}`);
    t.regex(JSON.parse(text).error, FORMAT, `${name} with garbage`);
  }
  const ok = await segment(readFileSync(path.join(FIXTURES, 'gray.tif')));
  t.is(ok.status, 200);
});
