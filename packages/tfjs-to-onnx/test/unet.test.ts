/**
 * Layers in combination: small U-Nets (2D and 3D) with skip connections, transposed convolutions, concatenation,
 * folded BatchNormalization, instance normalization and a softmax head; shared layers, several outputs, a
 * Sequential model. Also the ONNX checker (Debian's python3-onnx) on the exported files.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { convertLayersModel, decodeModel } from '../src/index.js';
import { InstanceNormalization } from './custom-layers.js';
import {
  compareWithOnnx,
  onnxCheckerAvailability,
  randomizeWeights,
  runOnnxChecker,
  tf,
  useCpuBackend,
} from './helpers.js';

test.before(async () => {
  await useCpuBackend();
});

type ST = tfl.SymbolicTensor;

/** A 2-level U-Net in the shape rwseg builds: conv-norm-act blocks, pooling, transposed-conv up, skip concat. */
function smallUNet(dims: 2 | 3, channels: number, classes: number, norm: 'batch' | 'instance'): tfl.LayersModel {
  const conv = (filters: number, name: string) =>
    dims === 2
      ? tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name })
      : tfl.layers.conv3d({ filters, kernelSize: 3, padding: 'same', name });
  const block = (x: ST, filters: number, name: string): ST => {
    let y = conv(filters, `${name}_conv`).apply(x) as ST;
    y = (
      norm === 'batch'
        ? tfl.layers.batchNormalization({ name: `${name}_bn`, epsilon: 1e-5 })
        : new InstanceNormalization({ name: `${name}_in` })
    ).apply(y) as ST;
    return tfl.layers.leakyReLU({ alpha: 0.01, name: `${name}_act` }).apply(y) as ST;
  };
  const pool = (name: string) =>
    dims === 2 ? tfl.layers.maxPooling2d({ poolSize: 2, name }) : tfl.layers.maxPooling3d({ poolSize: 2, name });
  const up = (filters: number, name: string) =>
    dims === 2
      ? tfl.layers.conv2dTranspose({ filters, kernelSize: 2, strides: 2, name })
      : tfl.layers.conv3dTranspose({ filters, kernelSize: 2, strides: 2, name });
  const input = tfl.input({ shape: [...new Array<null>(dims).fill(null), channels] });
  const e0 = block(input, 4, 'enc0');
  const e1 = block(pool('pool1').apply(e0) as ST, 8, 'enc1');
  const bottom = block(pool('pool2').apply(e1) as ST, 8, 'bottom');
  let d1 = up(8, 'up1').apply(bottom) as ST;
  d1 = block(tfl.layers.concatenate({ name: 'cat1' }).apply([e1, d1]) as ST, 8, 'dec1');
  let d0 = up(4, 'up0').apply(d1) as ST;
  d0 = block(tfl.layers.concatenate({ name: 'cat0' }).apply([e0, d0]) as ST, 4, 'dec0');
  const logits = conv(classes, 'head').apply(d0) as ST;
  const output = tfl.layers.activation({ activation: 'softmax', name: 'probabilities' }).apply(logits) as ST;
  return tfl.model({ inputs: input, outputs: output, name: `unet${dims}d` });
}

test('2-D U-Net with BatchNormalization matches TF.js on two sizes; BatchNormalization folds into the convs', async (t) => {
  const model = smallUNet(2, 1, 3, 'batch');
  randomizeWeights(model, 11);
  const { maxAbsError, bytes } = await compareWithOnnx(model, [[[2, 16, 12, 1]], [[1, 20, 28, 1]]]);
  t.log(`max abs error ${maxAbsError.toExponential(2)}`);
  t.true(maxAbsError < 1e-4);
  const ops = decodeModel(bytes).graph.node.map((n) => n.op_type);
  t.is(
    ops.filter((o) => o === 'BatchNormalization').length,
    0,
    'every BatchNormalization follows a conv it can fold into',
  );
  t.is(ops.filter((o) => o === 'Conv').length, 6, 'five blocks and the head');
  t.is(ops.filter((o) => o === 'Transpose').length, 2, 'one transpose in, one out');
});

test('3-D U-Net with InstanceNormalization (custom layer) matches TF.js', async (t) => {
  const model = smallUNet(3, 2, 2, 'instance');
  randomizeWeights(model, 12);
  const { maxAbsError, bytes } = await compareWithOnnx(model, [[[1, 8, 12, 4, 2]], [[2, 4, 8, 8, 2]]]);
  t.log(`max abs error ${maxAbsError.toExponential(2)}`);
  t.true(maxAbsError < 1e-4);
  t.is(decodeModel(bytes).graph.node.filter((n) => n.op_type === 'InstanceNormalization').length, 5);
});

test('a BatchNormalization after a conv that also feeds a skip connection is not folded, and stays correct', async (t) => {
  const input = tfl.input({ shape: [null, null, 2] });
  const c = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(input) as ST;
  const bn = tfl.layers.batchNormalization().apply(c) as ST;
  const model = tfl.model({ inputs: input, outputs: tfl.layers.add().apply([c, bn]) as ST });
  randomizeWeights(model, 13);
  const { maxAbsError, bytes } = await compareWithOnnx(model, [[[2, 7, 5, 2]]]);
  t.true(maxAbsError < 1e-4, `max abs error ${maxAbsError}`);
  t.is(decodeModel(bytes).graph.node.filter((n) => n.op_type === 'BatchNormalization').length, 1);
});

test('BatchNormalization over a non-channel axis matches the closed form (TF.js itself mis-broadcasts that case)', async (t) => {
  const input = tfl.input({ shape: [3, 4, 2] });
  const bnLayer = tfl.layers.batchNormalization({ axis: 1, epsilon: 1e-3 });
  const model = tfl.model({ inputs: input, outputs: bnLayer.apply(input) as ST });
  const [gamma, beta, mean, variance] = [
    [1, 2, 3],
    [0.5, -1, 0],
    [0.1, 0.2, -0.3],
    [1, 4, 0.25],
  ];
  bnLayer.setWeights([gamma, beta, mean, variance].map((v) => tf.tensor1d(v)));
  const ort = (await import('onnxruntime-node')).default;
  const session = await ort.InferenceSession.create(convertLayersModel(model).bytes);
  const x = Float32Array.from({ length: 24 }, (_, i) => i / 10 - 1);
  const y = (await session.run({ input: new ort.Tensor('float32', x, [1, 3, 4, 2]) }))['output']!.data as Float32Array;
  let maxErr = 0;
  for (let i = 0; i < 24; i++) {
    const h = Math.floor(i / 8);
    const want = ((x[i]! - mean[h]!) / Math.sqrt(variance[h]! + 1e-3)) * gamma[h]! + beta[h]!;
    maxErr = Math.max(maxErr, Math.abs(y[i]! - want));
  }
  t.true(maxErr < 1e-5, `max abs error ${maxErr}`);
});

test('shared layers, several outputs and bilinear upsampling in one functional model', async (t) => {
  const a = tfl.input({ shape: [null, null, 2] });
  const b = tfl.input({ shape: [null, null, 2] });
  const shared = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'shared' });
  const fa = shared.apply(a) as ST;
  const fb = shared.apply(b) as ST;
  const merged = tfl.layers.multiply().apply([fa, fb]) as ST;
  const down = tfl.layers.averagePooling2d({ poolSize: 2, name: 'down' }).apply(merged) as ST;
  const upsampled = tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'up' }).apply(down) as ST;
  const head = tfl.layers
    .conv2d({ filters: 2, kernelSize: 1, activation: 'sigmoid', name: 'head' })
    .apply(upsampled) as ST;
  const model = tfl.model({ inputs: [a, b], outputs: [head, down] });
  randomizeWeights(model, 14);
  const { maxAbsError, bytes } = await compareWithOnnx(model, [
    [
      [1, 8, 6, 2],
      [1, 8, 6, 2],
    ],
    [
      [2, 10, 4, 2],
      [2, 10, 4, 2],
    ],
  ]);
  t.true(maxAbsError < 1e-4, `max abs error ${maxAbsError}`);
  const g = decodeModel(bytes).graph;
  t.deepEqual(
    g.input.map((i) => i.name),
    ['input_0', 'input_1'],
  );
  t.deepEqual(
    g.output.map((o) => o.name),
    ['output_0', 'output_1'],
  );
  t.is(g.node.filter((n) => n.op_type === 'Conv').length, 3, 'the shared conv runs once per call');
});

test('a Sequential classifier (conv, pool, flatten, dense, softmax) matches TF.js', async (t) => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [9, 7, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5, activation: 'softmax' }),
    ],
  });
  randomizeWeights(model, 15);
  const { maxAbsError } = await compareWithOnnx(model, [[[3, 9, 7, 1]]]);
  t.true(maxAbsError < 1e-4, `max abs error ${maxAbsError}`);
});

test('the exported interface: NHWC names, dtypes and dynamic dims', (t) => {
  const { io, bytes } = convertLayersModel(smallUNet(2, 1, 3, 'batch'));
  t.deepEqual(io.inputs, [{ name: 'input', dtype: 'float32', shape: ['batch', 'height', 'width', 1], layout: 'NHWC' }]);
  t.deepEqual(io.outputs, [
    { name: 'output', dtype: 'float32', shape: ['batch', 'output_height', 'output_width', 3], layout: 'NHWC' },
  ]);
  const g = decodeModel(bytes).graph;
  t.deepEqual(g.input[0]!.type.tensor_type.shape.dim, [
    { dim_param: 'batch' },
    { dim_param: 'height' },
    { dim_param: 'width' },
    { dim_value: 1 },
  ]);
  t.is(g.input[0]!.type.tensor_type.elem_type, 1, 'FLOAT');
});

const checker = onnxCheckerAvailability();
if (checker.ok) {
  test('exported models pass onnx.checker.check_model (full check) in Debian python3-onnx', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-to-onnx-checker-'));
    const unet = smallUNet(2, 1, 3, 'batch');
    const layerNorm = tfl.sequential({
      layers: [
        tfl.layers.layerNormalization({ inputShape: [null, null, 4] }),
        tfl.layers.upSampling2d({ size: [2, 2] }),
      ],
    });
    for (const [name, model, opset] of [
      ['unet', unet, 17],
      ['unet3d', smallUNet(3, 1, 2, 'instance'), 17],
      ['layernorm', layerNorm, 17],
    ] as const) {
      const path = join(dir, `${name}.onnx`);
      writeFileSync(path, convertLayersModel(model, { opset }).bytes);
      const r = runOnnxChecker(path);
      t.is(r.status, 0, `${name}: ${r.output}`);
      const info = JSON.parse(r.output) as {
        producer: string;
        ir: number;
        opset: number[];
        inputs: string[];
        outputs: string[];
        input_dims: unknown[][];
      };
      t.is(info.producer, '@rwseg/tfjs-to-onnx');
      t.deepEqual(info.opset, [17]);
      t.is(info.ir, 8);
      t.deepEqual(info.inputs, ['input']);
      t.deepEqual(info.outputs, ['output']);
      t.is(info.input_dims[0]![0], 'batch');
    }
  });
} else {
  console.warn(`tfjs-to-onnx: ONNX checker test SKIPPED: ${checker.reason}`);
  test.skip(`SKIPPED (python3-onnx absent: ${checker.reason}): exported models pass onnx.checker.check_model`, () => {});
}
