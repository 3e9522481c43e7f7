/**
 * onnxruntime-node's WebGPU execution provider (Dawn over Vulkan; Mesa lavapipe in CI) gives the CPU provider's
 * answer on a small segmentation net (fixtures/webgpu/make_tiny_segmenter.py), and really runs the nodes itself:
 * onnxruntime's profile names the provider of every node.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import test from 'ava';
import { WEBGPU_INSTALL_HINT } from '@rwseg/core';
import { vulkanSkipReason } from '@rwseg/core/testing';
import { seededUniform } from '@rwseg/tfjs-training-backends/testing';

// Skipped with the reason on a machine without a Vulkan driver; under CI it always runs (core's testing/hardware.ts).
const vulkanSkip = vulkanSkipReason();
if (vulkanSkip) console.log(`Vulkan tests skipped here (CI runs them): ${vulkanSkip}`);
const vulkanTest = vulkanSkip ? test.skip : test;

const modelPath = fileURLToPath(new URL('../../test/fixtures/webgpu/tiny_segmenter.onnx', import.meta.url));

async function infer(provider: 'cpu' | 'webgpu', image: Float32Array, profileDir: string) {
  const options = {
    executionProviders: [provider],
    enableProfiling: true,
    profileFilePrefix: path.join(profileDir, provider),
  };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(readFileSync(modelPath), options);
  } catch (error) {
    throw new Error(
      `onnxruntime could not start the ${provider} provider: ${(error as Error).message}. ${WEBGPU_INSTALL_HINT}`,
    );
  }
  const out = await session.run({ image: new ort.Tensor('float32', image, [1, 1, 16, 16]) });
  session.endProfiling();
  await session.release();
  return out.probabilities!.data as Float32Array;
}

vulkanTest('the WebGPU provider runs every node and matches the CPU provider', async (t) => {
  process.env.XDG_RUNTIME_DIR ||= mkdtempSync(path.join(tmpdir(), 'rwseg-xdg-'));
  const profileDir = mkdtempSync(path.join(tmpdir(), 'rwseg-ort-profile-'));
  const image = seededUniform(256, 5).map((u) => 4 * u - 2);
  const cpu = await infer('cpu', image, profileDir);
  const gpu = await infer('webgpu', image, profileDir);
  t.is(gpu.length, 3 * 256);
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(gpu[i]! - cpu[i]!));
  t.true(worst < 1e-5, `largest difference ${worst}`);
  // The answer is not degenerate: probabilities sum to one per pixel and vary across pixels.
  for (let p = 0; p < 256; p++) t.true(Math.abs(gpu[p]! + gpu[256 + p]! + gpu[512 + p]! - 1) < 1e-5);
  t.true(Math.max(...gpu.subarray(0, 256)) - Math.min(...gpu.subarray(0, 256)) > 0.1);

  const profile = readdirSync(profileDir).find((name) => name.startsWith('webgpu'));
  t.truthy(profile, 'onnxruntime wrote no profile');
  const events = JSON.parse(readFileSync(path.join(profileDir, profile!), 'utf8')) as Array<{
    cat: string;
    name: string;
    args?: { provider?: string; op_name?: string };
  }>;
  const kernels = events.filter((e) => e.cat === 'Node' && e.args?.provider);
  const ops = new Set(kernels.map((e) => e.args!.op_name));
  // Relu is fused into the Conv before it by onnxruntime's graph optimizer.
  for (const op of ['Conv', 'MaxPool', 'ConvTranspose', 'Concat', 'Softmax'])
    t.true(ops.has(op), `no profiled ${op} node: ${[...ops]}`);
  const elsewhere = kernels
    .filter((e) => e.args!.provider !== 'WebGpuExecutionProvider')
    .map((e) => `${e.args!.op_name}@${e.args!.provider}`);
  t.deepEqual(elsewhere, [], 'nodes that fell back to another provider');
});
