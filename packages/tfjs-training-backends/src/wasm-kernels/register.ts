/**
 * rwseg's training kernels for the wasm backend: the missing Conv2DBackpropFilter, faster
 * Conv2DBackpropInput and Tile, a correct MaxPoolGrad (the stock one loses all-negative windows), correct resize
 * gradients, and the 3D kernels (Conv3D and its two gradients, whose stock wasm versions are wrong, MaxPool3D and
 * its gradient). Registered after tf.setBackend('wasm') (the stock kernels must exist to be kept
 * as fallbacks); registering twice is a no-op.
 */
import { tf } from '../tf.js';
import { conv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { conv2DBackpropInput } from './conv2d-backprop-input.js';
import { conv2D, fusedConv2D } from './conv2d-forward.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { conv3D } from './conv3d-forward.js';
import { conv3DBackpropInputV2 } from './conv3d-backprop-input.js';
import { conv3DBackpropFilterV2 } from './conv3d-backprop-filter.js';
import { maxPool3D, maxPool3DGrad } from './max-pool3d.js';
import { resizeBilinearGrad, resizeNearestNeighborGrad } from './resize-grad.js';
import { captureStockKernel, markRwsegKernel } from './stock.js';
import { sum, mean } from './sum.js';
import { add, greater, leakyRelu, multiply, realDiv, select, sub } from './elementwise.js';
import { fusedBatchNorm } from './batch-norm.js';
import { concat, splitV } from './concat.js';
import { depthToSpace } from './depth-to-space.js';
import { cast, identity } from './identity.js';
import { tile } from './tile.js';

/** The kernels rwseg provides for wasm, by TF.js kernel name. */
export const WASM_TRAINING_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  Conv2DBackpropFilter: conv2DBackpropFilter as unknown as tf.KernelFunc,
  Conv2DBackpropInput: conv2DBackpropInput as unknown as tf.KernelFunc,
  Conv2D: conv2D as unknown as tf.KernelFunc,
  FusedConv2D: fusedConv2D as unknown as tf.KernelFunc,
  Tile: tile as unknown as tf.KernelFunc,
  Sum: sum as unknown as tf.KernelFunc,
  Mean: mean as unknown as tf.KernelFunc,
  // Memory-bound kernels of every activation, in WebAssembly SIMD (simd.ts); stock when that cannot load.
  LeakyRelu: leakyRelu as unknown as tf.KernelFunc,
  Greater: greater as unknown as tf.KernelFunc,
  Select: select as unknown as tf.KernelFunc,
  Multiply: multiply as unknown as tf.KernelFunc,
  Add: add as unknown as tf.KernelFunc,
  Sub: sub as unknown as tf.KernelFunc,
  RealDiv: realDiv as unknown as tf.KernelFunc,
  FusedBatchNorm: fusedBatchNorm as unknown as tf.KernelFunc,
  Concat: concat as unknown as tf.KernelFunc,
  SplitV: splitV as unknown as tf.KernelFunc,
  DepthToSpace: depthToSpace as unknown as tf.KernelFunc,
  Identity: identity as unknown as tf.KernelFunc,
  Cast: cast as unknown as tf.KernelFunc,
  MaxPoolGrad: maxPoolGrad as unknown as tf.KernelFunc,
  // The stock wasm versions of these give wrong gradients (kernels-gradients.test.ts, kernels-resize-grad.test.ts).
  ResizeBilinearGrad: resizeBilinearGrad,
  ResizeNearestNeighborGrad: resizeNearestNeighborGrad,
  // 3D (conv3d.ts, max-pool3d.ts): SIMD kernels; the cpu backend's where stock wasm is wrong and SIMD cannot run.
  Conv3D: conv3D as unknown as tf.KernelFunc,
  Conv3DBackpropInputV2: conv3DBackpropInputV2 as unknown as tf.KernelFunc,
  Conv3DBackpropFilterV2: conv3DBackpropFilterV2 as unknown as tf.KernelFunc,
  MaxPool3D: maxPool3D as unknown as tf.KernelFunc,
  MaxPool3DGrad: maxPool3DGrad as unknown as tf.KernelFunc,
};

/** Stock kernels the replacements are built from; all ship with tfjs-backend-wasm 4.22. */
const BUILDING_BLOCKS = [
  'Conv2D',
  'Conv3D',
  'MaxPool3D',
  'Transpose',
  'Reshape',
  'Slice',
  'Reverse',
  'BatchMatMul',
  'DepthToSpace',
];

/**
 * Registers rwseg's wasm training kernels (idempotent). Returns, per kernel, whether it 'added' a kernel the
 * backend lacked or 'replaced' the stock one (kept as fallback).
 */
export function registerWasmTrainingKernels(): Record<string, 'added' | 'replaced'> {
  for (const name of BUILDING_BLOCKS) {
    if (captureStockKernel(name) === undefined)
      throw new Error(`rwseg wasm kernels: tfjs-backend-wasm lacks ${name}; expected version 4.22`);
  }
  const result: Record<string, 'added' | 'replaced'> = {};
  for (const kernelFunc of Object.values(WASM_TRAINING_KERNELS)) markRwsegKernel(kernelFunc);
  for (const [name, kernelFunc] of Object.entries(WASM_TRAINING_KERNELS)) {
    const stock = captureStockKernel(name);
    result[name] = stock === undefined ? 'added' : 'replaced';
    const registered = tf.getKernel(name, 'wasm');
    if (registered?.kernelFunc === kernelFunc) continue;
    if (registered !== undefined) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
  }
  return result;
}

/** Puts the stock wasm kernels back (for benchmarks and tests comparing against them). */
export function unregisterWasmTrainingKernels(): void {
  for (const [name, kernelFunc] of Object.entries(WASM_TRAINING_KERNELS)) {
    const registered = tf.getKernel(name, 'wasm');
    if (registered?.kernelFunc !== kernelFunc) continue;
    tf.unregisterKernel(name, 'wasm');
    const stock = captureStockKernel(name);
    if (stock !== undefined) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: stock });
  }
}
