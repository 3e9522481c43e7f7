/**
 * The whole deployment path through the real binaries: `rwseg pipeline run` trains a quickstart U-Net briefly
 * (its export step leaves model.onnx + rwseg.json), `rwseg export --format triton` writes a model repository,
 * `rwseg serve` serves it on a real socket, and what the server answers equals TF.js on the saved model.
 */
import { spawn } from 'node:child_process';
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf, useBackend } from '@rwseg/core';
import { deriveSeed, generateSyntheticCase, normalizeChannels, resolveSyntheticOptions } from '@rwseg/core/data';
import { decodePng, encodePng } from '@rwseg/core/io';
import { loadModelDir } from '@rwseg/core/training';
import { CLI_BIN, errorText, parseJson, runCli } from '@rwseg/test-helpers/cli';

const PATCH = 64;

/** A synthetic image (not one the model trained on) cropped to the patch and quantised to 8 bits, as a PNG would hold it. */
function grayImage(seed: number): Uint8Array {
  const c = generateSyntheticCase(resolveSyntheticOptions({ size: [96, 96], numClasses: 3, seed }), 0);
  const src = c.image.data;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of src) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  const out = new Uint8Array(PATCH * PATCH);
  for (let y = 0; y < PATCH; y++)
    for (let x = 0; x < PATCH; x++)
      out[y * PATCH + x] = Math.round((255 * (src[(y + 16) * 96 + x + 16]! - lo)) / (hi - lo));
  return out;
}

/** What training does to an image: zscore per image and channel. */
function normalized(gray: Uint8Array): Float32Array {
  const data = Float32Array.from(gray);
  normalizeChannels(data, 1, { normalization: 'zscore' });
  return data;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

interface Served {
  url: string;
  stop: () => Promise<number | null>;
  kill: () => void;
}

function startServe(repo: string): Promise<Served> {
  const child = spawn(
    process.execPath,
    [CLI_BIN, 'serve', '--models', repo, '--port', '0', '--provider', 'cpu', '--drain-ms', '0'],
    { stdio: 'pipe' },
  );
  let stdout = '';
  let stderr = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rwseg serve did not start:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      // The start-up report ends with one line per model.
      const match = /listening on (http:\/\/\S+)[^]*quick\/1: .*\n/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1]!,
        stop: () => (child.kill('SIGTERM'), exit),
        kill: () => child.kill('SIGKILL'),
      });
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`rwseg serve exited ${code}:\n${stdout}\n${stderr}`));
    });
  });
}

test('train -> export (triton) -> serve: V2 JSON and binary inference equal TF.js, the segment route equals its argmax, SIGTERM exits 0', async (t) => {
  await useBackend('cpu');
  const work = mkdtempSync(path.join(tmpdir(), 'rwseg-e2e-'));
  const run = path.join(work, 'run');

  // 1. Train (a few iterations of the real quickstart); the pipeline's export step writes a self-sufficient folder.
  const trained = await runCli(
    [
      'pipeline',
      'run',
      'pipelines/quickstart.yaml',
      '--backend',
      'wasm',
      '--out',
      run,
      '--json',
      '--set',
      'training.epochs=1',
      '--set',
      'training.iterationsPerEpoch=4',
      '--set',
      'dataset.train=4',
      '--set',
      'dataset.validation=1',
      '--set',
      'evaluation.overlays=0',
    ],
    { timeoutMs: 120_000 },
  );
  t.is(trained.code, 0, errorText(trained));
  t.deepEqual(parseJson(trained).onnx, [path.join(run, 'model.onnx')]);
  const runMeta = JSON.parse(readFileSync(path.join(run, 'rwseg.json'), 'utf8'));
  t.is(runMeta.export.file, 'model.onnx');
  t.is(runMeta.export.outputs[0].activation, 'softmax');
  t.is(runMeta.normalization.method, 'zscore');
  t.true(runMeta.export.parity.maxAbsError < 1e-4);

  // 2. Export a Triton model repository.
  const repo = path.join(work, 'repo');
  const exported = await runCli([
    'export',
    '--model',
    run,
    '--out',
    repo,
    '--format',
    'triton',
    '--name',
    'quick',
    '--json',
  ]);
  t.is(exported.code, 0, errorText(exported));
  for (const f of ['quick/config.pbtxt', 'quick/1/model.onnx', 'quick/rwseg.json'])
    t.true(existsSync(path.join(repo, f)), f);
  t.regex(
    readFileSync(path.join(repo, 'quick/config.pbtxt'), 'utf8'),
    /platform: "onnxruntime_onnx"\nmax_batch_size: 8/,
  );

  // TF.js on the saved model is the reference.
  const { model } = await loadModelDir(path.join(run, 'model'));
  const grays = [grayImage(deriveSeed(7, 'e2e')), grayImage(deriveSeed(8, 'e2e'))];
  const batch = new Float32Array(2 * PATCH * PATCH);
  grays.forEach((g, i) => batch.set(normalized(g), i * PATCH * PATCH));
  const predicted = model.predict(tf.tensor(batch, [2, PATCH, PATCH, 1])) as tf.Tensor;
  const want = predicted.dataSync() as Float32Array;
  const perImage = PATCH * PATCH * 3;

  // 3. Serve it.
  const served = await startServe(repo);
  t.teardown(served.kill);
  const infer = `${served.url}/v2/models/quick/infer`;

  // (a) JSON tensors, a batch of two.
  const jsonRes = await fetch(infer, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'input', shape: [2, PATCH, PATCH, 1], datatype: 'FP32', data: Array.from(batch) }],
    }),
  });
  t.is(jsonRes.status, 200);
  const jsonOut = ((await jsonRes.json()) as any).outputs[0];
  t.deepEqual([jsonOut.name, jsonOut.datatype, jsonOut.shape], ['output', 'FP32', [2, PATCH, PATCH, 3]]);
  const jsonErr = maxAbsDiff(jsonOut.data, want);
  t.true(jsonErr < 1e-4, `JSON inference vs TF.js: max abs error ${jsonErr}`);

  // (a) The binary tensor extension, the second image alone.
  const x1 = batch.subarray(PATCH * PATCH);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'input',
          shape: [1, PATCH, PATCH, 1],
          datatype: 'FP32',
          parameters: { binary_data_size: x1.byteLength },
        },
      ],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    }),
  );
  const binRes = await fetch(infer, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(x1.buffer, x1.byteOffset, x1.byteLength)]),
  });
  t.is(binRes.status, 200);
  const bytes = Buffer.from(await binRes.arrayBuffer());
  const headerLength = Number(binRes.headers.get('inference-header-content-length'));
  t.deepEqual(JSON.parse(bytes.subarray(0, headerLength).toString()).outputs[0].shape, [1, PATCH, PATCH, 3]);
  const tail = bytes.subarray(headerLength);
  const binOut = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
  const binErr = maxAbsDiff(binOut, want.subarray(perImage));
  t.true(binErr < 1e-4, `binary inference vs TF.js: max abs error ${binErr}`);

  // (b) A PNG to the segment route: the server normalizes it from rwseg.json and returns argmax labels.
  const png = encodePng({ data: grays[0]!, shape: [PATCH, PATCH], spacing: [1, 1] }, 'e2e.png');
  const segRes = await fetch(`${served.url}/v2/models/quick/segment`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: Buffer.from(png),
  });
  t.is(segRes.status, 200);
  t.is(segRes.headers.get('content-type'), 'image/png');
  t.deepEqual(JSON.parse(segRes.headers.get('x-rwseg-classes')!), ['background', 'disc', 'rectangle']);
  const labels = decodePng(new Uint8Array(await segRes.arrayBuffer()), 'response.png').volume;
  t.deepEqual([...labels.shape], [PATCH, PATCH]);
  const argmax = tf.tidy(
    () => tf.argMax(tf.slice(predicted, [0, 0, 0, 0], [1, PATCH, PATCH, 3]), -1).dataSync() as Int32Array,
  );
  let differ = 0;
  for (let i = 0; i < argmax.length; i++) if (labels.data[i] !== argmax[i]) differ++;
  // Only near-ties may flip (the server's float path differs from TF.js in the last bits).
  t.log(
    `max abs error vs TF.js: JSON ${jsonErr.toExponential(2)}, binary ${binErr.toExponential(2)}; ${differ} segment labels differ`,
  );
  t.true(differ <= Math.ceil(0.001 * argmax.length), `${differ} of ${argmax.length} labels differ from TF.js argmax`);
  t.true(new Set(argmax).size > 1, 'the trained model predicts more than one class on the test image');

  predicted.dispose();
  model.dispose();

  // (c) SIGTERM: a clean exit.
  t.is(await served.stop(), 0);
});
