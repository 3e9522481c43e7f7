export { registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS } from './register.js';
export { backpropInputPath, type BackpropInputPath } from './conv2d-backprop-input.js';
export { tileInto } from './tile.js';
export { setSimdKernelsEnabled, setFmaKernelsAllowed, type SimdVariant } from './simd.js';
export { setWinogradEnabled } from './conv3d.js';
