/**
 * Calls into the wasm backend's own kernels at the TensorInfo level. rwseg's replacement kernels are built from
 * them (a transpose, a conv2d, a matMul...), so they run at the backend's native speed without going through the
 * engine: no gradient recording, no tensor tracking, intermediates freed explicitly.
 */
import { tf } from '../tf.js';

export type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
/** What TF.js passes every kernel function. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The part of the wasm backend object rwseg's kernels use. */
export interface WasmBackend {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The stock wasm kernels, captured before rwseg replaces any, so a replacement can fall back to the original. */
const stock = new Map<string, KernelFunc>();
/** rwseg's own kernels, never mistaken for stock ones when registration runs twice. */
const rwsegKernels = new Set<KernelFunc>();

export function markRwsegKernel(kernel: KernelFunc): void {
  rwsegKernels.add(kernel);
}

/** Remembers the wasm backend's own kernel `name` (if it has one) before rwseg registers its replacement. */
export function captureStockKernel(name: string): KernelFunc | undefined {
  if (!stock.has(name)) {
    const config = tf.getKernel(name, 'wasm');
    if (config !== undefined && !rwsegKernels.has(config.kernelFunc)) stock.set(name, config.kernelFunc);
  }
  return stock.get(name);
}

export function hasStockKernel(name: string): boolean {
  return captureStockKernel(name) !== undefined;
}

/** Runs the stock wasm kernel `name`. */
export function callStock(
  name: string,
  backend: WasmBackend,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const kernel = captureStockKernel(name);
  if (kernel === undefined) throw new Error(`rwseg wasm kernels: the wasm backend has no ${name} kernel to build on`);
  const result = kernel({ inputs, backend, attrs: attrs as tf.NamedAttrMap });
  return Array.isArray(result) ? (result[0] as TensorInfo) : result;
}

/** Runs the stock wasm kernel `name` on a replacement kernel's own arguments, all outputs kept (the fallback path). */
export function fallBackToStock(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const kernel = captureStockKernel(name);
  if (kernel === undefined) throw new Error(`rwseg wasm kernels: the wasm backend has no ${name} kernel to build on`);
  return kernel(args as Parameters<KernelFunc>[0]) as TensorInfo | TensorInfo[];
}

/** Frees intermediates produced by `callStock` (reshape shares storage: refcounts make that safe). */
export function release(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export function reshape(backend: WasmBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return callStock('Reshape', backend, { x }, { shape });
}

export function transpose(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return callStock('Transpose', backend, { x }, { perm });
}

/** Attributes shared by the 2D convolution gradient kernels (NHWC only on wasm). */
export interface ConvGradAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}
