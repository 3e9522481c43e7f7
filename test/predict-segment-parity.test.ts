/**
 * One inference engine: `rwseg predict` (TF.js on the trained model) and `POST /v2/models/{m}/segment` (the real
 * `rwseg serve` on a real socket, onnxruntime on the exported model) give byte-identical label maps on the same
 * image, for PNG and NIfTI, a 2D model on 2D images and on 3D volumes slice by slice, and a 3D model; and
 * `rwseg evaluate` scores the run's validation cases exactly as training's validation did, reading the run's
 * label map and normalization itself.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { tf, useBackend } from '@rwseg/core';
import { applyNormalization } from '@rwseg/core/artifact';
import { generateSyntheticCase, resolveSyntheticOptions } from '@rwseg/core/data';
import { withAnySpatialSize } from '@rwseg/core/inference';
import { decodeNifti, decodePng, encodeNifti, encodePng, readVolume } from '@rwseg/core/io';
import { loadModelDir } from '@rwseg/core/training';
import { CLI_BIN, errorText, parseJson, runCli } from '@rwseg/test-helpers/cli';

const work = mkdtempSync(path.join(tmpdir(), 'rwseg-parity-'));

/** The real `rwseg serve` on port 0 over one export folder; resolves once the model is listed. */
function serve(models: string, name: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [CLI_BIN, 'serve', '--models', models, '--port', '0', '--provider', 'cpu'], {
    stdio: 'pipe',
  });
  let out = '';
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => (child.kill('SIGKILL'), reject(new Error(`rwseg serve did not start:\n${out}`))),
      60_000,
    );
    child.on('exit', (code) => (clearTimeout(timer), reject(new Error(`rwseg serve exited ${code}:\n${out}`))));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const match = new RegExp(`listening on (http://\\S+)[^]*${name}/1: .*\\n`).exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, stop: () => child.kill('SIGKILL') });
      }
    });
  });
}

async function train(
  name: string,
  pipeline: Record<string, unknown>,
  exportFlags: string[] = [],
): Promise<{ run: string; exported: string }> {
  const yaml = path.join(work, `${name}.yaml`);
  writeFileSync(yaml, JSON.stringify({ name, ...pipeline, loss: 'dice', evaluation: { overlays: 0 } }));
  const run = path.join(work, `${name}-run`);
  const trained = await runCli(['pipeline', 'run', yaml, '--out', run, '--backend', 'cpu', '--json'], {
    timeoutMs: 300_000,
  });
  if (trained.code !== 0) throw new Error(`training ${name} failed: ${trained.stdout} ${errorText(trained)}`);
  const exported = path.join(work, 'exports', name);
  const result = await runCli(['export', '--model', run, '--out', exported, '--json', ...exportFlags], {
    timeoutMs: 120_000,
  });
  if (result.code !== 0) throw new Error(`export ${name} failed: ${result.stdout} ${errorText(result)}`);
  return { run, exported };
}

/** `rwseg predict` to `out`, then the same file POSTed to /segment; both label maps as decoded voxels. */
async function bothWays(model: string, url: string, name: string, input: string, ext: string, extra: string[] = []) {
  const out = path.join(work, `${path.basename(input)}.predicted${ext}`);
  const predicted = await runCli([
    'predict',
    '--model',
    path.join(model, 'model'),
    '--input',
    input,
    '--out',
    out,
    '--backend',
    'cpu',
    '--json',
    ...extra,
  ]);
  if (predicted.code !== 0) throw new Error(`predict failed: ${predicted.stdout} ${errorText(predicted)}`);
  const res = await fetch(`${url}/v2/models/${name}/segment?filename=${path.basename(input)}`, {
    method: 'POST',
    body: readFileSync(input),
  });
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`segment answered ${res.status}: ${Buffer.from(body).toString()}`);
  const served =
    ext === '.png' ? decodePng(body, 'response.png').volume : (await decodeNifti(body, `response${ext}`)).volume;
  return { cli: await readVolume(out), served, json: parseJson(predicted), file: readFileSync(out), body };
}

// 2D PNG folder pair whose labels are stored as 255 / 0 / 128 for classes 0 / 1 / 2 (the run's label map).
const LABEL_MAP = { '255': 0, '0': 1, '128': 2 };
const STORED = [255, 0, 128];

function writePngPairs(root: string, count: number, size: [number, number], seed: number): string[] {
  mkdirSync(path.join(root, 'images'), { recursive: true });
  mkdirSync(path.join(root, 'labels'), { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const c = generateSyntheticCase(resolveSyntheticOptions({ size, numClasses: 3, seed }), i);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of c.image.data) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
    const gray = Uint8Array.from(c.image.data, (v) => Math.round((255 * (v - lo)) / (hi - lo)));
    const name = `case${i}.png`;
    writeFileSync(path.join(root, 'images', name), encodePng({ data: gray, shape: size, spacing: [1, 1] }, name));
    writeFileSync(
      path.join(root, 'labels', name),
      encodePng({ data: Uint8Array.from(c.label!.data, (k) => STORED[k]!), shape: size, spacing: [1, 1] }, name),
    );
    files.push(path.join(root, 'images', name));
  }
  return files;
}

let png: Promise<{ run: string; exported: string; images: string[] }> | undefined;
function pngModel() {
  png ??= (async () => {
    const root = path.join(work, 'pngs');
    const images = writePngPairs(root, 5, [40, 44], 11);
    const trained = await train('parity-png', {
      dataset: { kind: 'folder', path: root, numClasses: 3, labelMap: LABEL_MAP, validationFraction: 0.4 },
      preprocessing: { patch: [32, 32] },
      model: { depth: 3, baseFilters: 4 },
      training: { epochs: 1, iterationsPerEpoch: 3, batchSize: 2, workers: 0 },
    });
    return { ...trained, images };
  })();
  return png;
}

test.serial(
  '2D PNG and NIfTI: predict and /segment give byte-identical label maps, in the stored label values',
  async (t) => {
    const { run, exported, images } = await pngModel();
    const server = await serve(exported, 'parity-png');
    t.teardown(server.stop);
    // A training image (40x44: windows overlap on both axes) and a new one smaller than the patch on one axis.
    const small = path.join(work, 'small.png');
    const c = generateSyntheticCase(resolveSyntheticOptions({ size: [24, 50], numClasses: 3, seed: 99 }), 0);
    writeFileSync(
      small,
      encodePng(
        {
          data: Uint8Array.from(c.image.data, (v) => Math.max(0, Math.min(255, Math.round(v * 60 + 100)))),
          shape: [24, 50],
          spacing: [1, 1],
        },
        'small.png',
      ),
    );
    for (const input of [images[0]!, small]) {
      const { cli, served, json, file, body } = await bothWays(run, server.url, 'parity-png', input, '.png');
      t.deepEqual([...served.shape], [...cli.shape]);
      t.deepEqual(
        Buffer.from(served.data.buffer, served.data.byteOffset, served.data.byteLength),
        Buffer.from(cli.data.buffer, cli.data.byteOffset, cli.data.byteLength),
        input,
      );
      t.deepEqual(Buffer.from(body), file, `${input}: the PNG files themselves`);
      t.true(new Set(cli.data).size > 1, `${input}: more than one class predicted`);
      t.true(
        [...new Set(cli.data)].every((v) => STORED.includes(v)),
        'labels are the stored values 255 / 0 / 128',
      );
      t.is(json.normalization, 'zscore');
    }
    // The same image as a 2D NIfTI (float voxels).
    const { volume } = decodePng(readFileSync(images[1]!), 'case1.png');
    const nii = path.join(work, 'case1.nii.gz');
    writeFileSync(
      nii,
      (await import('node:zlib')).gzipSync(
        encodeNifti({ data: Float32Array.from(volume.data), shape: volume.shape, spacing: [0.5, 0.5] }, 'case1.nii'),
      ),
    );
    const { cli, served } = await bothWays(run, server.url, 'parity-png', nii, '.nii.gz');
    t.deepEqual([...served.shape], [40, 44]);
    t.deepEqual(Array.from(served.data), Array.from(cli.data));
  },
);

test.serial(
  "evaluate on the folder dataset reuses the run's label map and scores the validation cases as validation did",
  async (t) => {
    const { run } = await pngModel();
    const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
    const validated = summary.finalValidation.cases as { id: string; metrics: unknown }[];
    t.true(validated.length >= 1);
    const evaluated = await runCli([
      'evaluate',
      '--model',
      path.join(run, 'model'),
      '--data',
      path.join(work, 'pngs'),
      '--backend',
      'cpu',
      '--json',
    ]);
    t.is(evaluated.code, 0, errorText(evaluated));
    const cases = parseJson(evaluated).cases as { id: string; metrics: unknown }[];
    t.is(cases.length, 5);
    for (const v of validated) t.deepEqual(cases.find((c) => c.id === v.id)?.metrics, v.metrics, v.id);
  },
);

test.serial(
  'a 2D model on 3D NIfTI volumes (slices along axis 2) and a 3D model: predict and /segment agree byte for byte',
  async (t) => {
    const msd = path.join(work, 'msd3d');
    const synth = await runCli([
      'dataset',
      'synth',
      '--out',
      msd,
      '--dim',
      '3',
      '--size',
      '8x20x28',
      '--spacing',
      '3x1x1',
      '--cases',
      '3',
      '--seed',
      '5',
      '--json',
    ]);
    t.is(synth.code, 0, errorText(synth));
    const volumes = readdirSync(path.join(msd, 'imagesTr')).map((f) => path.join(msd, 'imagesTr', f));
    const common = {
      dataset: { kind: 'msd', root: msd, validationFraction: 0.34 },
      training: { epochs: 1, iterationsPerEpoch: 2, batchSize: 2, workers: 0 },
    };
    const slices = await train('parity-slices', {
      ...common,
      preprocessing: { patch: [8, 16], sliceAxis: 2 },
      model: { depth: 3, baseFilters: 4 },
    });
    const cube = await train('parity-3d', {
      ...common,
      preprocessing: { patch: [4, 16, 16] },
      model: { depth: 2, baseFilters: 2 },
    });
    // The slice axis travels from training through the artifact to both predict and the server.
    t.is(JSON.parse(readFileSync(path.join(slices.exported, 'rwseg.json'), 'utf8')).sliceAxis, 2);
    for (const [name, trained] of [
      ['parity-slices', slices],
      ['parity-3d', cube],
    ] as const) {
      const server = await serve(trained.exported, name);
      try {
        const { cli, served } = await bothWays(trained.run, server.url, name, volumes[0]!, '.nii.gz');
        t.deepEqual([...served.shape], [8, 20, 28], name);
        t.deepEqual(Array.from(served.data), Array.from(cli.data), name);
      } finally {
        server.stop();
      }
    }
  },
);

test.serial(
  'predict: an image the model cannot take and a bad --overlap are one-line errors naming them, exit 2',
  async (t) => {
    const { run } = await pngModel();
    const oneD = path.join(work, 'one-d.nii');
    writeFileSync(oneD, encodeNifti({ data: new Float32Array(9), shape: [9], spacing: [1] }, 'one-d.nii'));
    const model = path.join(run, 'model');
    const wrongRank = await runCli([
      'predict',
      '--model',
      model,
      '--input',
      oneD,
      '--out',
      path.join(work, 'x.nii'),
      '--backend',
      'cpu',
    ]);
    t.is(wrongRank.code, 2);
    t.regex(
      errorText(wrongRank),
      /cannot apply a 2D model to .*one-d\.nii \(1D, shape \[9\]\): the image must be 2D, or 3D to be predicted slice/,
    );
    const overlap = await runCli([
      'predict',
      '--model',
      model,
      '--input',
      oneD,
      '--out',
      path.join(work, 'x.nii'),
      '--overlap',
      '1',
      '--backend',
      'cpu',
    ]);
    t.is(overlap.code, 2);
    t.regex(errorText(overlap), /--overlap "1": expected a number in \[0, 1\)/);
  },
);

test.serial('predict --mode whole-image: the U-Net once on the image padded (centered) to its size grid', async (t) => {
  const { run, images } = await pngModel();
  await useBackend('cpu');
  const model = path.join(run, 'model');
  // A 38x42 crop of a training image: off the depth-3 U-Net's grid of 4, so it is padded to 40x44 (1 voxel before).
  const { volume } = decodePng(readFileSync(images[2]!), 'case2.png');
  const [h, w] = [38, 42];
  const crop = Uint8Array.from({ length: h * w }, (_, i) => volume.data[Math.floor(i / w) * 44 + (i % w)]!);
  const cropFile = path.join(work, 'crop.png');
  writeFileSync(cropFile, encodePng({ data: crop, shape: [h, w], spacing: [1, 1] }, 'crop.png'));
  const cropOut = path.join(work, 'crop-whole.png');
  const cropped = await runCli([
    'predict',
    '--model',
    model,
    '--input',
    cropFile,
    '--out',
    cropOut,
    '--mode',
    'whole-image',
    '--backend',
    'cpu',
  ]);
  t.is(cropped.code, 0, errorText(cropped));
  const net = await withAnySpatialSize((await loadModelDir(model)).model);
  const normalized = applyNormalization(crop, 1, { method: 'zscore', scope: 'per-image-and-channel' });
  const padded = new Float32Array(40 * 44);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) padded[(y + 1) * 44 + x + 1] = normalized[y * w + x]!;
  const probs = tf.tidy(() => (net.predict(tf.tensor(padded, [1, 40, 44, 1])) as tf.Tensor).dataSync());
  const want = Uint8Array.from({ length: h * w }, (_, i) => {
    const v = (Math.floor(i / w) + 1) * 44 + (i % w) + 1;
    const p = [probs[v * 3]!, probs[v * 3 + 1]!, probs[v * 3 + 2]!];
    return STORED[p.indexOf(Math.max(...p))]!;
  });
  t.deepEqual(Array.from((await readVolume(cropOut)).data), Array.from(want));
  net.dispose();
});

test.serial(
  'export --self-contained: raw images of any size in onnxruntime and on /segment give predict --mode whole-image',
  async (t) => {
    const { run } = await pngModel();
    const exported = path.join(work, 'exports', 'parity-png-sc');
    const result = await runCli(['export', '--model', run, '--out', exported, '--self-contained', '--json']);
    t.is(result.code, 0, errorText(result));
    const artifact = JSON.parse(readFileSync(path.join(exported, 'rwseg.json'), 'utf8'));
    t.is(artifact.export.selfContained.labels, 'labels');
    t.is(artifact.export.selfContained.dynamicSpatial, 'any');
    // A raw image whose sides are neither the patch (32) nor on the size grid (4).
    const [h, w] = [37, 45];
    const c = generateSyntheticCase(resolveSyntheticOptions({ size: [h, w], numClasses: 3, seed: 5 }), 0);
    const raw = Uint8Array.from(c.image.data, (v) => Math.max(0, Math.min(255, Math.round(v * 60 + 100))));
    const input = path.join(work, 'raw-37x45.png');
    writeFileSync(input, encodePng({ data: raw, shape: [h, w], spacing: [1, 1] }, 'raw-37x45.png'));
    const out = path.join(work, 'raw-37x45.whole.png');
    const predicted = await runCli([
      'predict',
      '--model',
      path.join(run, 'model'),
      '--input',
      input,
      '--out',
      out,
      '--mode',
      'whole-image',
      '--backend',
      'cpu',
    ]);
    t.is(predicted.code, 0, errorText(predicted));
    const expected = (await readVolume(out)).data;
    t.true(new Set(expected).size > 1, 'more than one class predicted');
    // onnxruntime, in-process: raw intensities in, class indices out (uint8), no client-side pre-processing.
    const session = await ort.InferenceSession.create(path.join(exported, 'model.onnx'));
    try {
      const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(raw), [1, h, w, 1]) };
      const labels = (await session.run(feeds)).labels!;
      t.deepEqual(labels.dims.slice(1, 3), [h, w]);
      t.deepEqual(
        Array.from(labels.data as Uint8Array, (k) => STORED[k]!),
        Array.from(expected),
      );
    } finally {
      await session.release();
    }
    // /segment sends the self-contained model the raw whole image and answers the same label map.
    const server = await serve(exported, 'parity-png-sc');
    t.teardown(server.stop);
    const res = await fetch(`${server.url}/v2/models/parity-png-sc/segment?filename=raw.png`, {
      method: 'POST',
      body: readFileSync(input),
    });
    t.is(res.status, 200, res.status === 200 ? '' : await res.clone().text());
    const served = decodePng(new Uint8Array(await res.arrayBuffer()), 'served.png').volume;
    t.deepEqual(Array.from(served.data), Array.from(expected));
    // Triton's config lists both outputs of the self-contained graph with dynamic spatial dims.
    const triton = path.join(work, 'exports', 'sc-repository');
    const repo = await runCli([
      'export',
      '--model',
      run,
      '--out',
      triton,
      '--format',
      'triton',
      '--name',
      'sc',
      '--self-contained',
    ]);
    t.is(repo.code, 0, errorText(repo));
    const config = readFileSync(path.join(triton, 'sc', 'config.pbtxt'), 'utf8');
    t.regex(config, /name: "labels"[^}]*data_type: TYPE_UINT8[^}]*dims: \[ ?-1, ?-1 ?\]/);
  },
);
