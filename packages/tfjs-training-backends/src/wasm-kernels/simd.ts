/**
 * Loads rwseg's WebAssembly SIMD kernels (simd/kernels.c, kernels3d.c and winograd3d.c of this package, embedded
 * by simd-binary.ts; their exports declared in simd-exports.ts) into the wasm backend's own memory: the module
 * imports tfjs's WebAssembly.Memory, so a kernel reads and writes tensors in place at their heap addresses. Optional: when the module cannot be instantiated (no wasm SIMD, a tfjs build
 * that does not expose its memory) or is switched off, every kernel using it falls back to its stock or
 * JavaScript path.
 *
 * Two builds: 'simd' (wasm SIMD 128) and 'fma' (the same, with relaxed SIMD's fused multiply-add in the
 * convolutions: 1.2-1.4x faster convolutions). 'fma' is used where the runtime validates it: Node versions whose
 * V8 ships relaxed SIMD, or Node 20 with RWSEG_WASM_RELAXED_SIMD=1 in the environment, which makes rwseg turn on
 * V8's --experimental-wasm-relaxed-simd at run time (an experimental V8 flag: opt-in only).
 */
import { createRequire } from 'node:module';
import { BackendError } from '../errors.js';
import { SIMD_FMA_KERNELS_WASM_BASE64, SIMD_KERNELS_WASM_BASE64 } from './simd-binary.js';
import { SIMD_EXPORTS, type SimdKernels } from './simd-exports.js';
import type { TensorInfo, WasmBackend } from './stock.js';

export type { SimdKernels } from './simd-exports.js';

/** Which build of the kernels runs. */
export type SimdVariant = 'simd' | 'fma';

/** The WebAssembly JS API (not in this project's ES2022 lib typings). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
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

interface BackendData {
  memoryOffset: number;
}
interface WasmBackendInternals extends WasmBackend {
  wasm: EmscriptenModule;
  dataIdMap: { get(dataId: object): BackendData | undefined };
}

let enabled = true;
let fmaAllowed = true;
const instances = new WeakMap<object, Partial<Record<SimdVariant, SimdKernels | null>>>();
const binaries: Record<SimdVariant, string> = { simd: SIMD_KERNELS_WASM_BASE64, fma: SIMD_FMA_KERNELS_WASM_BASE64 };
let fmaSupported: boolean | undefined;

/** Switches the SIMD kernels off (true: back on), e.g. to benchmark or test the fallbacks. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** false: use the plain SIMD build even where the FMA build would run (benchmarks and tests compare the two). */
export function setFmaKernelsAllowed(on: boolean): void {
  fmaAllowed = on;
}

/** The SIMD kernels bound to `backend`'s memory, or undefined when they are off or cannot load. */
export function simdKernels(backend: WasmBackend): SimdKernels | undefined {
  const variant = simdVariant(backend);
  return variant === undefined
    ? undefined
    : (instances.get((backend as WasmBackendInternals).wasm.asm?.memory as object)?.[variant] ?? undefined);
}

/** Which build `simdKernels(backend)` returns: 'fma', 'simd', or undefined when off or not loadable. */
export function simdVariant(backend: WasmBackend): SimdVariant | undefined {
  if (!enabled) return undefined;
  const memory = (backend as WasmBackendInternals).wasm?.asm?.memory;
  if (webAssembly === undefined || !(memory instanceof webAssembly.Memory)) return undefined;
  let loaded = instances.get(memory);
  if (loaded === undefined) {
    loaded = {};
    instances.set(memory, loaded);
  }
  const order: SimdVariant[] = fmaAllowed && relaxedSimdSupported(webAssembly) ? ['fma', 'simd'] : ['simd'];
  for (const variant of order) {
    if (loaded[variant] === undefined) loaded[variant] = instantiate(webAssembly, memory, variant);
    if (loaded[variant] !== null) return variant;
  }
  return undefined;
}

function decode(variant: SimdVariant): Uint8Array {
  return Uint8Array.from(atob(binaries[variant]), (c) => c.charCodeAt(0));
}

/** Whether the FMA build validates, after enabling V8's relaxed-SIMD flag if RWSEG_WASM_RELAXED_SIMD=1 asks for it. */
function relaxedSimdSupported(api: WebAssemblyApi): boolean {
  if (fmaSupported === undefined) {
    const bytes = decode('fma');
    fmaSupported = api.validate(bytes);
    if (!fmaSupported && globalThis.process?.env['RWSEG_WASM_RELAXED_SIMD'] === '1') {
      try {
        const v8 = createRequire(import.meta.url)('node:v8') as { setFlagsFromString(flags: string): void };
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
        fmaSupported = api.validate(bytes);
      } catch {
        fmaSupported = false;
      }
    }
  }
  return fmaSupported;
}

/** The module file each build is made as by simd/build.sh, for error messages. */
const MODULE_FILES: Record<SimdVariant, string> = { simd: 'rwseg-kernels.wasm', fma: 'rwseg-kernels-fma.wasm' };

/** The instantiated build, or null when this runtime cannot instantiate it (then the kernels fall back). */
function instantiate(api: WebAssemblyApi, memory: object, variant: SimdVariant): SimdKernels | null {
  let exports: unknown;
  try {
    exports = new api.Instance(new api.Module(decode(variant)), { env: { memory } }).exports;
  } catch {
    return null;
  }
  // A module that instantiates but does not match SIMD_EXPORTS is a build out of step with this code: say so.
  return checkSimdExports(exports as Record<string, unknown>, MODULE_FILES[variant]);
}

/**
 * `exports` as SimdKernels, after checking every export SIMD_EXPORTS declares is a function taking that many
 * parameters. Throws BackendError naming the module file and the export otherwise.
 */
export function checkSimdExports(exports: Record<string, unknown>, moduleFile: string): SimdKernels {
  for (const [name, params] of Object.entries(SIMD_EXPORTS)) {
    const exported = exports[name];
    const rebuild = 'rebuild it with packages/tfjs-training-backends/simd/build.sh';
    if (typeof exported !== 'function') {
      throw new BackendError('BACKEND_ERROR', `rwseg wasm kernels: ${moduleFile} has no export '${name}'; ${rebuild}`, {
        module: moduleFile,
        missing: name,
      });
    }
    if (exported.length !== params.length) {
      throw new BackendError(
        'BACKEND_ERROR',
        `rwseg wasm kernels: ${moduleFile}'s export '${name}' takes ${exported.length} parameters, ` +
          `simd-exports.ts declares ${params.length} (${params.join(', ')}); ${rebuild}`,
        { module: moduleFile, export: name },
      );
    }
  }
  return exports as unknown as SimdKernels;
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
