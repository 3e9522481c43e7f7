/** The segment route: PNG and NIfTI in, label maps out in the same format, equal to onnxruntime run directly. */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { decodeNifti, decodePng, encodeNifti, encodePng } from '@rwseg/core/io';
import { MODELS, runDirect, startTestServer, type TestServer } from './helpers.js';

let t0: TestServer;
test.before(async () => {
  t0 = await startTestServer({ maxBatchSize: 4 });
});
test.after.always(async () => {
  await t0?.server.close();
});

/** z-score over the whole image, as rwseg.json of seg2d asks (population standard deviation). */
function zscore(values: ArrayLike<number>): Float32Array {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (values[i] - mean) ** 2 / n;
  return Float32Array.from(values, (v) => (v - mean) / Math.sqrt(variance));
}

/** Labels from onnxruntime on the whole image at once (seg2d is pointwise, so windows must not change them). */
async function expectedLabels(
  values: ArrayLike<number>,
  dims: number[],
  t: { true: (v: boolean, m?: string) => void },
): Promise<Uint8Array> {
  const out = await runDirect('seg2d', { image: { data: zscore(values), dims: [...dims, 1] } });
  const p = out.probabilities.data as Float32Array;
  const labels = new Uint8Array(p.length / 3);
  let minMargin = Infinity;
  for (let v = 0; v < labels.length; v++) {
    const row = Array.from(p.subarray(v * 3, v * 3 + 3));
    const order = [0, 1, 2].sort((a, b) => row[b] - row[a]);
    labels[v] = order[0];
    minMargin = Math.min(minMargin, row[order[0]] - row[order[1]]);
  }
  t.true(minMargin > 1e-4, 'test image has no near-ties between classes');
  return labels;
}

/** A gray image with dark, mid and bright regions (all three classes), no two pixels on a class boundary. */
function testImage(h: number, w: number, phase = 0): Uint8Array {
  return Uint8Array.from({ length: h * w }, (_, i) => {
    const y = Math.floor(i / w);
    const x = i % w;
    return [10, 25, 120, 128, 230, 245][(x + 2 * y + phase) % 6];
  });
}

test.serial(
  'PNG in, PNG label map out: sliding windows (8x8 patches over 20x13) equal whole-image onnxruntime',
  async (t) => {
    const [h, w] = [20, 13];
    const pixels = testImage(h, w);
    const png = encodePng({ data: pixels, shape: [h, w], spacing: [1, 1] }, 'in.png');
    const runsBefore = t0.server.store.get('seg2d').runs;
    const res = await fetch(`${t0.url}/v2/models/seg2d/segment`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'image/png');
    t.is(res.headers.get('x-rwseg-classes'), '["background","tissue","lesion"]');
    const { volume } = decodePng(new Uint8Array(await res.arrayBuffer()), 'out.png');
    t.deepEqual(volume.shape, [h, w]);
    const expected = await expectedLabels(pixels, [1, h, w], t);
    t.deepEqual(Uint8Array.from(volume.data), expected);
    t.deepEqual(new Set(expected), new Set([0, 1, 2]));
    // 20x13 with 8x8 patches and half overlap: 4 x 3 windows, sent in runs of at most 4 (maxBatchSize).
    t.is(t0.server.store.get('seg2d').runs - runsBefore, 3);
  },
);

test('NIfTI .nii.gz volume through a 2D model: slice by slice, spacing and shape kept, gzip back', async (t) => {
  const [d, h, w] = [3, 10, 9];
  const voxels = new Float32Array(d * h * w);
  for (let z = 0; z < d; z++)
    voxels.set(
      Float32Array.from(testImage(h, w, z), (v) => v * 0.5 - 40),
      z * h * w,
    );
  const nii = gzipSync(encodeNifti({ data: voxels, shape: [d, h, w], spacing: [2.5, 0.7, 0.8] }, 'in.nii'));
  const res = await fetch(`${t0.url}/v2/models/seg2d/segment`, {
    method: 'POST',
    headers: { 'content-type': 'application/gzip' },
    body: nii,
  });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/gzip');
  const bytes = new Uint8Array(await res.arrayBuffer());
  t.is(bytes[0], 0x1f);
  const { volume } = await decodeNifti(bytes, 'out.nii.gz');
  t.deepEqual(volume.shape, [d, h, w]);
  t.deepEqual(
    volume.spacing.map((s) => Math.round(s * 1000) / 1000),
    [2.5, 0.7, 0.8],
  );
  t.deepEqual(Uint8Array.from(volume.data), await expectedLabels(voxels, [d, h, w], t));
});

test('uncompressed .nii with application/octet-stream and ?format=nii comes back as .nii', async (t) => {
  const [h, w] = [6, 7];
  const voxels = Int16Array.from(testImage(h, w, 3), (v) => v * 3 - 100);
  const nii = encodeNifti({ data: voxels, shape: [h, w], spacing: [1.5, 1.5] }, 'in.nii');
  const res = await fetch(`${t0.url}/v2/models/seg2d/versions/1/segment?format=nii`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: nii,
  });
  t.is(res.status, 200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  t.not(bytes[0], 0x1f);
  const { volume } = await decodeNifti(bytes, 'out.nii');
  t.deepEqual(volume.shape, [h, w]);
  t.deepEqual(Uint8Array.from(volume.data), await expectedLabels(voxels, [1, h, w], t));
});

test('corrupt PNG, corrupt or truncated NIfTI and unknown formats are 400, and the route keeps working', async (t) => {
  const png = encodePng({ data: testImage(8, 8), shape: [8, 8], spacing: [1, 1] }, 'in.png');
  const nii = encodeNifti({ data: new Float32Array(64).fill(1), shape: [8, 8], spacing: [1, 1] }, 'in.nii');
  const cases: [Uint8Array | string, Record<string, string>, string, RegExp][] = [
    [png.subarray(0, 30), { 'content-type': 'image/png' }, '', /cannot decode the image: .*not a readable PNG/],
    [gzipSync(nii).subarray(0, 40), { 'content-type': 'application/gzip' }, '', /corrupt or truncated gzip/],
    [
      nii.subarray(0, 400),
      { 'content-type': 'application/octet-stream' },
      '?filename=scan.nii',
      /truncated voxel data/,
    ],
    ['hello', { 'content-type': 'text/plain' }, '', /cannot tell the image format/],
    ['hello', {}, '?format=webp', /unknown format 'webp'/],
  ];
  for (const [body, headers, query, message] of cases) {
    const res = await fetch(`${t0.url}/v2/models/seg2d/segment${query}`, { method: 'POST', headers, body });
    t.is(res.status, 400, String(message));
    t.regex(((await res.json()) as any).error, message);
  }
  const ok = await fetch(`${t0.url}/v2/models/seg2d/segment`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: png,
  });
  t.is(ok.status, 200);
});

test('segmenting with a model that is not an image model, or an unknown one, is a clear 4xx', async (t) => {
  const png = encodePng({ data: testImage(4, 4), shape: [4, 4], spacing: [1, 1] }, 'in.png');
  const affine = await fetch(`${t0.url}/v2/models/affine/segment`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: png,
  });
  t.is(affine.status, 400);
  t.regex(((await affine.json()) as any).error, /has shape \[-1,4\]; expected \[N, \.\.\.spatial, C\]/);
  const missing = await fetch(`${t0.url}/v2/models/nope/segment`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: png,
  });
  t.is(missing.status, 404);
});

/** A plain export folder of seg2d with a current model artifact (rwseg-model/2) carrying label values and a slice axis. */
function artifactFolder(
  sliceAxis: number,
  windowing: { patchSize: number[] | null; sizeGrid: number[] | null } = { patchSize: [8, 8], sizeGrid: [1, 1] },
): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rwseg-artifact-')), 'seg2d-v2');
  mkdirSync(dir);
  copyFileSync(path.join(MODELS, 'seg2d', '1', 'model.onnx'), path.join(dir, 'model.onnx'));
  const artifact = {
    schema: 'rwseg-model/2',
    rwsegVersion: '0.1.0',
    createdAt: '2026-12-01T00:00:00.000Z',
    dims: 2,
    inputChannels: 1,
    classes: [
      { index: 0, name: 'background' },
      { index: 1, name: 'tissue' },
      { index: 2, name: 'lesion' },
    ],
    ...windowing,
    normalization: { method: 'zscore', scope: 'per-image-and-channel' },
    spacing: [1, 1],
    sliceAxis,
    labelValues: [255, 0, 128],
    architecture: null,
    training: { loss: 'rrw', seed: null, epochs: null, config: null },
    metrics: { epoch: null, selection: 'unknown', meanDice: null, classes: null },
  };
  writeFileSync(path.join(dir, 'rwseg.json'), JSON.stringify(artifact));
  return dir;
}

test("a model artifact's labelValues and sliceAxis: stored values come back, slices run along the model's axis", async (t) => {
  const [d, h, w] = [3, 10, 9];
  const voxels = new Float32Array(d * h * w);
  for (let z = 0; z < d; z++)
    voxels.set(
      Float32Array.from(testImage(h, w, z), (v) => v * 0.5 - 40),
      z * h * w,
    );
  const nii = gzipSync(encodeNifti({ data: voxels, shape: [d, h, w], spacing: [2.5, 0.7, 0.8] }, 'in.nii'));
  const classes = await expectedLabels(voxels, [d, h, w], t);
  const runs: number[] = [];
  for (const sliceAxis of [0, 2]) {
    const served = await startTestServer({ models: artifactFolder(sliceAxis), maxBatchSize: 4 });
    try {
      const res = await fetch(`${served.url}/v2/models/seg2d-v2/segment`, {
        method: 'POST',
        headers: { 'content-type': 'application/gzip' },
        body: nii,
      });
      t.is(res.status, 200);
      const { volume } = await decodeNifti(new Uint8Array(await res.arrayBuffer()), 'out.nii.gz');
      // seg2d is pointwise: the slice axis changes the windows, not the labels; the labels are the stored values.
      t.deepEqual(
        Array.from(volume.data),
        Array.from(classes, (k) => [255, 0, 128][k]!),
      );
      runs.push(served.server.store.get('seg2d-v2').runs);
    } finally {
      await served.server.close();
    }
  }
  // Axis 0: 3 slices of 10x9, 2x2 windows each = 12 windows; axis 2: 9 slices of 3x10 (padded to 8x10), 1x2 each = 18.
  t.deepEqual(runs, [3, 5]);
});

test('an artifact without a patch on a model that takes any size: whole-image, one run per image', async (t) => {
  const [h, w] = [20, 13];
  const pixels = testImage(h, w);
  const png = encodePng({ data: pixels, shape: [h, w], spacing: [1, 1] }, 'in.png');
  const served = await startTestServer({
    models: artifactFolder(0, { patchSize: null, sizeGrid: [4, 4] }),
    maxBatchSize: 4,
  });
  try {
    const res = await fetch(`${served.url}/v2/models/seg2d-v2/segment`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    t.is(res.status, 200);
    const { volume } = decodePng(new Uint8Array(await res.arrayBuffer()), 'out.png');
    t.deepEqual(
      Array.from(volume.data),
      Array.from(await expectedLabels(pixels, [1, h, w], t), (k) => [255, 0, 128][k]!),
    );
    // 20x13 padded to 20x16: one window, where 8x8 sliding windows took three runs of four.
    t.is(served.server.store.get('seg2d-v2').runs, 1);
  } finally {
    await served.server.close();
  }
});
