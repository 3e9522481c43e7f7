import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { isBackendError } from '../src/errors.js';
import { checkTrainingKernels } from '../src/check-training-kernels.js';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../src/wasm-kernels/register.js';

function smallUnet(): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 1] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
  const skip = tfl.layers.leakyReLU({ alpha: 0.01 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(skip) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 2, strides: 2 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.concatenate().apply([skip, x]) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: tfl.layers.softmax({ axis: -1 }).apply(x) as tfl.SymbolicTensor });
}

test.serial('a U-Net passes the check on wasm with rwseg kernels, leaving its weights untouched', async (t) => {
  await useBackend('wasm');
  const model = smallUnet();
  const before = model.getWeights().map((w) => Array.from(w.dataSync()));
  const tensorsBefore = tf.memory().numTensors;
  const result = checkTrainingKernels(model);
  t.is(result.backend, 'wasm');
  t.deepEqual([...result.checked].sort(), [
    'BatchNormalization',
    'Concatenate',
    'Conv2D',
    'Conv2DTranspose',
    'LeakyReLU',
    'MaxPooling2D',
    'Softmax',
  ]);
  t.deepEqual(result.unchecked, []);
  t.deepEqual(
    model.getWeights().map((w) => Array.from(w.dataSync())),
    before,
  );
  t.is(tf.memory().numTensors, tensorsBefore, 'the probes leak no tensors');
  model.dispose();
});

test.serial('a missing gradient kernel fails at once with the kernel and the backend named', async (t) => {
  await useBackend('wasm');
  tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  try {
    const error = t.throws(() => checkTrainingKernels(smallUnet()));
    t.true(isBackendError(error, 'BACKEND_ERROR'));
    t.regex(error!.message, /Conv2DBackpropFilter/);
    t.regex(error!.message, /'wasm'/);
    t.is((error as { details?: Record<string, unknown> }).details?.['kernel'], 'Conv2DBackpropFilter');
    t.is((error as { details?: Record<string, unknown> }).details?.['layer'], 'Conv2D');
  } finally {
    registerWasmTrainingKernels();
  }
  t.is(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc, WASM_TRAINING_KERNELS['Conv2DBackpropFilter']);
  t.notThrows(() => checkTrainingKernels(['Conv2D']));
});

test.serial('layer types can be checked by name, 3D ones included; unknown names are refused', async (t) => {
  await useBackend('wasm');
  const result = checkTrainingKernels(['Conv3D', 'MaxPooling3D', 'BatchNormalization', 'UpSampling2D', 'Dropout']);
  t.deepEqual(result.checked, ['Conv3D', 'MaxPooling3D', 'BatchNormalization', 'UpSampling2D']);
  const error = t.throws(() => checkTrainingKernels(['Conv9D']));
  t.true(isBackendError(error, 'INVALID_INPUT'));
  t.regex(error!.message, /Conv9D/);
});

test.serial('a layer whose gradient TF.js lacks on every backend (Conv3DTranspose) is reported as such', async (t) => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await useBackend(backend);
    const error = t.throws(() => checkTrainingKernels(['Conv3DTranspose']));
    t.true(isBackendError(error, 'BACKEND_ERROR'));
    t.regex(error!.message, /Conv3DBackpropInputV2/);
    t.regex(error!.message, /no gradient/);
  }
});
