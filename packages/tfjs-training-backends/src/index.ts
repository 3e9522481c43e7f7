/**
 * @rwseg/tfjs-training-backends: TF.js backends made fit for training, with no segmentation knowledge.
 *  - backend selection: `useBackend('auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu')` and what was chosen;
 *  - wasm: the training kernels stock tfjs-backend-wasm 4.22 lacks or gets wrong, several in WebAssembly SIMD;
 *  - webgpu: Dawn set up in Node, with the workarounds TF.js's webgpu backend needs for training;
 *  - gradients TF.js does not register (conv3dTranspose), and a start-up check that a backend can train a model.
 * Test and benchmark helpers (the probe U-Net, hardware skips, the switches between a kernel's implementations) are
 * in the `/testing` sub-path.
 */
export {
  useBackend,
  describeBackend,
  wasmBinaryDirectory,
  TENSORFLOW_PACKAGES,
  type BackendDescription,
  type UseBackendOptions,
} from './use-backend.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels/register.js';
export type { SimdVariant } from './wasm-kernels/simd.js';
export { checkTrainingKernels, type TrainingKernelCheck } from './check-training-kernels.js';
export { registerConv3DTransposeGradient } from './gradients/conv3d-transpose.js';
export {
  initWebGpuBackend,
  disposeWebGpuBackend,
  describeWebGpuAdapter,
  type WebGpuOptions,
  type WebGpuAdapterDescription,
} from './webgpu/backend.js';
export { safeAddN } from './webgpu/addn.js';
export { WEBGPU_INSTALL_HINT, explainNoAdapter, probeVulkan, type VulkanFacts } from './webgpu/diagnose.js';
export { BACKEND_CHOICES, BACKEND_NAMES, isSoftwareAdapter, type BackendChoice, type BackendName } from './names.js';
export { BackendError, isBackendError, type BackendErrorCode } from './errors.js';
export { silentBackendLogger, type BackendLogger } from './logger.js';
