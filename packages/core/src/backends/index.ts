export {
  useBackend,
  describeBackend,
  wasmBinaryDirectory,
  BACKEND_NAMES,
  BACKEND_CHOICES,
  TENSORFLOW_PACKAGES,
  type BackendName,
  type BackendChoice,
  type BackendDescription,
  type UseBackendOptions,
} from '../backend.js';
export {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  setSimdKernelsEnabled,
  setFmaKernelsAllowed,
  WASM_TRAINING_KERNELS,
  setWinogradEnabled,
} from './wasm-kernels/index.js';
export { checkTrainingKernels, type TrainingKernelCheck } from './check-training-kernels.js';
