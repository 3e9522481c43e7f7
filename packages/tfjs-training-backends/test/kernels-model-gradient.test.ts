import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { relativeDifference, runOn, seededValues } from '../src/testing/compare-backends.js';

/** A two-level U-Net with every layer type rwseg's U-Nets use; weights fixed from a seeded stream. */
function tinyUnet(): tfl.LayersModel {
  const input = tfl.input({ shape: [12, 10, 2] });
  const block = (x: tfl.SymbolicTensor, filters: number) => {
    let y = tfl.layers
      .conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false })
      .apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
    return tfl.layers.leakyReLU({ alpha: 0.01 }).apply(y) as tfl.SymbolicTensor;
  };
  const skip = block(input, 4);
  const down = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(skip) as tfl.SymbolicTensor;
  const bottom = block(down, 6);
  const up = tfl.layers
    .conv2dTranspose({ filters: 4, kernelSize: 2, strides: 2, padding: 'same' })
    .apply(bottom) as tfl.SymbolicTensor;
  const merged = tfl.layers.concatenate().apply([skip, up]) as tfl.SymbolicTensor;
  const logits = tfl.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(block(merged, 4)) as tfl.SymbolicTensor;
  const model = tfl.model({
    inputs: input,
    outputs: tfl.layers.softmax({ axis: -1 }).apply(logits) as tfl.SymbolicTensor,
  });
  model.weights.forEach((w, i) => {
    const shape = w.shape as number[];
    w.write(
      tf.mul(
        tf.tensor(
          seededValues(
            shape.reduce((a, b) => a * b, 1),
            50 + i,
          ),
          shape,
        ),
        0.5,
      ),
    );
  });
  return model;
}

test.serial(
  'the gradients of a small U-Net (conv, batch norm, LeakyReLU, max-pool, transposed conv, concat, softmax) on wasm match cpu',
  async (t) => {
    const compute = () => {
      const model = tinyUnet();
      const x = tf.tensor4d(seededValues(3 * 12 * 10 * 2, 1), [3, 12, 10, 2]);
      const labels = tf.tensor3d(
        Array.from(seededValues(3 * 12 * 10, 2), (v) => Math.floor((v + 1) * 1.5)),
        [3, 12, 10],
        'int32',
      );
      const y = tf.oneHot(labels, 3);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        variables,
      );
      const out = [value, ...variables.map((v) => grads[v.name] as tf.Tensor)];
      model.dispose();
      return out;
    };
    const expected = await runOn('cpu', compute);
    const actual = await runOn('wasm', compute);
    t.is(actual.values.length, expected.values.length);
    t.true(expected.values.length > 10, 'every trainable weight has a gradient');
    expected.values.forEach((values, i) => {
      t.deepEqual(actual.shapes[i], expected.shapes[i]);
      t.true(
        values.some((v) => v !== 0),
        `gradient ${i} is not all zeros`,
      );
      const difference = relativeDifference(actual.values[i] as Float32Array, values);
      t.true(
        difference <= 1e-4,
        `output ${i} (shape ${JSON.stringify(expected.shapes[i])}): relative difference ${difference}`,
      );
    });
  },
);

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});
