import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createLoader,
  createRegistry,
  downsampleLabels,
  isRwsegError,
  openDataset,
  syntheticDatasetInfo,
  writeVolume,
  type Batch,
  type MapRequest,
} from '../../src/index.js';
import { makeProbePluginProject } from '../fixtures/io/map-plugin.js';
import { tempDir } from '../fixtures/io/shared-data.js';

const project = makeProbePluginProject();
const registryOptions = { plugins: [project.specifier], baseDir: project.dir, builtins: false, packageJson: false };

async function probeRequest(options: Record<string, unknown> = {}): Promise<MapRequest> {
  const registry = await createRegistry(registryOptions);
  return registry.requestMap('label-probe', options);
}

function digest(batch: Batch): string {
  const h = createHash('sha256');
  h.update(new Uint8Array(batch.image.buffer));
  for (const s of batch.scales) {
    h.update(new Uint8Array(s.labels.buffer));
    h.update(new Uint8Array(s.target.buffer));
    for (const key of Object.keys(s.maps).sort()) h.update(new Uint8Array(s.maps[key]!.buffer));
  }
  h.update(batch.caseIds.join());
  return h.digest('hex');
}

const dataset2d = syntheticDatasetInfo({ dim: 2, size: [48, 40], cases: 6, numClasses: 3, seed: 1 });

test('loader: the same seed gives the same batch bytes with 0, 1 or 2 workers', async (t) => {
  const digests: string[][] = [];
  for (const workers of [0, 1, 2]) {
    const loader = await createLoader({
      dataset: dataset2d,
      patchShape: [32, 32],
      batchSize: 3,
      seed: 9,
      workers,
      scales: 2,
    });
    const list: string[] = [];
    for (let i = 0; i < 4; i++) list.push(digest(await loader.next()));
    await loader.close();
    digests.push(list);
  }
  t.deepEqual(digests[1], digests[0]);
  t.deepEqual(digests[2], digests[0]);
  t.is(new Set(digests[0]).size, 4, 'successive batches differ');
  const other = await createLoader({
    dataset: dataset2d,
    patchShape: [32, 32],
    batchSize: 3,
    seed: 10,
    workers: 0,
    scales: 2,
  });
  t.not(digest(await other.next()), digests[0]![0]);
  await other.close();
});

test('loader: batches carry one-hot targets, nearest-downsampled scales and the plugin map per scale (worker thread)', async (t) => {
  const probe = await probeRequest({ offset: 0.5 });
  const dataset = syntheticDatasetInfo({
    dim: 3,
    size: [24, 24, 24],
    cases: 3,
    numClasses: 3,
    seed: 4,
    spacing: [2, 1, 1],
  });
  const loader = await createLoader({
    dataset,
    patchShape: [16, 16, 16],
    batchSize: 3,
    seed: 2,
    workers: 1,
    scales: 3,
    maps: [probe],
    registry: registryOptions,
  });
  t.is(loader.workers, 1);
  const batch = await loader.next();
  await loader.close();
  t.is(batch.size, 3);
  t.is(batch.channels, 1);
  t.is(batch.numClasses, 3);
  t.deepEqual(batch.spacing, [2, 1, 1]);
  t.is(batch.image.length, 3 * 16 ** 3);
  t.deepEqual(
    batch.scales.map((s) => s.shape),
    [
      [16, 16, 16],
      [8, 8, 8],
      [4, 4, 4],
    ],
  );
  // The last third of the batch is forced onto foreground.
  t.true(batch.scales[0]!.labels.subarray(2 * 4096).some((l) => l > 0));
  batch.scales.forEach((scale, s) => {
    const n = scale.labels.length / 3;
    for (let b = 0; b < 3; b++) {
      const labels = scale.labels.subarray(b * n, (b + 1) * n);
      if (s > 0) {
        const prev = batch.scales[s - 1]!;
        const pn = prev.labels.length / 3;
        t.deepEqual(labels, downsampleLabels(prev.labels.subarray(b * pn, (b + 1) * pn), prev.shape).labels);
      }
    }
    const map = scale.maps[probe.key]!;
    t.truthy(map, `map ${probe.key} at scale ${s}`);
    // The plugin saw this scale's shape and spacing (doubling per scale).
    const v = scale.shape[0]! + (2 * 2 ** s) / 100 + 0.5;
    for (let i = 0; i < scale.labels.length; i++) {
      for (let k = 0; k < 3; k++) {
        const hot = scale.labels[i] === k;
        if (scale.target[i * 3 + k] !== (hot ? 1 : 0) || Math.abs(map[i * 3 + k]! - (hot ? v : -v)) > 1e-5) {
          t.fail(`scale ${s} voxel ${i} class ${k}: target ${scale.target[i * 3 + k]}, map ${map[i * 3 + k]}`);
          return;
        }
      }
    }
  });
});

test('loader: the built-in rrw map is computed in the workers: +1 outside each class, in [-1, 0) inside', async (t) => {
  const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
  const registry = await createRegistry({ baseDir: repoRoot, packageJson: false });
  const rrw = registry.requestMap('rrw');
  const loader = await createLoader({
    dataset: dataset2d,
    patchShape: [32, 32],
    batchSize: 2,
    workers: 1,
    maps: [rrw],
    scales: 2,
    registry: { baseDir: repoRoot, packageJson: false },
  });
  const batch = await loader.next();
  await loader.close();
  for (const scale of batch.scales) {
    const map = scale.maps[rrw.key]!;
    t.is(map.length, scale.target.length);
    let inside = 0;
    for (let i = 0; i < map.length; i++) {
      const ok = scale.target[i] === 1 ? map[i]! >= -1 && map[i]! < 0 : map[i] === 1;
      if (!ok) return t.fail(`voxel-class ${i}: target ${scale.target[i]}, rrw ${map[i]}`);
      if (scale.target[i] === 1) inside++;
    }
    t.is(inside, scale.labels.length);
  }
});

test('loader: 2D slices of 3D volumes, and small images padded to the patch', async (t) => {
  const dataset = syntheticDatasetInfo({ dim: 3, size: [12, 20, 20], cases: 2, seed: 3 });
  const loader = await createLoader({
    dataset,
    patchShape: [32, 32],
    batchSize: 2,
    workers: 0,
    augment: false,
    foregroundFraction: 0,
  });
  const batch = await loader.next();
  t.deepEqual(batch.scales[0]!.shape, [32, 32]);
  t.deepEqual(batch.spacing, [1, 1]);
  // A 20x20 slice in a 32x32 patch leaves at least 32*32 - 20*20 padded (zero) voxels per sample.
  const zeros = batch.image.subarray(0, 1024).filter((v) => v === 0).length;
  t.true(zeros >= 1024 - 400, `${zeros} zeros`);
});

async function brokenDataset(): Promise<string> {
  const root = tempDir('rwseg-broken-');
  await writeVolume(path.join(root, 'imagesTr', 'bad_case.nii.gz'), {
    data: new Float32Array(16 * 16 * 4),
    shape: [4, 16, 16],
    spacing: [1, 1, 1],
  });
  await writeVolume(path.join(root, 'labelsTr', 'bad_case.nii.gz'), {
    data: new Uint8Array(16 * 16 * 4).fill(5),
    shape: [4, 16, 16],
    spacing: [1, 1, 1],
  });
  writeFileSync(
    path.join(root, 'dataset.json'),
    JSON.stringify({
      labels: { 0: 'bg', 1: 'fg' },
      training: [{ image: './imagesTr/bad_case.nii.gz', label: './labelsTr/bad_case.nii.gz' }],
    }),
  );
  return root;
}

test('loader: a bad case in a worker rejects next() with an RwsegError naming the case and file', async (t) => {
  const dataset = openDataset(await brokenDataset());
  const loader = await createLoader({ dataset, patchShape: [8, 8], batchSize: 2, workers: 2 });
  const error = await t.throwsAsync(loader.next());
  t.true(isRwsegError(error, 'INVALID_INPUT'), String(error));
  t.true(error!.message.includes('bad_case') && error!.message.includes('label value 5'), error!.message);
  await loader.close();
  await t.throwsAsync(loader.next(), { message: /closed/ });
});

test('loader: a failing map plugin names the map and the case; an unknown map fails at start-up', async (t) => {
  const failing = await probeRequest({ failOn: 0 });
  const dataset = syntheticDatasetInfo({ dim: 2, size: [32, 32], cases: 2, seed: 1 });
  const loader = await createLoader({
    dataset,
    patchShape: [16, 16],
    batchSize: 2,
    workers: 1,
    maps: [failing],
    registry: registryOptions,
    foregroundFraction: 0,
  });
  const error = await t.throwsAsync(async () => {
    for (let i = 0; i < 20; i++) await loader.next();
  });
  t.regex(
    error!.message,
    /map "label-probe" failed on a patch of case synth_00\d .*probe refuses patches with class 0/,
  );
  await loader.close();
  const start = await t.throwsAsync(
    createLoader({
      dataset,
      patchShape: [16, 16],
      batchSize: 2,
      workers: 1,
      maps: [{ map: 'no-such-map', options: {}, key: 'x' }],
      registry: registryOptions,
    }),
  );
  t.true(isRwsegError(start, 'UNKNOWN_NAME'), String(start));
});

test('loader: a worker thread that dies rejects the pending batches instead of hanging', async (t) => {
  const crash = await probeRequest({ exitCode: 3 });
  const loader = await createLoader({
    dataset: dataset2d,
    patchShape: [16, 16],
    batchSize: 2,
    workers: 1,
    maps: [crash],
    registry: registryOptions,
  });
  const error = await t.throwsAsync(loader.next());
  t.true(isRwsegError(error, 'WORKER_FAILED'), String(error));
  t.regex(error!.message, /data loader worker exited unexpectedly \(code 3\)/);
  await t.throwsAsync(loader.next(), { message: /exited unexpectedly/ });
  await loader.close();
});

test('loader: close() while a batch is pending settles it', async (t) => {
  const loader = await createLoader({ dataset: dataset2d, patchShape: [32, 32], batchSize: 2, workers: 1 });
  const pending = loader.next();
  await loader.close();
  await t.throwsAsync(pending, { message: /closed while a batch was pending/ });
});

test('loader: bad options are refused before any worker starts', async (t) => {
  const base = { dataset: dataset2d, patchShape: [16, 16], batchSize: 2 };
  await t.throwsAsync(createLoader({ ...base, patchShape: [16] }), { message: /patchShape/ });
  await t.throwsAsync(createLoader({ ...base, batchSize: 0 }), { message: /batchSize/ });
  await t.throwsAsync(createLoader({ ...base, workers: -1 }), { message: /workers/ });
  await t.throwsAsync(createLoader({ ...base, cases: [] }), { message: /no cases/ });
});

test('loader: a process that forgets close() still exits', async (t) => {
  const index = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const script = `
    import { createLoader, syntheticDatasetInfo } from ${JSON.stringify(index)};
    const loader = await createLoader({ dataset: syntheticDatasetInfo({ size: [32, 32], cases: 2 }), patchShape: [16, 16], batchSize: 2, workers: 2 });
    const batch = await loader.next();
    console.log('got ' + String(batch.size));
  `;
  const file = path.join(tempDir('rwseg-exit-'), 'forgetful.mjs');
  writeFileSync(file, script);
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 30000);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  t.is(code, 0, out);
  t.regex(out, /got 2/);
});
