/**
 * The `webgpu` training backend in Node: TF.js's WebGPU backend on Dawn (the `webgpu` npm package), which runs
 * over Vulkan on Linux, so on an NVIDIA GPU through its Vulkan driver, and on any CPU through Mesa lavapipe
 * (tests). Node has no `navigator.gpu`, so Dawn's globals must exist before the TF.js backend module is imported;
 * everything heavy is imported dynamically so that loading this package (or @rwseg/core) never touches the GPU.
 *
 * This module picks the adapter itself (a real GPU; a software one only when allowed), creates the device with
 * the adapter's own limits (the default of 8 storage buffers per shader breaks tf.addN), and registers the TF.js
 * backend on that device. `disposeWebGpuBackend` destroys the device and frees its memory (some Dawn
 * builds keep the event loop alive while a device lives; webgpu 0.6.2 does not, but a long-lived process should
 * still give the GPU back).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../errors.js';
import { silentBackendLogger, type BackendLogger } from '../logger.js';
import { isSoftwareAdapter, type GpuAdapterInfo } from '../names.js';
import { tf } from '../tf.js';
import { installChunkedAddN } from './addn.js';
import { installRankSafeBinaryOps } from './binary-rank.js';
import { explainNoAdapter, probeVulkan, WEBGPU_INSTALL_HINT } from './diagnose.js';

export interface WebGpuOptions {
  /**
   * Accept a software adapter (Mesa lavapipe/llvmpipe, SwiftShader). Off by default: training on one is slower
   * than --backend wasm, so it is almost always a missing GPU driver. Tests and CI turn it on. The environment
   * variable RWSEG_WEBGPU_ALLOW_SOFTWARE=1 turns it on too (for the CLI in CI).
   */
  allowSoftwareAdapter?: boolean;
  /** Adapter preference passed to requestAdapter; 'high-performance' picks a discrete GPU over an integrated one. */
  powerPreference?: 'high-performance' | 'low-power';
  /** Extra options for Dawn's create(), e.g. 'backend=vulkan' or 'adapter=NVIDIA H100' (see the webgpu package). */
  dawnOptions?: string[];
  logger?: BackendLogger;
}

/** The adapter the backend runs on, for logs and for a run's results. */
export interface WebGpuAdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  /** Driver description, e.g. 'NVIDIA: 580.159.04' or 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)'. */
  description: string;
  /** True for CPU rasterisers (lavapipe, SwiftShader): correct but slow. */
  isSoftware: boolean;
  limits: { maxStorageBuffersPerShaderStage: number; maxStorageBufferBindingSize: number; maxBufferSize: number };
}

// Minimal shapes of the WebGPU objects used here; the full types live in @webgpu/types, which the project does
// not put in every package's compilation.
interface GpuLimits {
  [name: string]: number;
}
interface GpuAdapter {
  info?: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
  features: Set<string>;
  limits: GpuLimits;
  requestDevice(descriptor?: object): Promise<GpuDevice>;
}
interface GpuDevice {
  limits: GpuLimits;
  lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
  onuncapturederror: ((event: { error: { message: string } }) => void) | null;
}
interface Gpu {
  requestAdapter(options?: object): Promise<GpuAdapter | null>;
}

interface WebGpuState {
  device: GpuDevice;
  adapter: WebGpuAdapterDescription;
  destroyed: boolean;
}
let state: WebGpuState | undefined;

// Limits TF.js's own factory raises to the adapter's values, plus the one it forgets.
const RAISED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBuffersPerShaderStage',
];

/** The adapter the webgpu backend runs on, or undefined before initWebGpuBackend succeeded. */
export function describeWebGpuAdapter(): WebGpuAdapterDescription | undefined {
  return state && !state.destroyed ? state.adapter : undefined;
}

function ensureRuntimeDir(): void {
  // The Vulkan loader and Mesa warn (and some ICDs fail) without it; services and CI rarely set it.
  if (process.env.XDG_RUNTIME_DIR) return;
  const dir = join(tmpdir(), `rwseg-xdg-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

async function createGpu(dawnOptions: string[]): Promise<Gpu> {
  let dawn: { create(options: string[]): unknown; globals: object };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (error) {
    throw new BackendError(
      'BACKEND_ERROR',
      "backend 'webgpu' needs the npm package 'webgpu' (Dawn), an optional dependency of " +
        '@rwseg/tfjs-training-backends that is not installed: run `npm install webgpu`',
      {},
      { cause: error },
    );
  }
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in g)) g[name] = value;
  const gpu = dawn.create(dawnOptions) as Gpu;
  // Node 21+ has a navigator object of its own: add gpu to it; Node 20 has none.
  if (typeof g.navigator === 'object' && g.navigator !== null) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  } else {
    Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  return gpu;
}

function describe(adapter: GpuAdapter, device: GpuDevice): WebGpuAdapterDescription {
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isSoftware: isSoftwareAdapter(info, adapter.isFallbackAdapter),
    limits: {
      maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage ?? 8,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize ?? 0,
      maxBufferSize: device.limits.maxBufferSize ?? 0,
    },
  };
}

/**
 * Sets up Dawn, picks the adapter, creates the device and makes 'webgpu' the active TF.js backend.
 * Returns the adapter's description (also logged at info). Calling it again reuses the device.
 * Throws BackendError('BACKEND_ERROR') naming the cause and the fix when no acceptable adapter exists.
 */
export async function initWebGpuBackend(options: WebGpuOptions = {}): Promise<WebGpuAdapterDescription> {
  // Two callers racing (CLI and a plugin, say) must share one device, not create two.
  pending ??= initOnce(options).finally(() => (pending = undefined));
  return pending;
}

let pending: Promise<WebGpuAdapterDescription> | undefined;

async function initOnce(options: WebGpuOptions): Promise<WebGpuAdapterDescription> {
  const logger = options.logger ?? silentBackendLogger;
  if (state && !state.destroyed && tf.findBackend('webgpu')) {
    if (tf.getBackend() !== 'webgpu') await tf.setBackend('webgpu');
    return state.adapter;
  }
  const allowSoftware = options.allowSoftwareAdapter ?? process.env.RWSEG_WEBGPU_ALLOW_SOFTWARE === '1';
  ensureRuntimeDir();
  const gpu = await createGpu(options.dawnOptions ?? []);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    const { cause, fix } = explainNoAdapter(probeVulkan());
    throw new BackendError(
      'BACKEND_ERROR',
      `backend 'webgpu': no WebGPU adapter found. Likely cause: ${cause}. Fix: ${fix}`,
      { cause, fix },
    );
  }
  const info = adapter.info ?? {};
  if (isSoftwareAdapter(info, adapter.isFallbackAdapter) && !allowSoftware) {
    const name = info.description || info.device || info.architecture || 'unknown';
    throw new BackendError(
      'BACKEND_ERROR',
      `backend 'webgpu': the only WebGPU adapter is a software rasteriser (${name}): training would run on the CPU, slower than --backend wasm. ` +
        'Likely cause: no GPU driver with Vulkan support (install the NVIDIA driver and its Vulkan ICD; see docs/gpu.md). ' +
        'To use it anyway (tests, CI), pass allowSoftwareAdapter or set RWSEG_WEBGPU_ALLOW_SOFTWARE=1.',
      { adapter: name },
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS)
    if (typeof adapter.limits[name] === 'number') requiredLimits[name] = adapter.limits[name]!;
  const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  // TF.js never checks WebGPU validation errors: without this an invalid shader yields zeros without a word.
  device.onuncapturederror = (event) => logger.warn('webgpu validation error', { message: event.error.message });
  const description = describe(adapter, device);
  const current: WebGpuState = { device, adapter: description, destroyed: false };
  state = current;
  void device.lost.then((lost) => {
    if (!current.destroyed) logger.warn('webgpu device lost', { reason: lost.reason, message: lost.message });
  });

  const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
  };
  // The package registers its own factory on import, which would pick an adapter of its choosing.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info), 3);
  // One storage buffer is the output: the rest can be inputs.
  installChunkedAddN(Math.max(2, description.limits.maxStorageBuffersPerShaderStage - 1));
  installRankSafeBinaryOps();
  if (!(await tf.setBackend('webgpu'))) {
    await disposeWebGpuBackend();
    throw new BackendError(
      'BACKEND_ERROR',
      `backend 'webgpu' failed to initialize on ${description.description}. ${WEBGPU_INSTALL_HINT}`,
      { adapter: description },
    );
  }
  await tf.ready();
  logger.info('webgpu adapter', { ...description });
  return description;
}

/**
 * Removes the webgpu backend and destroys its device, giving its memory back. Tensors still on it are lost;
 * switch to another backend first to keep any (tf.setBackend moves them lazily only while both exist).
 */
export async function disposeWebGpuBackend(): Promise<void> {
  if (!state || state.destroyed) return;
  state.destroyed = true;
  if (tf.findBackend('webgpu') || tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  state.device.destroy();
}
