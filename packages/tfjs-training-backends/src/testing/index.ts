/**
 * `@rwseg/tfjs-training-backends/testing`: what tests and benchmarks of TF.js backends use, kept out of the root
 * API as TF.js keeps test_util apart: a U-Net in raw ops with seeded weights (the same loss and gradients on every
 * backend; bench/gpu times it), backend comparisons, which path a kernel takes, the switches between a kernel's
 * implementations (SIMD, FMA, Winograd, stock), and whether this machine can run the Vulkan (webgpu) tests.
 */
export {
  seededUniform,
  probeUnetShapes,
  probeUnetWeights,
  probeUnetForward,
  probeUnetLoss,
  probeUnetGradients,
  type ProbeUnetSpec,
  type ProbeUnetWeights,
} from './probe-unet.js';
export { isCi, LAVAPIPE_ICD, vulkanSkipReason } from './hardware.js';
export { compareBackends, relativeDifference, runOn, seededValues, type Outputs } from './compare-backends.js';
// Which implementation a wasm kernel takes for a geometry, so a test can prove the fast path ran.
export { conv3dForwardPath } from '../wasm-kernels/conv3d-forward.js';
export type { Conv3DPath } from '../wasm-kernels/conv3d-geometry.js';
export type { WasmBackend } from '../wasm-kernels/stock.js';
// Switches between a kernel's implementations, for benchmarks and tests comparing them.
export { unregisterWasmTrainingKernels } from '../wasm-kernels/register.js';
export { setFmaKernelsAllowed, setSimdKernelsEnabled } from '../wasm-kernels/simd.js';
export { setWinogradEnabled } from '../wasm-kernels/conv3d-geometry.js';
