/**
 * Loads rwseg's WebAssembly SIMD kernels (packages/core/simd/kernels.c, kernels3d.c and winograd3d.c, embedded by
 * simd-binary.ts)
 * into the
 * wasm backend's own memory: the module imports tfjs's WebAssembly.Memory, so a kernel reads and writes tensors
 * in place at their heap addresses. Optional: when the module cannot be instantiated (no wasm SIMD, a tfjs build
 * that does not expose its memory) or is switched off, every kernel using it falls back to its stock or
 * JavaScript path.
 *
 * Two builds: 'simd' (wasm SIMD 128) and 'fma' (the same, with relaxed SIMD's fused multiply-add in the
 * convolutions: 1.2-1.4x faster convolutions). 'fma' is used where the runtime validates it: Node versions whose
 * V8 ships relaxed SIMD, or Node 20 with RWSEG_WASM_RELAXED_SIMD=1 in the environment, which makes rwseg turn on
 * V8's --experimental-wasm-relaxed-simd at run time (an experimental V8 flag: opt-in only).
 */
import { createRequire } from 'node:module';
import { SIMD_FMA_KERNELS_WASM_BASE64, SIMD_KERNELS_WASM_BASE64 } from './simd-binary.js';
import type { TensorInfo, WasmBackend } from './stock.js';

/** Which build of the kernels runs. */
export type SimdVariant = 'simd' | 'fma';

/** The exports of rwseg-kernels.wasm; pointers are byte addresses in the tfjs heap, counts in elements. */
export interface SimdKernels {
  sum_rows(x: number, rows: number, channels: number, partial: number, totals: number): void;
  leaky_relu(x: number, y: number, n: number, alpha: number): void;
  greater_scalar(x: number, s: number, out: number, n: number): void;
  select_f32(cond: number, a: number, b: number, out: number, n: number): void;
  channel_binary(x: number, v: number, out: number, rows: number, channels: number, op: number, vFirst: number): void;
  channel_affine(
    x: number,
    mean: number,
    factor: number,
    offset: number,
    out: number,
    rows: number,
    channels: number,
  ): void;
  copy_rows(src: number, srcStride: number, dst: number, dstStride: number, rows: number, width: number): void;
  conv2d_s1(
    xp: number,
    w: number,
    out: number,
    n: number,
    hp: number,
    wp: number,
    ci: number,
    ho: number,
    wo: number,
    co: number,
    kh: number,
    kw: number,
  ): void;
  max_pool_grad_2x2(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
  ): void;
  conv2d_filter_grad(
    xp: number,
    dy: number,
    dw: number,
    n: number,
    hp: number,
    wp: number,
    ci: number,
    ho: number,
    wo: number,
    co: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    chunkRows: number,
  ): void;
  // 3D (simd/kernels3d.c).
  conv3d_s1(
    xp: number,
    w: number,
    out: number,
    n: number,
    dp: number,
    hp: number,
    wp: number,
    ci: number,
    od: number,
    oh: number,
    ow: number,
    co: number,
    kd: number,
    kh: number,
    kw: number,
    chunk: number,
  ): void;
  conv3d_filter_grad(
    xp: number,
    dy: number,
    dw: number,
    n: number,
    dp: number,
    hp: number,
    wp: number,
    ci: number,
    od: number,
    oh: number,
    ow: number,
    co: number,
    kd: number,
    kh: number,
    kw: number,
    sd: number,
    sh: number,
    sw: number,
    chunkRows: number,
  ): void;
  blocks3d(
    x: number,
    blocks: number,
    n: number,
    d: number,
    h: number,
    w: number,
    c: number,
    bd: number,
    bh: number,
    bw: number,
    toBlocks: number,
  ): void;
  pad3d(
    x: number,
    xp: number,
    n: number,
    d: number,
    h: number,
    w: number,
    c: number,
    front: number,
    back: number,
    top: number,
    bottom: number,
    left: number,
    right: number,
  ): void;
  max_pool3d_2x2x2(x: number, y: number, n: number, d: number, h: number, w: number, c: number): void;
  max_pool3d_grad_2x2x2(x: number, dy: number, dx: number, n: number, d: number, h: number, w: number, c: number): void;
  // Winograd F(2x2x2, 3x3x3) (simd/winograd3d.c).
  winograd3d_filter(w: number, u: number, ci: number, co: number): void;
  winograd3d_conv(
    xp: number,
    u: number,
    out: number,
    scratch: number,
    n: number,
    dp: number,
    hp: number,
    wp: number,
    ci: number,
    od: number,
    oh: number,
    ow: number,
    co: number,
    block: number,
  ): void;
  winograd3d_filter_grad(
    xp: number,
    dy: number,
    dw: number,
    scratch: number,
    n: number,
    dp: number,
    hp: number,
    wp: number,
    ci: number,
    od: number,
    oh: number,
    ow: number,
    co: number,
    block: number,
  ): void;
  // The same for the F(2x4x4, 3x3x3) tiling.
  winograd3d_filter_244(w: number, u: number, ci: number, co: number): void;
  winograd3d_conv_244(
    xp: number,
    u: number,
    out: number,
    scratch: number,
    n: number,
    dp: number,
    hp: number,
    wp: number,
    ci: number,
    od: number,
    oh: number,
    ow: number,
    co: number,
    block: number,
  ): void;
  winograd3d_filter_grad_244(
    xp: number,
    dy: number,
    dw: number,
    scratch: number,
    n: number,
    dp: number,
    hp: number,
    wp: number,
    ci: number,
    od: number,
    oh: number,
    ow: number,
    co: number,
    block: number,
  ): void;
}

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

function instantiate(api: WebAssemblyApi, memory: object, variant: SimdVariant): SimdKernels | null {
  try {
    const instance = new api.Instance(new api.Module(decode(variant)), { env: { memory } });
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
