/**
 * Elementwise ops on rank >= 5 tensors (3D networks) that work on WebGPU. TF.js 4.22's webgpu BinaryOpProgram,
 * when one input is a vector of fewer than 128 values (a bias or a per-channel scale) and the other has rank > 1,
 * reads the vector from workgroup memory at `coords[rank - 1]`; for rank 5 the coordinates are TF.js's own WGSL
 * struct `vec5`, which cannot be indexed, so the shader fails to compile and training stops (every 3D
 * convolution's bias add and instance norm's gamma and beta hit this). Such a vector only broadcasts along the
 * last axis, so the fix collapses the big input's leading axes to rank 4, runs the stock kernel, and reshapes the
 * result back.
 * Select (tf.where, LeakyReLU's gradient) throws 'Where for rank 5 is not yet supported'; with same-shaped
 * operands it is elementwise, so the same collapse applies.
 */
import { tf } from '../tf.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Backend = { disposeData(dataId: object): boolean | void };

/** TF.js webgpu kernels built on BinaryOpProgram (binaryKernelFunc). */
const BINARY_KERNELS = [
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Maximum',
  'Minimum',
  'Pow',
  'SquaredDifference',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'Equal',
  'NotEqual',
  'FloorDiv',
  'Mod',
  'Atan2',
  'LogicalAnd',
  'LogicalOr',
];

const installed = new Set<string>();

/** Whether a binary op's operand shapes take the broken shared-memory path for ranks above 4. */
export function needsRankCollapse(aShape: readonly number[], bShape: readonly number[]): boolean {
  const vectorAndBig = (v: readonly number[], big: readonly number[]) =>
    v.length <= 1 && big.length > 4 && (v[0] ?? 1) < 128;
  return vectorAndBig(aShape, bShape) || vectorAndBig(bShape, aShape);
}

/** Wraps each stock webgpu binary kernel and Select (idempotent). */
export function installRankSafeBinaryOps(): void {
  const reshapeKernel = tf.getKernel('Reshape', 'webgpu');
  if (!reshapeKernel) return;
  const reshape = (backend: unknown, x: tf.TensorInfo, shape: number[]) =>
    reshapeKernel.kernelFunc({
      inputs: { x },
      backend: backend as tf.KernelBackend,
      attrs: { shape },
    }) as tf.TensorInfo;
  const select = tf.getKernel('Select', 'webgpu');
  if (select && !installed.has('Select')) {
    const stockSelect = select.kernelFunc;
    const safeSelect = (args: KernelArgs): ReturnType<tf.KernelFunc> => {
      const { condition, t, e } = args.inputs as { condition: tf.TensorInfo; t: tf.TensorInfo; e: tf.TensorInfo };
      const same = (x: tf.TensorInfo) => tf.util.arraysEqual(x.shape, t.shape);
      if (t.shape.length <= 4 || !same(condition) || !same(e)) return stockSelect(args);
      const shape4 = [tf.util.sizeFromShape(t.shape.slice(0, -3)), ...t.shape.slice(-3)];
      const [c4, t4, e4] = [condition, t, e].map((x) => reshape(args.backend, x, shape4)) as [
        tf.TensorInfo,
        tf.TensorInfo,
        tf.TensorInfo,
      ];
      const out = stockSelect({ ...args, inputs: { condition: c4, t: t4, e: e4 } }) as tf.TensorInfo;
      const result = reshape(args.backend, out, [...t.shape]);
      for (const x of [c4, t4, e4, out]) (args.backend as unknown as Backend).disposeData(x.dataId);
      return result;
    };
    tf.unregisterKernel('Select', 'webgpu');
    tf.registerKernel({ ...select, kernelFunc: safeSelect as tf.KernelFunc });
    installed.add('Select');
  }
  for (const name of BINARY_KERNELS) {
    if (installed.has(name)) continue;
    const stock = tf.getKernel(name, 'webgpu');
    if (!stock) continue;
    const stockFunc = stock.kernelFunc;
    const safe = (args: KernelArgs): ReturnType<tf.KernelFunc> => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      if (!needsRankCollapse(a.shape, b.shape)) return stockFunc(args);
      const backend = args.backend as unknown as Backend;
      const collapse = (t: tf.TensorInfo) =>
        t.shape.length > 4
          ? reshape(args.backend, t, [tf.util.sizeFromShape(t.shape.slice(0, -3)), ...t.shape.slice(-3)])
          : t;
      const [a4, b4] = [collapse(a), collapse(b)];
      const out = stockFunc({ ...args, inputs: { a: a4, b: b4 } }) as tf.TensorInfo;
      const big = a.shape.length > 4 ? a : b;
      const result = reshape(args.backend, out, [...big.shape]);
      for (const t of [a4, b4, out]) if (t !== a && t !== b) backend.disposeData(t.dataId);
      return result;
    };
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ ...stock, kernelFunc: safe as tf.KernelFunc });
    installed.add(name);
  }
}
