import test from 'ava';
import {
  buildUNet,
  checkCheckpointFitsModel,
  isRwsegError,
  useBackend,
  type UNetConfigInput,
} from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const base: UNetConfigInput = { dims: 2, depth: 2, baseFilters: 4, numClasses: 3, inputChannels: 1, seed: 1 };
/** The (name, shape) list a checkpoint of this model holds, in model.weights order as the trainer writes it. */
const savedBy = (config: UNetConfigInput, patch: number[]) =>
  buildUNet(config, patch).weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] }));
const fit = (config: UNetConfigInput, patch: number[], file: string, model: ReturnType<typeof buildUNet>) =>
  checkCheckpointFitsModel(savedBy(config, patch), file, model);

test('a checkpoint of the same model fits; of another dimensionality, channel or class count it is named', (t) => {
  const model = buildUNet({ ...base, dims: 3 }, [8, 8, 8]);
  t.notThrows(() => fit({ ...base, dims: 3 }, [16, 16, 16], 'same.ckpt', model));
  const dims = t.throws(() => fit(base, [16, 16], 'flat.ckpt', model));
  t.true(isRwsegError(dims, 'INVALID_CONFIG'));
  t.is(
    dims!.message,
    'checkpoint flat.ckpt was written by a 2D model (kernel enc0_conv1/kernel [3, 3, 1, 4]) but this run builds a 3D ' +
      'model for patch [8, 8, 8]: resume with a 2D preprocessing.patch, as that run had, or train into another output folder',
  );
  const channels = t.throws(() => fit({ ...base, dims: 3, inputChannels: 2 }, [8, 8, 8], 'two.ckpt', model));
  t.regex(channels!.message, /two\.ckpt was written for images with 2 channel\(s\) /);
  t.regex(channels!.message, /\(kernel enc0_conv1\/kernel \[3, 3, 3, 2, 4\]\) but this run's images have 1/);
  const classes = t.throws(() => fit({ ...base, dims: 3, numClasses: 2 }, [8, 8, 8], 'binary.ckpt', model));
  t.regex(classes!.message, /binary\.ckpt predicts 2 classes \(kernel output_logits\/kernel \[1, 1, 1, 4, 2\]\) /);
  t.regex(classes!.message, /but this run's dataset has 3/);
});
