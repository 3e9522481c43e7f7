/**
 * Sums of many tensors that stay correct on WebGPU. TF.js's webgpu AddN binds every input as its own storage
 * buffer in one shader; past the device's maxStorageBuffersPerShaderStage (8 by default) the pipeline is invalid
 * and the result silently reads as zeros. Two remedies: `safeAddN` sums pairwise on any backend, and
 * `installChunkedAddN` makes `tf.addN` itself split its inputs into chunks the device can bind.
 */
import { BackendError } from '../errors.js';
import { tf, type Tensor } from '../tf.js';

/**
 * Sum of same-shaped tensors as a balanced tree of `tf.add`s (log2(n) depth, so float32 rounding grows as
 * log n rather than n). Use it wherever the number of terms is not a small constant: gradient accumulation over
 * micro-batches, per-batch metric sums, deep-supervision losses. The inputs are not disposed.
 */
export function safeAddN<T extends Tensor>(tensors: readonly T[]): T {
  if (tensors.length === 0)
    throw new BackendError('INVALID_INPUT', 'safeAddN needs at least one tensor, got an empty list');
  const shape = tensors[0]!.shape;
  tensors.forEach((t, i) => {
    if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
      throw new BackendError(
        'INVALID_INPUT',
        `safeAddN: tensor ${i} has shape [${t.shape}], tensor 0 has [${shape}]; all must match`,
        { index: i },
      );
    }
  });
  return tf.tidy(() => {
    let level: Tensor[] = tensors.map((t) => t.clone());
    while (level.length > 1) {
      const next: Tensor[] = [];
      for (let i = 0; i < level.length; i += 2)
        next.push(i + 1 < level.length ? tf.add(level[i]!, level[i + 1]!) : level[i]!);
      level = next;
    }
    return level[0] as T;
  });
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
type DisposableBackend = { disposeData(dataId: object): boolean | void };

let maxInputsPerAddN = 7;
let installed = false;

/**
 * Replaces the webgpu AddN kernel by one that sums at most `maxInputs` tensors per shader and adds the partial
 * sums the same way, keeping the stock kernel for the work. Idempotent; a later call only updates the limit
 * (each new device may allow a different number of storage buffers).
 */
export function installChunkedAddN(maxInputs: number): void {
  if (!Number.isInteger(maxInputs) || maxInputs < 2)
    throw new BackendError('BACKEND_ERROR', `AddN chunk size must be an integer >= 2, got ${maxInputs}`);
  maxInputsPerAddN = maxInputs;
  if (installed) return;
  const stock = tf.getKernel('AddN', 'webgpu');
  if (!stock)
    throw new BackendError(
      'BACKEND_ERROR',
      'the webgpu backend registered no AddN kernel; is @tensorflow/tfjs-backend-webgpu 4.22 installed?',
    );
  const stockFunc = stock.kernelFunc;
  const chunked = (args: KernelArgs): ReturnType<tf.KernelFunc> => {
    let infos = args.inputs as unknown as tf.TensorInfo[];
    const backend = args.backend as DisposableBackend;
    let owned: tf.TensorInfo[] = [];
    while (infos.length > maxInputsPerAddN) {
      const partials: tf.TensorInfo[] = [];
      for (let i = 0; i < infos.length; i += maxInputsPerAddN) {
        const chunk = infos.slice(i, i + maxInputsPerAddN);
        partials.push(
          chunk.length === 1
            ? chunk[0]!
            : (stockFunc({ ...args, inputs: chunk as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo),
        );
      }
      // Free the previous level's partial sums except those carried over unchanged into this level.
      for (const info of owned) if (!partials.includes(info)) backend.disposeData(info.dataId);
      owned = partials.filter((p) => !infos.includes(p));
      infos = partials;
    }
    const result = stockFunc({ ...args, inputs: infos as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
    for (const info of owned) backend.disposeData(info.dataId);
    return result;
  };
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({ ...stock, kernelFunc: chunked as tf.KernelFunc });
  installed = true;
}
