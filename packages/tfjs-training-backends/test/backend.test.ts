import test from 'ava';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from '../src/tf.js';
import type { BackendName } from '../src/names.js';
import { describeBackend, useBackend, wasmBinaryDirectory } from '../src/use-backend.js';
import { isBackendError } from '../src/errors.js';
import type { BackendLogger } from '../src/logger.js';

function recordingLogger(): BackendLogger & {
  lines: { level: string; message: string; fields?: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn') };
}

function resolvable(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

test.serial('useBackend("cpu") and ("wasm") activate those backends and describeBackend reports them', async (t) => {
  t.is(await useBackend('cpu'), 'cpu');
  t.is(tf.getBackend(), 'cpu');
  t.is(describeBackend()?.name, 'cpu');
  t.is(await useBackend('wasm'), 'wasm');
  t.is(tf.getBackend(), 'wasm');
  const description = describeBackend();
  t.is(description?.name, 'wasm');
  t.is(description?.reason, 'requested');
  t.is(description?.tfjsVersion, tf.version_core);
  t.like(description?.details, {
    threads: false,
    rwsegKernels: { Conv2DBackpropFilter: 'added', Conv2DBackpropInput: 'replaced' },
  });
  // The wasm backend computes (its binary was found).
  t.deepEqual(Array.from(tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync()), [4, 6]);
});

test.serial('the wasm binaries are found in node_modules whatever the working directory', (t) => {
  const directory = wasmBinaryDirectory();
  t.true(existsSync(path.join(directory, 'tfjs-backend-wasm.wasm')));
  t.true(existsSync(path.join(directory, 'tfjs-backend-wasm-simd.wasm')));
});

test.serial('asking for tensorflow without tfjs-node names the packages and how to install them', async (t) => {
  if (resolvable('@tensorflow/tfjs-node') || resolvable('@tensorflow/tfjs-node-gpu')) {
    t.is(await useBackend('tensorflow'), 'tensorflow');
    return;
  }
  const error = await t.throwsAsync(useBackend('tensorflow'));
  t.true(isBackendError(error, 'BACKEND_ERROR'));
  t.regex(error!.message, /@tensorflow\/tfjs-node-gpu/);
  t.regex(error!.message, /npm install @tensorflow\/tfjs-node@4\.22\.0/);
  t.regex(error!.message, /docs\/backends\.md/);
  t.not(tf.getBackend(), 'tensorflow');
});

test.serial('auto picks the fastest usable backend and logs why the faster ones were passed over', async (t) => {
  const logger = recordingLogger();
  const chosen = await useBackend('auto', { logger });
  const expected: BackendName =
    resolvable('@tensorflow/tfjs-node') || resolvable('@tensorflow/tfjs-node-gpu') ? 'tensorflow' : 'wasm';
  if (expected === 'wasm' && chosen === 'webgpu') {
    // A machine with a hardware GPU adapter and the webgpu module: webgpu is the right answer there.
    t.pass();
    return;
  }
  t.is(chosen, expected);
  t.is(tf.getBackend(), chosen);
  const info = logger.lines.find((line) => line.level === 'info');
  t.truthy(info);
  t.regex(info!.message, new RegExp(`backend: ${chosen} \\(auto`));
  const description = describeBackend();
  t.is(description?.name, chosen);
  if (chosen === 'wasm') {
    t.deepEqual(
      description?.skipped.map((s) => s.name),
      ['tensorflow', 'webgpu'],
    );
    t.regex(description?.skipped[0]?.reason ?? '', /tfjs-node/);
    t.regex(description?.reason ?? '', /tensorflow unavailable/);
  }
});

test.serial('an unknown backend name is refused with the valid names listed', async (t) => {
  const error = await t.throwsAsync(useBackend('webgl' as BackendName));
  t.true(isBackendError(error, 'INVALID_OPTIONS'));
  t.regex(error!.message, /webgl/);
  t.regex(error!.message, /auto, tensorflow, webgpu, wasm, cpu/);
});

test.serial('describeBackend returns null once someone switches backends behind rwseg', async (t) => {
  await useBackend('wasm');
  await tf.setBackend('cpu');
  t.is(describeBackend(), null);
  t.is(await useBackend('cpu'), 'cpu');
  t.is(describeBackend()?.name, 'cpu');
});
