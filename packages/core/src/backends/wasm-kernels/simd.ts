/**
 * Loads rwseg's WebAssembly SIMD kernels (packages/core/simd/kernels.c, embedded by simd-binary.ts) into the
 * wasm backend's own memory: the module imports tfjs's WebAssembly.Memory, so a kernel reads and writes tensors
 * in place at their heap addresses. Optional: when the module cannot be instantiated (no wasm SIMD, a tfjs build
 * that does not expose its memory) or is switched off, every kernel using it falls back to its stock or
 * JavaScript path.
 */
import { SIMD_KERNELS_WASM_BASE64 } from './simd-binary.js';
import type { TensorInfo, WasmBackend } from './stock.js';

/** The exports of rwseg-kernels.wasm; pointers are byte addresses in the tfjs heap, counts in elements. */
export interface SimdKernels {
  sum_rows(x: number, rows: number, channels: number, partial: number, totals: number): void;
  leaky_relu(x: number, y: number, n: number, alpha: number): void;
  greater_scalar(x: number, s: number, out: number, n: number): void;
  select_f32(cond: number, a: number, b: number, out: number, n: number): void;
  channel_binary(x: number, v: number, out: number, rows: number, channels: number, op: number, vFirst: number): void;
  channel_affine(x: number, mean: number, factor: number, offset: number, out: number, rows: number, channels: number): void;
  copy_rows(src: number, srcStride: number, dst: number, dstStride: number, rows: number, width: number): void;
  conv2d_s1(xp: number, w: number, out: number, n: number, hp: number, wp: number, ci: number, ho: number, wo: number, co: number, kh: number, kw: number): void;
  max_pool_grad_2x2(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, ho: number, wo: number): void;
  conv2d_filter_grad(xp: number, dy: number, dw: number, n: number, hp: number, wp: number, ci: number, ho: number, wo: number, co: number, kh: number, kw: number, sh: number, sw: number, chunkRows: number): void;
}

/** The WebAssembly JS API (not in this project's ES2022 lib typings). */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const webAssembly = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** What the kernels need from the wasm backend beyond WasmBackend: its emscripten module. */
interface EmscriptenModule {
  asm?: { memory?: object };
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

interface BackendData { memoryOffset: number }
interface WasmBackendInternals extends WasmBackend {
  wasm: EmscriptenModule;
  dataIdMap: { get(dataId: object): BackendData | undefined };
}

let enabled = true;
const instances = new WeakMap<object, SimdKernels | null>();

/** Switches the SIMD kernels off (true: back on), e.g. to benchmark or test the fallbacks. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** The SIMD kernels bound to `backend`'s memory, or undefined when they are off or cannot load. */
export function simdKernels(backend: WasmBackend): SimdKernels | undefined {
  if (!enabled) return undefined;
  const memory = (backend as WasmBackendInternals).wasm?.asm?.memory;
  if (webAssembly === undefined || !(memory instanceof webAssembly.Memory)) return undefined;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    kernels = instantiate(webAssembly, memory);
    instances.set(memory, kernels);
  }
  return kernels ?? undefined;
}

function instantiate(api: WebAssemblyApi, memory: object): SimdKernels | null {
  try {
    const bytes = Uint8Array.from(atob(SIMD_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    const instance = new api.Instance(new api.Module(bytes), { env: { memory } });
    return instance.exports as unknown as SimdKernels;
  } catch {
    return null;
  }
}

/** Heap address of a tensor's data. */
export function addressOf(backend: WasmBackend, info: TensorInfo): number {
  const data = (backend as WasmBackendInternals).dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error('rwseg wasm kernels: tensor data is not on the wasm backend');
  return data.memoryOffset;
}

/** Scratch memory in the tfjs heap for the duration of `use`. */
export function withScratch<T>(backend: WasmBackend, bytes: number, use: (address: number) => T): T {
  const module = (backend as WasmBackendInternals).wasm;
  const address = module._malloc(bytes) >>> 0;
  try {
    return use(address);
  } finally {
    module._free(address);
  }
}

/** A float32 view of `count` values at `address` in the tfjs heap (detached if the heap grows: use at once). */
export function heapFloat32(backend: WasmBackend, address: number, count: number): Float32Array {
  return new Float32Array((backend as WasmBackendInternals).wasm.HEAPU8.buffer, address, count);
}

/** A float64 copy of `count` values at `address` in the tfjs heap. */
export function readFloat64(backend: WasmBackend, address: number, count: number): Float64Array {
  return new Float64Array((backend as WasmBackendInternals).wasm.HEAPU8.buffer, address, count).slice();
}

/** Whether the active wasm backend runs rwseg's SIMD kernels (reported by describeBackend()). */
export function simdKernelsActive(backend: WasmBackend): boolean {
  return simdKernels(backend) !== undefined;
}
