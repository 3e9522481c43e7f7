/**
 * The webgpu backend on whatever Vulkan adapter this machine has: Mesa lavapipe in CI (.ci/run installs it from
 * bookworm-backports). Without Vulkan the tests that need an adapter are skipped with the install hint; CI runs them.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vulkanSerialTest, vulkanTest } from './helpers/vulkan.js';
import {
  describeWebGpuAdapter,
  disposeWebGpuBackend,
  explainNoAdapter,
  initWebGpuBackend,
  isBackendError,
  safeAddN,
  useBackend,
} from '../src/index.js';
import { probeUnetGradients, probeUnetWeights, seededUniform, type ProbeUnetSpec } from '../src/testing/index.js';
import { tf } from '../src/tf.js';

const spec: ProbeUnetSpec = { inChannels: 1, classes: 3, base: 4, depth: 2 };
const [N, H, W] = [2, 16, 16];
let cpuReference: { loss: number; grads: Record<string, Float32Array> };
let rawWeights: Record<string, { values: Float32Array; shape: number[] }>;
let imageValues: Float32Array;
let labelValues: Int32Array;

function makeInputs() {
  const images = tf.tensor4d(imageValues, [N, H, W, 1]);
  const oneHot = tf.reshape(tf.oneHot(tf.tensor1d(labelValues, 'int32'), spec.classes), [N, H, W, spec.classes]);
  const weights = Object.fromEntries(Object.entries(rawWeights).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
  return { images, oneHot, weights };
}

test.before(async () => {
  await useBackend('cpu');
  imageValues = seededUniform(N * H * W, 11);
  // Labels follow the image (three intensity bands) so the loss has structure, not noise.
  labelValues = Int32Array.from(imageValues, (v) => Math.min(2, Math.floor(v * 3)));
  const weights = probeUnetWeights(spec, 3);
  rawWeights = {};
  for (const [k, t] of Object.entries(weights))
    rawWeights[k] = { values: (await t.data()) as Float32Array, shape: t.shape };
  tf.dispose(Object.values(weights));
  const { images, oneHot, weights: w } = makeInputs();
  cpuReference = await probeUnetGradients(spec, w, images, oneHot);
  tf.dispose([images, oneHot, ...Object.values(w)]);
});

test.after.always(async () => {
  await disposeWebGpuBackend();
});

vulkanSerialTest('a software adapter is refused unless allowed, with the reason and the switch named', async (t) => {
  delete process.env.RWSEG_WEBGPU_ALLOW_SOFTWARE;
  try {
    const adapter = await initWebGpuBackend();
    // A machine with a real GPU gets it without asking.
    t.false(adapter.isSoftware, `accepted a software adapter without allowSoftwareAdapter: ${JSON.stringify(adapter)}`);
  } catch (error) {
    t.true(isBackendError(error, 'BACKEND_ERROR'), String(error));
    const message = (error as Error).message;
    t.regex(message, /software rasteriser \(.*(llvmpipe|lavapipe|SwiftShader).*\)/i);
    t.regex(message, /allowSoftwareAdapter/);
    t.regex(message, /NVIDIA driver/);
    t.is(describeWebGpuAdapter(), undefined);
  }
});

vulkanSerialTest(
  'initializes on this machine and describes the adapter (vendor, architecture, driver, limits)',
  async (t) => {
    const adapter = await initWebGpuBackend({ allowSoftwareAdapter: true });
    t.is(tf.getBackend(), 'webgpu');
    t.deepEqual(describeWebGpuAdapter(), adapter);
    t.true(adapter.description.length > 0, 'driver description missing');
    t.true(adapter.vendor.length > 0 || adapter.device.length > 0, 'neither vendor nor device reported');
    // The device is created with the adapter's limit, not WebGPU's default of 8 storage buffers.
    t.true(
      adapter.limits.maxStorageBuffersPerShaderStage > 8,
      `maxStorageBuffersPerShaderStage ${adapter.limits.maxStorageBuffersPerShaderStage}`,
    );
    t.log(
      `adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.device} | ${adapter.description} | software: ${adapter.isSoftware}`,
    );
  },
);

for (const count of [12, 40]) {
  vulkanSerialTest(`tf.addN and safeAddN of ${count} tensors are exact on webgpu`, async (t) => {
    await initWebGpuBackend({ allowSoftwareAdapter: true });
    const parts = Array.from({ length: count }, (_, i) => seededUniform(64, 100 + i));
    const expected = new Float32Array(64);
    parts.forEach((p) => p.forEach((v, j) => (expected[j]! += v)));
    const tensors = parts.map((p) => tf.tensor2d(p, [8, 8]));
    const before = tf.memory().numTensors;
    const viaAddN = tf.addN(tensors);
    const viaSafe = safeAddN(tensors);
    t.is(tf.memory().numTensors, before + 2, 'intermediate sums leaked');
    const [a, s] = [await viaAddN.data(), await viaSafe.data()];
    for (let j = 0; j < 64; j++) {
      t.true(Math.abs(a[j]! - expected[j]!) < 1e-4, `addN[${j}] = ${a[j]}, expected ${expected[j]}`);
      t.true(Math.abs(s[j]! - expected[j]!) < 1e-4, `safeAddN[${j}] = ${s[j]}, expected ${expected[j]}`);
    }
    tf.dispose([...tensors, viaAddN, viaSafe]);
  });
}

vulkanSerialTest('a U-Net training step on webgpu matches the cpu backend (loss and every gradient)', async (t) => {
  await initWebGpuBackend({ allowSoftwareAdapter: true });
  const { images, oneHot, weights } = makeInputs();
  const gpu = await probeUnetGradients(spec, weights, images, oneHot);
  tf.dispose([images, oneHot, ...Object.values(weights)]);
  t.true(
    Math.abs(gpu.loss - cpuReference.loss) < 1e-4 * Math.abs(cpuReference.loss),
    `loss webgpu ${gpu.loss} vs cpu ${cpuReference.loss}`,
  );
  let worst = 0;
  for (const [name, ref] of Object.entries(cpuReference.grads)) {
    const got = gpu.grads[name]!;
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < ref.length; i++) {
      diff += (got[i]! - ref[i]!) ** 2;
      norm += ref[i]! ** 2;
    }
    t.true(norm > 0, `gradient of ${name} is zero on cpu: the check would be vacuous`);
    const relative = Math.sqrt(diff / norm);
    worst = Math.max(worst, relative);
    t.true(relative < 2e-3, `gradient of ${name}: relative error ${relative}`);
  }
  t.log(
    `loss ${gpu.loss.toFixed(6)} (cpu ${cpuReference.loss.toFixed(6)}), worst relative gradient error ${worst.toExponential(2)}`,
  );
});

test('no adapter: the error names the cause and the fix', (t) => {
  const facts = {
    platform: 'linux' as const,
    loaders: ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1'],
    icds: [],
    missingIcds: [],
  };
  t.regex(explainNoAdapter({ ...facts, loaders: [] }).fix, /apt-get install -y libvulkan1/);
  t.regex(explainNoAdapter(facts).fix, /NVIDIA driver.*mesa-vulkan-drivers/s);
  const old = explainNoAdapter({
    ...facts,
    icds: ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'],
    mesaVersion: '22.3.6-1+deb12u1',
  });
  t.regex(old.cause, /Mesa 22\.3\.6.* too old/);
  t.regex(old.fix, /bookworm-backports/);
  const recent = explainNoAdapter({
    ...facts,
    icds: ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'],
    mesaVersion: '25.0.7-2~bpo12+1',
  });
  t.notRegex(recent.cause, /too old/);
});

test('no adapter, for real: a process whose Vulkan loader finds no driver fails with the cause and the fix', (t) => {
  const module = fileURLToPath(new URL('../src/webgpu/backend.js', import.meta.url));
  const script = `import { initWebGpuBackend } from ${JSON.stringify(module)};
    try { await initWebGpuBackend({ allowSoftwareAdapter: true }); console.log('UNEXPECTED adapter'); }
    catch (e) { console.log(e.code + ': ' + e.message); }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      ...process.env,
      VK_DRIVER_FILES: '/nonexistent/rwseg_icd.json',
      VK_ICD_FILENAMES: '/nonexistent/rwseg_icd.json',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^BACKEND_ERROR: backend 'webgpu': no WebGPU adapter found/m);
  t.regex(run.stdout, /\/nonexistent\/rwseg_icd\.json, which does not exist/);
});

vulkanTest('disposeWebGpuBackend destroys the device; a later init creates a new one; the process exits', (t) => {
  const module = fileURLToPath(new URL('../src/webgpu/backend.js', import.meta.url));
  const script = `import { initWebGpuBackend, disposeWebGpuBackend, describeWebGpuAdapter } from ${JSON.stringify(module)};
    import * as tf from '@tensorflow/tfjs-core';
    for (const round of [1, 2]) {
      await initWebGpuBackend({ allowSoftwareAdapter: true });
      const sum = tf.addN(Array.from({ length: 20 }, (_, i) => tf.scalar(i)));
      console.log('round ' + round + ' ' + tf.getBackend() + ' ' + (await sum.data())[0]);
      await disposeWebGpuBackend();
      console.log('after dispose ' + (describeWebGpuAdapter() === undefined));
    }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /round 1 webgpu 190\nafter dispose true\nround 2 webgpu 190\nafter dispose true/);
});
