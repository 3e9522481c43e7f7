/**
 * The names of @rwseg/tfjs-training-backends that core's callers use (backend selection, the training kernels, the
 * WebGPU helpers), re-exported once for the root entry and the internal all-names list.
 */
export {
  useBackend,
  describeBackend,
  wasmBinaryDirectory,
  BACKEND_NAMES,
  BACKEND_CHOICES,
  TENSORFLOW_PACKAGES,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  checkTrainingKernels,
  initWebGpuBackend,
  disposeWebGpuBackend,
  describeWebGpuAdapter,
  isSoftwareAdapter,
  safeAddN,
  WEBGPU_INSTALL_HINT,
  explainNoAdapter,
  probeVulkan,
  type BackendName,
  type BackendChoice,
  type BackendDescription,
  type UseBackendOptions,
  type TrainingKernelCheck,
  type WebGpuOptions,
  type WebGpuAdapterDescription,
  type VulkanFacts,
} from '@rwseg/tfjs-training-backends';
