/**
 * Identity and same-dtype Cast without a copy: the output shares the input's storage, reference counted, as the
 * wasm backend's own Reshape does (the stock kernels copy every activation tf.moments casts to float32).
 */
import { fallBackToStock, type KernelArgs, type TensorInfo, type WasmBackend } from './stock.js';

/** Cast to the tensor's own dtype (tf.moments casts its input to float32) shares storage; other casts: stock. */
export function cast(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo };
  if ((args.attrs as { dtype: string }).dtype !== x.dtype) return fallBackToStock('Cast', args);
  return identity(args);
}

/** Identity shares the input's storage (reference counted, as the wasm backend's Reshape does) instead of a copy. */
export function identity(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend & { incRef(dataId: object): void };
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return fallBackToStock('Identity', args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
