/**
 * TF.js backend selection. Backends register themselves on import, so each is imported only when asked for:
 * importing webgpu without a GPU or tfjs-node without libtensorflow would fail or print noise.
 *
 * `useBackend('auto')` picks the fastest backend that works here: tensorflow (tfjs-node[-gpu], when installed),
 * then webgpu (only on a hardware adapter), then wasm (with rwseg's training kernels), then cpu (pure JS, slow).
 * docs/backends.md explains each one and how to install the optional ones.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { probeWebGpuAdapterInChild } from './webgpu/adapter-probe.js';
import { explainNoAdapter, probeVulkan } from './webgpu/diagnose.js';
import { BackendError } from './errors.js';
import { BACKEND_CHOICES, isSoftwareAdapter, type BackendChoice, type BackendName } from './names.js';
import { silentBackendLogger, type BackendLogger } from './logger.js';
import { tf } from './tf.js';

/** The order `auto` tries, fastest first. */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Packages providing the 'tensorflow' backend, preferred first. */
export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export interface UseBackendOptions {
  /** Receives the choice and, for 'auto', the reason each faster backend was passed over. */
  logger?: BackendLogger;
}

/** What a run records about the backend it trained on (written into run results). */
export interface BackendDescription {
  name: BackendName;
  tfjsVersion: string;
  /** Why this backend: 'requested' or the auto-selection reason. */
  reason: string;
  /** Backends `auto` passed over, with the reason each was not usable. */
  skipped: { name: BackendName; reason: string }[];
  /** Backend-specific facts: the tfjs-node package, the WebGPU adapter, wasm SIMD/threads, rwseg kernels. */
  details: Record<string, unknown>;
}

// The cpu backend greets Node users with a banner recommending tfjs-node; rwseg chooses backends itself.
tf.env().set('PROD', true);

let current: BackendDescription | null = null;
const initialized = new Map<BackendName, Record<string, unknown>>();

/**
 * Makes `name` the active TF.js backend, importing and initializing it on first use, and returns the name of
 * the backend now active. 'auto' tries tensorflow, webgpu (hardware adapters only), wasm, cpu in that order and
 * logs the choice with the reason. Throws BackendError('BACKEND_ERROR') naming the package or cause when a
 * backend asked for by name cannot be used.
 */
export async function useBackend(name: BackendChoice = 'auto', options: UseBackendOptions = {}): Promise<BackendName> {
  const logger = options.logger ?? silentBackendLogger;
  if (!BACKEND_CHOICES.includes(name)) {
    throw new BackendError(
      'INVALID_OPTIONS',
      `unknown backend '${String(name)}'; expected one of ${BACKEND_CHOICES.join(', ')}`,
      { backend: name },
    );
  }
  if (name !== 'auto') {
    if (current?.name === name && tf.getBackend() === name) return name;
    const details = await activate(name, false, logger);
    current = describe(name, 'requested', [], details);
    logChoice(logger, `backend: ${name} (requested)`, details);
    return name;
  }
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const candidate of AUTO_ORDER) {
    try {
      const details = await activate(candidate, true, logger);
      const reason =
        skipped.length === 0
          ? 'fastest backend available'
          : `best available: ${skipped.map((s) => `${s.name} unavailable`).join(', ')}`;
      current = describe(candidate, reason, skipped, details);
      // The skipped backends' full reasons went to debug above; info keeps one short line.
      logChoice(logger, `backend: ${candidate} (auto: ${reason})`, details);
      return candidate;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      skipped.push({ name: candidate, reason });
      logger.debug(`backend ${candidate} not usable`, { reason });
    }
  }
  throw new BackendError(
    'BACKEND_ERROR',
    `no TF.js backend could be initialized: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
    { skipped },
  );
}

/**
 * One short info line for the choice; the per-kernel list of rwseg's wasm kernels (about 30 entries) goes to debug,
 * and stays in describeBackend() for run results.
 */
function logChoice(logger: BackendLogger, message: string, details: Record<string, unknown>): void {
  const { rwsegKernels, ...rest } = details;
  if (!rwsegKernels || typeof rwsegKernels !== 'object') return logger.info(message, details);
  logger.info(message, { ...rest, rwsegKernels: `${Object.keys(rwsegKernels).length} (--log-level debug lists them)` });
  logger.debug('rwseg wasm kernels', { rwsegKernels });
}

/** The backend in use and why, for run results and logs. Null before the first `useBackend`. */
export function describeBackend(): BackendDescription | null {
  if (current === null) return null;
  // The user may have switched with tf.setBackend behind our back: report what is really active.
  if (tf.getBackend() !== current.name) return null;
  return { ...current, skipped: [...current.skipped], details: { ...current.details } };
}

function describe(
  name: BackendName,
  reason: string,
  skipped: BackendDescription['skipped'],
  details: Record<string, unknown>,
): BackendDescription {
  return { name, tfjsVersion: tf.version_core, reason, skipped, details };
}

async function activate(name: BackendName, auto: boolean, logger: BackendLogger): Promise<Record<string, unknown>> {
  const cached = initialized.get(name);
  // webgpu re-checks its adapter each time (auto refuses software adapters an explicit request accepted).
  if (cached !== undefined && name !== 'webgpu') {
    await setBackend(name);
    return cached;
  }
  let details: Record<string, unknown>;
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      await setBackend('cpu');
      details = {};
      break;
    case 'wasm':
      details = await activateWasm();
      break;
    case 'tensorflow':
      details = await activateTensorflow();
      break;
    case 'webgpu':
      details = await activateWebGpu(auto, logger);
      break;
  }
  initialized.set(name, details);
  return details;
}

async function setBackend(name: BackendName): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    throw new BackendError(
      'BACKEND_ERROR',
      `backend '${name}' failed to initialize: ${error instanceof Error ? error.message : String(error)}`,
      { backend: name },
      { cause: error },
    );
  }
  if (!ok) throw new BackendError('BACKEND_ERROR', `backend '${name}' failed to initialize`, { backend: name });
}

/** Resolves the folder holding the wasm backend's .wasm binaries, so loading never depends on the cwd. */
export function wasmBinaryDirectory(): string {
  const require = createRequire(import.meta.url);
  // The package's "main" lives in dist/, next to the .wasm files.
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

async function activateWasm(): Promise<Record<string, unknown>> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmBinaryDirectory());
  await setBackend('wasm');
  const { registerWasmTrainingKernels } = await import('./wasm-kernels/register.js');
  const { simdVariant } = await import('./wasm-kernels/simd.js');
  const kernels = registerWasmTrainingKernels();
  return {
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    // tfjs 4.22 disables wasm threads under Node; parallelism must come from worker threads (docs/backends.md).
    threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    rwsegKernels: kernels,
    // rwseg's WebAssembly SIMD kernels (packages/core/simd): 'simd', 'fma' (relaxed-SIMD build) or false, when
    // their stock/JavaScript fallbacks run.
    rwsegSimdKernels: simdVariant(tf.backend() as never) ?? false,
  };
}

async function activateTensorflow(): Promise<Record<string, unknown>> {
  const failures: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    try {
      // A variable specifier keeps TypeScript from requiring the optional package at build time.
      const specifier: string = pkg;
      await import(specifier);
    } catch (error) {
      failures.push(`${pkg}: ${firstLine(error)}`);
      continue;
    }
    if (tf.findBackendFactory('tensorflow') === null) {
      throw new BackendError(
        'BACKEND_ERROR',
        `${pkg} loaded but registered its backend into another copy of @tensorflow/tfjs-core; install ${pkg}@${tf.version_core} so npm shares rwseg's tfjs-core ${tf.version_core}`,
        { backend: 'tensorflow', package: pkg },
      );
    }
    await setBackend('tensorflow');
    return { package: pkg };
  }
  throw new BackendError(
    'BACKEND_ERROR',
    `backend 'tensorflow' needs @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node (CPU), and neither could be loaded. ` +
      `Install one of them at version ${tf.version_core} on a machine that can download libtensorflow from storage.googleapis.com ` +
      `(npm install @tensorflow/tfjs-node@${tf.version_core}); see docs/backends.md. (${failures.join('; ')})`,
    { backend: 'tensorflow', packages: [...TENSORFLOW_PACKAGES], failures },
  );
}

/**
 * The webgpu module is imported only when asked for: it installs Dawn's globals. initWebGpuBackend() sets up Dawn,
 * picks a hardware adapter (a software one only when allowed), makes 'webgpu' the active backend and returns the
 * adapter's description; it throws BackendError.
 */
async function activateWebGpu(auto: boolean, logger: BackendLogger): Promise<Record<string, unknown>> {
  const module = await import('./webgpu/backend.js');
  // 'auto' asks a child process first, so that a machine without a usable GPU never sees Dawn's and the Vulkan
  // loader's native stderr warnings (they go to debug); only a hardware adapter brings Dawn in-process.
  if (auto) {
    const probe = await probeWebGpuAdapterInChild();
    if (probe.stderr.trim()) logger.debug('webgpu probe stderr (Dawn, Vulkan loader)', { stderr: probe.stderr.trim() });
    if (probe.adapter === null) {
      const cause = () => explainNoAdapter(probeVulkan()).cause;
      const why = probe.failure ?? `no WebGPU adapter found (likely cause: ${cause()})`;
      throw new BackendError('BACKEND_ERROR', `backend 'webgpu': ${why}`, { backend: 'webgpu' });
    }
    if (isSoftwareAdapter(probe.adapter, probe.adapter.isFallbackAdapter)) {
      const adapter = probe.adapter.description;
      const message = `backend 'webgpu' only has a software adapter (${adapter}); auto selection skips it`;
      throw new BackendError('BACKEND_ERROR', message, { backend: 'webgpu' });
    }
  }
  // 'auto' never settles for a software adapter (lavapipe trains far slower than wasm); an explicit request
  // leaves that to the webgpu module's default (RWSEG_WEBGPU_ALLOW_SOFTWARE=1).
  const adapter = await module.initWebGpuBackend(auto ? { allowSoftwareAdapter: false, logger } : { logger });
  if (auto && adapter.isSoftware) {
    throw new BackendError(
      'BACKEND_ERROR',
      `backend 'webgpu' only has a software adapter (${adapter.description}); auto selection skips it`,
      { backend: 'webgpu' },
    );
  }
  if (tf.getBackend() !== 'webgpu') await setBackend('webgpu');
  return { adapter };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
