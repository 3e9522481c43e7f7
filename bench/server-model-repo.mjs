// The served U-Net of the server benchmarks (bench/server.mjs, server-instructions.mjs, server-thread-cpu.mjs):
// rwseg's U-Net shape, depth 2, base 8, exported by @rwseg/tfjs-to-onnx into `<repo>/unet/1/model.onnx` with a
// Triton config (max_batch_size 8) and the rwseg model artifact the server reads; and a client that sends it
// requests one after another.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { benchUNet } from './bench-unet.mjs';

export async function exportBenchUnet(repo, size) {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const tfl = await import('@tensorflow/tfjs-layers');
  const { convertLayersModel } = await import('@rwseg/tfjs-to-onnx');
  await tf.setBackend('cpu');
  const { bytes } = convertLayersModel(benchUNet(tfl, { depth: 2, base: 8, inputName: 'image' }));
  mkdirSync(join(repo, 'unet', '1'), { recursive: true });
  writeFileSync(join(repo, 'unet', '1', 'model.onnx'), bytes);
  writeFileSync(join(repo, 'unet', 'config.pbtxt'), 'name: "unet"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n');
  // The model artifact the server reads (rwseg-model/2; no export section, so no checksum to match).
  const { buildModelArtifact, writeModelArtifact } = await import('@rwseg/core/artifact');
  const artifact = buildModelArtifact({
    config: { preprocessing: { normalization: 'zscore', patch: [size, size] } },
    dataDims: 2,
    inputChannels: 1,
    classNames: ['background', 'class 1', 'class 2'],
    unet: { depth: 2 },
    metrics: { epoch: null, selection: 'unknown', meanDice: null, classes: null },
  });
  writeModelArtifact(join(repo, 'unet'), artifact);
}

/**
 * `n` sequential infer requests of one `size` x `size` image on one keep-alive connection (binary tensor extension
 * in and out); every answer must be 200.
 */
export async function sequentialInfer(url, inputName, size, n) {
  const input = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i * 0.01) * 2);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: inputName,
          shape: [1, size, size, 1],
          datatype: 'FP32',
          parameters: { binary_data_size: input.byteLength },
        },
      ],
      parameters: { binary_data_output: true },
    }),
  );
  const body = Buffer.concat([header, Buffer.from(input.buffer)]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const headers = {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(header.length),
    'content-length': body.length,
  };
  for (let i = 0; i < n; i++) {
    await new Promise((resolve, reject) => {
      const request = http.request(url, { method: 'POST', agent, headers }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`${url}: status ${response.statusCode}`));
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end(body);
    });
  }
  agent.destroy();
}

/** The node arguments of each side the server benchmarks compare: the floor and `rwseg serve` on `repo`. */
export function servedSides(root, repo, threads) {
  return {
    floor: [
      join(root, 'bench/server-floor.mjs'),
      join(repo, 'unet', '1', 'model.onnx'),
      '--with-core',
      '--threads',
      threads,
    ],
    server: [
      join(root, 'packages/cli/bin/run.js'),
      ...['serve', '--models', repo, '--port', '0', '--provider', 'cpu', '--eager', '--log-level', 'warn'],
      ...['--drain-ms', '0', '--max-queue-delay-ms', '0', '--threads', threads],
    ],
  };
}

/**
 * Waits until a side started with stdout and stderr piped prints its address; its infer URL and input name, and
 * `printed()`, all it has printed so far.
 */
export async function waitForSide(side, child, timeoutMs = 20 * 60_000) {
  let text = '';
  child.stdout.on('data', (c) => (text += c));
  child.stderr.on('data', (c) => (text += c));
  const started = Date.now();
  let base;
  while (!(base = /listening on (http:\/\/[0-9.:]+)/.exec(text)?.[1])) {
    if (child.exitCode !== null || Date.now() - started > timeoutMs)
      throw new Error(`${side} did not start: ${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  if (side !== 'server') return { url: base, inputName: 'input', printed: () => text };
  const inputName = (await (await fetch(`${base}/v2/models/unet`)).json()).inputs[0].name;
  return { url: `${base}/v2/models/unet/infer`, inputName, printed: () => text };
}
