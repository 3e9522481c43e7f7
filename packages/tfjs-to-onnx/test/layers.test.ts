/**
 * Each supported layer alone, with random weights, on odd and even spatial sizes: the exported ONNX model run by
 * onnxruntime-node must match TF.js predict to 1e-4 (float32).
 */
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { compareWithOnnx, randomizeWeights, useCpuBackend } from './helpers.js';
import { InstanceNormalization, UpSampling3D } from './custom-layers.js';

test.before(async () => {
  await useCpuBackend();
});

type Shape = (number | null)[];
interface Case {
  /** Model input shape without batch (null = dynamic). */
  input: Shape;
  layer: () => tfl.layers.Layer;
  /** Concrete input shapes to run, batch included. */
  runs: number[][];
}

const ODD_EVEN_2D = (c: number) => [
  [2, 7, 9, c],
  [1, 8, 6, c],
];
const ODD_EVEN_3D = (c: number) => [
  [1, 5, 7, 6, c],
  [2, 4, 6, 8, c],
];
const dyn2d = (c: number): Shape => [null, null, c];
const dyn3d = (c: number): Shape => [null, null, null, c];

const cases: Record<string, Case> = {
  'Conv2D valid 3x3 with bias': {
    input: dyn2d(3),
    layer: () => tfl.layers.conv2d({ filters: 4, kernelSize: 3 }),
    runs: ODD_EVEN_2D(3),
  },
  'Conv2D same 3x3 stride 1, relu activation': {
    input: dyn2d(3),
    layer: () => tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
    runs: ODD_EVEN_2D(3),
  },
  'Conv2D same 3x3 stride 2 (SAME_UPPER)': {
    input: dyn2d(2),
    layer: () => tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
    runs: ODD_EVEN_2D(2),
  },
  'Conv2D same 4x2 kernel stride [2,1]': {
    input: dyn2d(2),
    layer: () => tfl.layers.conv2d({ filters: 3, kernelSize: [4, 2], strides: [2, 1], padding: 'same' }),
    runs: ODD_EVEN_2D(2),
  },
  'Conv2D valid stride 2, no bias': {
    input: dyn2d(2),
    layer: () => tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, useBias: false }),
    runs: ODD_EVEN_2D(2),
  },
  'Conv2D same dilation 2, sigmoid activation': {
    input: dyn2d(2),
    layer: () =>
      tfl.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'sigmoid' }),
    runs: ODD_EVEN_2D(2),
  },
  'Conv2D softmax activation': {
    input: dyn2d(3),
    layer: () => tfl.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'softmax' }),
    runs: ODD_EVEN_2D(3),
  },
  'Conv3D same stride 1, tanh activation': {
    input: dyn3d(2),
    layer: () => tfl.layers.conv3d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' }),
    runs: ODD_EVEN_3D(2),
  },
  'Conv3D same stride 2': {
    input: dyn3d(2),
    layer: () => tfl.layers.conv3d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
    runs: ODD_EVEN_3D(2),
  },
  'Conv3D valid with elu activation': {
    input: dyn3d(2),
    layer: () => tfl.layers.conv3d({ filters: 2, kernelSize: [2, 3, 1], activation: 'elu' }),
    runs: ODD_EVEN_3D(2),
  },
  'Conv2DTranspose same k2 s2': {
    input: dyn2d(3),
    layer: () => tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2, padding: 'same' }),
    runs: ODD_EVEN_2D(3),
  },
  'Conv2DTranspose same k3 s2': {
    input: dyn2d(3),
    layer: () => tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
    runs: ODD_EVEN_2D(3),
  },
  'Conv2DTranspose same k4 s3 (odd crop: end side)': {
    input: dyn2d(2),
    layer: () => tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 4, strides: 3, padding: 'same' }),
    runs: ODD_EVEN_2D(2),
  },
  'Conv2DTranspose same k[3,2] s[1,2], no bias': {
    input: dyn2d(2),
    layer: () =>
      tfl.layers.conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: [1, 2], padding: 'same', useBias: false }),
    runs: ODD_EVEN_2D(2),
  },
  'Conv2DTranspose valid k3 s2': {
    input: dyn2d(3),
    layer: () => tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'valid' }),
    runs: ODD_EVEN_2D(3),
  },
  'Conv2DTranspose valid k1 s2 (output padding)': {
    input: dyn2d(3),
    layer: () => tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 1, strides: 2 }),
    runs: ODD_EVEN_2D(3),
  },
  'Conv2DTranspose same k4 s1, relu': {
    input: dyn2d(3),
    layer: () => tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 4, padding: 'same', activation: 'relu' }),
    runs: ODD_EVEN_2D(3),
  },
  'Conv3DTranspose same k2 s2': {
    input: dyn3d(2),
    layer: () => tfl.layers.conv3dTranspose({ filters: 3, kernelSize: 2, strides: 2, padding: 'same' }),
    runs: ODD_EVEN_3D(2),
  },
  'Conv3DTranspose valid k3 s2': {
    input: dyn3d(2),
    layer: () => tfl.layers.conv3dTranspose({ filters: 3, kernelSize: 3, strides: 2 }),
    runs: ODD_EVEN_3D(2),
  },
  'Dense on [N, features] (Gemm)': {
    input: [5],
    layer: () => tfl.layers.dense({ units: 3, activation: 'tanh' }),
    runs: [
      [3, 5],
      [1, 5],
    ],
  },
  'Dense on NHWC (last axis)': { input: dyn2d(4), layer: () => tfl.layers.dense({ units: 3 }), runs: ODD_EVEN_2D(4) },
  'BatchNormalization alone (BatchNormalization op)': {
    input: dyn2d(4),
    layer: () => tfl.layers.batchNormalization({ epsilon: 1e-3 }),
    runs: ODD_EVEN_2D(4),
  },
  'BatchNormalization on [N, features]': {
    input: [6],
    layer: () => tfl.layers.batchNormalization({ scale: false }),
    runs: [[4, 6]],
  },
  'LayerNormalization over channels': {
    input: dyn2d(5),
    layer: () => tfl.layers.layerNormalization({ epsilon: 1e-3 }),
    runs: ODD_EVEN_2D(5),
  },
  'LayerNormalization over H, W, C': {
    input: [5, 3, 4],
    layer: () => tfl.layers.layerNormalization({ axis: [1, 2, 3] }),
    runs: [[2, 5, 3, 4]],
  },
  'InstanceNormalization (custom layer) 2D': {
    input: dyn2d(3),
    layer: () => new InstanceNormalization({ epsilon: 1e-5 }),
    runs: ODD_EVEN_2D(3),
  },
  'InstanceNormalization (custom layer) 3D': {
    input: dyn3d(2),
    layer: () => new InstanceNormalization(),
    runs: ODD_EVEN_3D(2),
  },
  'ReLU layer': { input: dyn2d(3), layer: () => tfl.layers.reLU(), runs: ODD_EVEN_2D(3) },
  'ReLU layer with maxValue (Clip)': {
    input: dyn2d(3),
    layer: () => tfl.layers.reLU({ maxValue: 0.4 }),
    runs: ODD_EVEN_2D(3),
  },
  'LeakyReLU layer alpha 0.01': {
    input: dyn2d(3),
    layer: () => tfl.layers.leakyReLU({ alpha: 0.01 }),
    runs: ODD_EVEN_2D(3),
  },
  'ELU layer (TF.js allows only alpha 1)': { input: dyn2d(3), layer: () => tfl.layers.elu(), runs: ODD_EVEN_2D(3) },
  'ThresholdedReLU layer': {
    input: dyn2d(3),
    layer: () => tfl.layers.thresholdedReLU({ theta: 0.2 }),
    runs: ODD_EVEN_2D(3),
  },
  // tfjs-layers' Softmax layer defaults to axis 1, and TF.js computes softmax over the last axis only.
  'Softmax layer over channels': {
    input: dyn2d(4),
    layer: () => tfl.layers.softmax({ axis: -1 }),
    runs: ODD_EVEN_2D(4),
  },
  'Softmax layer default axis on [N, features]': { input: [5], layer: () => tfl.layers.softmax(), runs: [[3, 5]] },
  'MaxPooling2D 2x2 valid': {
    input: dyn2d(3),
    layer: () => tfl.layers.maxPooling2d({ poolSize: 2 }),
    runs: ODD_EVEN_2D(3),
  },
  'MaxPooling2D 3x3 stride 2 same': {
    input: dyn2d(3),
    layer: () => tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
    runs: ODD_EVEN_2D(3),
  },
  'AveragePooling2D 2x2 same (padding not counted)': {
    input: dyn2d(3),
    layer: () => tfl.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
    runs: ODD_EVEN_2D(3),
  },
  'AveragePooling2D 3x2 stride 1 valid': {
    input: dyn2d(3),
    layer: () => tfl.layers.averagePooling2d({ poolSize: [3, 2], strides: 1 }),
    runs: ODD_EVEN_2D(3),
  },
  'MaxPooling3D 2 same': {
    input: dyn3d(2),
    layer: () => tfl.layers.maxPooling3d({ poolSize: 2, padding: 'same' }),
    runs: ODD_EVEN_3D(2),
  },
  'AveragePooling3D 2 valid': {
    input: dyn3d(2),
    layer: () => tfl.layers.averagePooling3d({ poolSize: 2 }),
    runs: ODD_EVEN_3D(2),
  },
  GlobalAveragePooling2D: { input: dyn2d(3), layer: () => tfl.layers.globalAveragePooling2d({}), runs: ODD_EVEN_2D(3) },
  GlobalMaxPooling2D: { input: dyn2d(3), layer: () => tfl.layers.globalMaxPooling2d({}), runs: ODD_EVEN_2D(3) },
  'UpSampling2D nearest 2x2': {
    input: dyn2d(3),
    layer: () => tfl.layers.upSampling2d({ size: [2, 2] }),
    runs: ODD_EVEN_2D(3),
  },
  'UpSampling2D nearest 3x2': {
    input: dyn2d(2),
    layer: () => tfl.layers.upSampling2d({ size: [3, 2] }),
    runs: ODD_EVEN_2D(2),
  },
  'UpSampling2D bilinear 2x2': {
    input: dyn2d(3),
    layer: () => tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }),
    runs: ODD_EVEN_2D(3),
  },
  'UpSampling2D bilinear 3x2': {
    input: dyn2d(2),
    layer: () => tfl.layers.upSampling2d({ size: [3, 2], interpolation: 'bilinear' }),
    runs: ODD_EVEN_2D(2),
  },
  'UpSampling3D (custom layer) nearest': {
    input: dyn3d(2),
    layer: () => new UpSampling3D({ size: [2, 1, 2] }),
    runs: ODD_EVEN_3D(2),
  },
  'Dropout (dropped)': { input: dyn2d(3), layer: () => tfl.layers.dropout({ rate: 0.5 }), runs: ODD_EVEN_2D(3) },
  'SpatialDropout and GaussianNoise are identities too': {
    input: dyn2d(3),
    layer: () => tfl.layers.gaussianNoise({ stddev: 1 }),
    runs: ODD_EVEN_2D(3),
  },
  'Reshape NHWC -> [N, H*W, C]': {
    input: [4, 6, 3],
    layer: () => tfl.layers.reshape({ targetShape: [24, 3] }),
    runs: [[2, 4, 6, 3]],
  },
  'Reshape NHWC -> NHWC with other dims': {
    input: [4, 6, 3],
    layer: () => tfl.layers.reshape({ targetShape: [6, 2, 6] }),
    runs: [[2, 4, 6, 3]],
  },
  'Flatten NHWC (TF.js element order)': { input: [5, 3, 2], layer: () => tfl.layers.flatten(), runs: [[2, 5, 3, 2]] },
  'Permute [2, 1, 3]': { input: [5, 3, 2], layer: () => tfl.layers.permute({ dims: [2, 1, 3] }), runs: [[2, 5, 3, 2]] },
  'ZeroPadding2D [[1, 2], [0, 3]]': {
    input: dyn2d(2),
    layer: () =>
      tfl.layers.zeroPadding2d({
        padding: [
          [1, 2],
          [0, 3],
        ],
      }),
    runs: ODD_EVEN_2D(2),
  },
  'Cropping2D [[1, 0], [2, 1]]': {
    input: dyn2d(2),
    layer: () =>
      tfl.layers.cropping2D({
        cropping: [
          [1, 0],
          [2, 1],
        ],
      }),
    runs: ODD_EVEN_2D(2),
  },
};

for (const activation of [
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softplus',
  'softsign',
  'softmax',
  'swish',
  'mish',
  'linear',
] as const) {
  cases[`Activation layer '${activation}'`] = {
    input: dyn2d(3),
    layer: () => tfl.layers.activation({ activation }),
    runs: ODD_EVEN_2D(3),
  };
}

for (const [name, c] of Object.entries(cases)) {
  test(name, async (t) => {
    const input = tfl.input({ shape: c.input });
    const output = c.layer().apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    randomizeWeights(model);
    const { maxAbsError, shapes } = await compareWithOnnx(
      model,
      c.runs.map((s) => [s]),
    );
    t.log(`max abs error ${maxAbsError.toExponential(2)} over outputs ${shapes.map((s) => `[${s}]`).join(' ')}`);
    t.true(maxAbsError < 1e-4, `max abs error ${maxAbsError}`);
  });
}

const mergeInputs = (n: number) => Array.from({ length: n }, () => tfl.input({ shape: [null, null, 3] }));
const merges: Record<string, (xs: tfl.SymbolicTensor[]) => tfl.SymbolicTensor> = {
  'Concatenate on channels': (xs) => tfl.layers.concatenate().apply(xs) as tfl.SymbolicTensor,
  'Concatenate on width (axis 2)': (xs) => tfl.layers.concatenate({ axis: 2 }).apply(xs) as tfl.SymbolicTensor,
  'Add of three': (xs) => tfl.layers.add().apply(xs) as tfl.SymbolicTensor,
  'Multiply of three': (xs) => tfl.layers.multiply().apply(xs) as tfl.SymbolicTensor,
  'Average, Maximum, Minimum': (xs) =>
    tfl.layers
      .add()
      .apply([
        tfl.layers.average().apply(xs) as tfl.SymbolicTensor,
        tfl.layers.maximum().apply(xs) as tfl.SymbolicTensor,
        tfl.layers.minimum().apply(xs) as tfl.SymbolicTensor,
      ]) as tfl.SymbolicTensor,
};
for (const [name, build] of Object.entries(merges)) {
  test(name, async (t) => {
    const inputs = mergeInputs(3);
    const model = tfl.model({ inputs, outputs: build(inputs) });
    const { maxAbsError } = await compareWithOnnx(model, [
      [
        [2, 7, 9, 3],
        [2, 7, 9, 3],
        [2, 7, 9, 3],
      ],
      [
        [1, 4, 6, 3],
        [1, 4, 6, 3],
        [1, 4, 6, 3],
      ],
    ]);
    t.true(maxAbsError < 1e-4, `max abs error ${maxAbsError}`);
  });
}
