/** The documented errors: unsupported layers, bad options, parity failures; and the custom-layer hook. */
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  checkParity,
  convertLayersModel,
  registerLayerConverter,
  TfjsToOnnxError,
  type LayerConversionContext,
} from '../src/index.js';
import { compareWithOnnx, randomizeWeights, tf, useCpuBackend } from './helpers.js';

test.before(async () => {
  await useCpuBackend();
});

type ST = tfl.SymbolicTensor;

test('an unsupported layer fails naming the layer, its class and its index', (t) => {
  const input = tfl.input({ shape: [8, 8, 2] });
  let x = tfl.layers.conv2d({ filters: 2, kernelSize: 3, name: 'first' }).apply(input) as ST;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw' }).apply(x) as ST;
  const model = tfl.model({ inputs: input, outputs: x });
  const err = t.throws(() => convertLayersModel(model), { instanceOf: TfjsToOnnxError });
  t.is(err?.code, 'UNSUPPORTED_LAYER');
  t.regex(err!.message, /layer 'dw' \(class DepthwiseConv2D, index 2\)/);
  t.regex(err!.message, /registerLayerConverter\('DepthwiseConv2D'/);
  t.deepEqual(err!.details, { layer: 'dw', className: 'DepthwiseConv2D', index: 2 });
});

test('an unsupported option of a supported layer names the layer and the option', (t) => {
  const input = tfl.input({ shape: [8, 8, 2] });
  const x = tfl.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'gelu', name: 'c' }).apply(input) as ST;
  const err = t.throws(() => convertLayersModel(tfl.model({ inputs: input, outputs: x })), {
    instanceOf: TfjsToOnnxError,
  });
  t.regex(err!.message, /layer 'c' \(class Conv2D, index 1\).*activation 'gelu' is not supported/);
});

test('an opset outside 17-21 is refused', (t) => {
  const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 1 })] });
  const err = t.throws(() => convertLayersModel(model, { opset: 13 }), { instanceOf: TfjsToOnnxError });
  t.is(err?.code, 'INVALID_OPTION');
  t.regex(err!.message, /opset 13 .* 17 to 21/);
});

test('opset 18 and 21 exports run in onnxruntime (ReduceMean takes axes as an input there)', async (t) => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.layerNormalization({ inputShape: [null, null, 3] }),
      tfl.layers.conv2d({ filters: 2, kernelSize: 1 }),
    ],
  });
  randomizeWeights(model, 3);
  for (const opset of [18, 21]) {
    const { maxAbsError } = await compareWithOnnx(model, [[[1, 5, 6, 3]]], { opset });
    t.true(maxAbsError < 1e-4, `opset ${opset}: max abs error ${maxAbsError}`);
  }
});

/** A custom layer: y = x * factor, with `factor` in its config. */
class Scale extends tfl.layers.Layer {
  static readonly className = 'ScaleByFactor';
  constructor(readonly args: { factor: number; name?: string }) {
    super(args);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, this.args.factor);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.args.factor };
  }
}
tf.serialization.registerClass(Scale);

test('registerLayerConverter makes a custom layer class convertible', async (t) => {
  const input = tfl.input({ shape: [null, null, 2] });
  const model = tfl.model({ inputs: input, outputs: new Scale({ factor: 2.5, name: 'scale' }).apply(input) as ST });
  t.throws(() => convertLayersModel(model), { message: /layer 'scale' \(class ScaleByFactor, index 1\)/ });
  registerLayerConverter('ScaleByFactor', (ctx: LayerConversionContext) => {
    const x = ctx.inputs[0]!;
    const factor = ctx.builder.addFloat(`${ctx.baseName}_factor`, [Number(ctx.config['factor'])], []);
    return { ...x, name: ctx.builder.op('Mul', [x.name, factor], ctx.baseName) };
  });
  const { maxAbsError } = await compareWithOnnx(model, [[[1, 3, 5, 2]]]);
  t.true(maxAbsError < 1e-6);
});

test('checkParity reports both errors and fails above the tolerance with both numbers in the message', async (t) => {
  const model = tfl.sequential({
    layers: [tfl.layers.conv2d({ inputShape: [null, null, 1], filters: 2, kernelSize: 3, padding: 'same' })],
  });
  randomizeWeights(model, 5);
  const { bytes } = convertLayersModel(model);
  const ok = await checkParity(model, bytes, { randomShapes: [[1, 9, 11, 1]], inputs: [[tf.ones([1, 4, 4, 1])]] });
  t.true(ok.maxAbsError < 1e-5);
  t.deepEqual(
    ok.cases.map((c) => c.label),
    ['input 0', 'random 0', 'random 1'],
  );
  t.deepEqual(ok.cases[0]!.inputShapes, [[1, 4, 4, 1]]);
  // Change the TF.js model after export: the ONNX file no longer matches it.
  const [kernel, bias] = model.getWeights();
  model.setWeights([kernel!, tf.add(bias!, 0.01)]);
  const err = await t.throwsAsync(checkParity(model, bytes, { tolerance: 1e-3 }), { instanceOf: TfjsToOnnxError });
  t.is(err?.code, 'PARITY_FAILED');
  t.regex(err!.message, /max abs error 0\.0(099|100)\d* \(tolerance 0\.001\), max relative error \d/);
  const report = (err!.details as { report: { maxAbsError: number } }).report;
  t.true(Math.abs(report.maxAbsError - 0.01) < 1e-5, 'the bias shift shows as the error');
  const relErr = await t.throwsAsync(checkParity(model, bytes, { tolerance: { abs: 1, rel: 1e-6 } }));
  t.regex(
    relErr!.message,
    /max abs error [\d.e-]+ \(tolerance 1\), max relative error [\d.e-]+ \(tolerance 0\.000001\)/,
  );
});

test('checkParity on shapes the network cannot take says so and names the shapes', async (t) => {
  const input = tfl.input({ shape: [null, null, 1] });
  const down = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(input) as ST;
  const up = tfl.layers.upSampling2d({ size: [2, 2] }).apply(down) as ST;
  const model = tfl.model({ inputs: input, outputs: tfl.layers.concatenate().apply([input, up]) as ST });
  const { bytes } = convertLayersModel(model);
  const err = await t.throwsAsync(checkParity(model, bytes, { randomShapes: [[1, 9, 8, 1]], randomCases: 1 }), {
    instanceOf: TfjsToOnnxError,
  });
  t.is(err?.code, 'INVALID_OPTION');
  t.regex(err!.message, /parity case 'random 0': TF\.js cannot run the model on input shapes \[1,9,8,1\]/);
});
