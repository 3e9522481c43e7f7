/**
 * One short real-data check: a nucleus image from the DSB 2018 set (CC0, ../shared/data beside the checkout)
 * goes through checkParity as the caller-supplied real input of a U-Net-like model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import pngjs from 'pngjs';
import { checkParity, convertLayersModel } from '../src/index.js';
import { randomizeWeights, tf, useCpuBackend } from './helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const candidates = [
  process.env['RWSEG_SHARED_DIR'] && join(process.env['RWSEG_SHARED_DIR'], 'data'),
  join(repoRoot, '../shared/data'),
  join(repoRoot, '../../shared/data'),
].filter((p): p is string => !!p);
const dataDir = candidates.find((p) => existsSync(join(p, 'dsb2018-nuclei-fluo256/images/0000.png')));

test.before(async () => {
  await useCpuBackend();
});

type ST = tfl.SymbolicTensor;

/** The image's central 96x96 crop, z-score normalized, as [1, 96, 96, 1]. */
function loadCrop(path: string): tf.Tensor {
  const png = pngjs.PNG.sync.read(readFileSync(path));
  const size = 96;
  const [y0, x0] = [(png.height - size) >> 1, (png.width - size) >> 1];
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) data[y * size + x] = png.data[((y0 + y) * png.width + x0 + x) * 4]!;
  return tf.tidy(() => {
    const t = tf.tensor4d(data, [1, size, size, 1]);
    const { mean, variance } = tf.moments(t);
    return tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-6)));
  });
}

if (dataDir) {
  test('checkParity on a real DSB 2018 nucleus image through a U-Net-like model', async (t) => {
    const image = loadCrop(join(dataDir, 'dsb2018-nuclei-fluo256/images/0000.png'));
    const input = tfl.input({ shape: [null, null, 1] });
    const e = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as ST;
    let x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(e) as ST;
    x = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }).apply(x) as ST;
    x = tfl.layers.batchNormalization().apply(x) as ST;
    x = tfl.layers.reLU().apply(x) as ST;
    x = tfl.layers.conv2dTranspose({ filters: 8, kernelSize: 2, strides: 2 }).apply(x) as ST;
    x = tfl.layers.concatenate().apply([e, x]) as ST;
    x = tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'softmax' }).apply(x) as ST;
    const model = tfl.model({ inputs: input, outputs: x });
    randomizeWeights(model, 31);
    const report = await checkParity(model, convertLayersModel(model).bytes, {
      inputs: [[image]],
      randomCases: 0,
      tolerance: 1e-4,
    });
    t.log(
      `real image: max abs error ${report.maxAbsError.toExponential(2)}, max relative error ${report.maxRelError.toExponential(2)}`,
    );
    t.deepEqual(report.cases[0]!.inputShapes, [[1, 96, 96, 1]]);
    t.true(report.maxAbsError < 1e-4);
  });
} else if (['', 'false', '0'].includes((process.env['CI'] ?? '').trim().toLowerCase())) {
  console.warn(
    `tfjs-to-onnx: real-image parity test SKIPPED: no dsb2018-nuclei-fluo256 under ${candidates.join(', ')}`,
  );
  test.skip('SKIPPED (shared data absent): checkParity on a real DSB 2018 nucleus image', () => {});
} else {
  // CI always has shared/ beside the clone: its absence there is a failure, not a skip.
  test('checkParity on a real DSB 2018 nucleus image', (t) => {
    t.fail(`no dsb2018-nuclei-fluo256 under ${candidates.join(', ')}`);
  });
}
