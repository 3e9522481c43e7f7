/**
 * Runs a cpu-backend kernel on wasm tensors: inputs are copied out of the wasm heap, the cpu kernel (the plain,
 * correct JS reference) computes, the results are copied back into wasm memory. Used for gradient kernels whose
 * stock wasm versions give wrong results in tfjs-backend-wasm 4.22 (resize gradients, 3D convolution
 * gradients); slower than native wasm but right, and they are not on the 2D U-Net's hot path.
 */
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../tf.js';
import type { TensorInfo, WasmBackend } from './stock.js';

interface CpuBackend {
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object;
  readSync(dataId: object): tf.backend_util.BackendValues;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function viaCpuBackend(kernelName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackend;
    const cpu = tf.findBackend('cpu') as unknown as CpuBackend | null;
    const kernel = tf.getKernel(kernelName, 'cpu');
    if (cpu === null || kernel === undefined)
      throw new Error(`rwseg wasm kernels: ${kernelName} needs the cpu backend's kernel, which is not available`);
    const written: object[] = [];
    const cpuInputs: Record<string, TensorInfo> = {};
    for (const [name, info] of Object.entries(inputs as Record<string, TensorInfo>)) {
      const dataId = cpu.write(wasm.typedArrayFromHeap(info).slice(), info.shape, info.dtype);
      written.push(dataId);
      cpuInputs[name] = { dataId, shape: info.shape, dtype: info.dtype };
    }
    try {
      const result = kernel.kernelFunc({
        inputs: cpuInputs,
        backend: cpu as unknown as tf.KernelBackend,
        attrs: attrs ?? {},
      });
      const outputs = (Array.isArray(result) ? result : [result]).map((info) => {
        const values = cpu.readSync(info.dataId) as Float32Array | Int32Array | Uint8Array;
        const out = wasm.makeOutput(info.shape, info.dtype);
        wasm.typedArrayFromHeap(out).set(values);
        cpu.disposeData(info.dataId);
        return out;
      });
      return Array.isArray(result) ? outputs : (outputs[0] as TensorInfo);
    } finally {
      for (const dataId of written) cpu.disposeData(dataId);
    }
  };
}
