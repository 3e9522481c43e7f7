// 3D training from the CLI as a user meets it: bad input (a patch off the U-Net's grid, a 3D patch on 2D images,
// --resume with a model of other dims, an image with channels the dataset does not declare) fails with one line
// naming the file, the shape and what would fit, exit 2; a gradient worker thread that dies stops the run (exit 1)
// naming the worker and the intact checkpoint, and --resume continues.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeVolume } from '@rwseg/core/io';
import { errorText, parseJson, runCli } from './helpers/cli.js';
import { makeUserProject, writePluginPackage } from './helpers/user-project.js';

const temp = () => mkdtempSync(path.join(tmpdir(), 'rwseg-3d-cli-'));
/** A tiny 3D run on synthetic volumes: 16^3 patches, a depth-2 U-Net with 4 base filters, on wasm. */
const tiny = (patch = '16,16,16') => [
  '--synthetic',
  '--set',
  'dataset.shape=[20,20,20]',
  '--set',
  'dataset.train=4',
  '--set',
  'dataset.validation=1',
  '--patch',
  patch,
  '--set',
  'model.depth=2',
  '--set',
  'model.baseFilters=4',
  '--batch-size',
  '2',
  '--iterations',
  '2',
  '--set',
  'evaluation.overlays=0',
  '--backend',
  'wasm',
];
/** `rwseg train --data DIR` with a 3D patch, one step: the run fails before or at its first batch. */
const trainOn = (data: string, out: string) => [
  'train',
  '--data',
  data,
  '--patch',
  '16,16,16',
  '--set',
  'model.depth=2',
  '--epochs',
  '1',
  '--iterations',
  '1',
  '--batch-size',
  '2',
  '--out',
  out,
  '--backend',
  'wasm',
];

test('a patch off the U-Net size grid names the pipeline file, its line, the axis and the nearest patch', async (t) => {
  const file = 'pipelines/msd-hippocampus-3d.yaml';
  const result = await runCli(['pipeline', 'run', file, '--set', 'preprocessing.patch=[40,56,36]']);
  t.is(result.code, 2);
  const text = errorText(result);
  t.regex(text, /msd-hippocampus-3d\.yaml: preprocessing\.patch: patch size 36 on axis 2 of patch \[40, 56, 36\] /);
  t.regex(text, /is not a multiple of 8 .*use 32 or 40: the nearest valid patch is \[40, 56, 40\].*\(line \d+\)/);
  const flags = await runCli(['train', ...tiny('20,16,16'), '--set', 'model.depth=4', '--out', temp()]);
  t.is(flags.code, 2);
  t.regex(errorText(flags), /rwseg train flags: preprocessing\.patch: patch size 20 on axis 0 of patch \[20, 16, 16\]/);
  t.regex(errorText(flags), /use 16 or 24: the nearest valid patch is \[24, 16, 16\]/);
});

test('a 3D patch on 2D images names the case file and both shapes; a 3D model refuses a 2D image', async (t) => {
  const dir = temp();
  const synth = await runCli(['dataset', 'synth', '--out', path.join(dir, 'flat'), '--cases', '3', '--size', '24x24']);
  t.is(synth.code, 0, errorText(synth));
  const result = await runCli(trainOn(path.join(dir, 'flat'), path.join(dir, 'run')));
  t.is(result.code, 2, errorText(result));
  t.regex(errorText(result), /case synth_\d+ \(.*flat\/imagesTr\/synth_\d+\.nii\.gz\): a 3D patch \[16, 16, 16\] /);
  t.regex(errorText(result), /cannot come from a 2D image of shape \[24, 24\]; train a 2D model on it/);

  const run3d = path.join(dir, 'vol');
  const trained = await runCli(['train', ...tiny(), '--epochs', '1', '--out', run3d, '--json']);
  t.is(trained.code, 0, errorText(trained));
  const image = path.join(dir, 'flat', 'imagesTr', 'synth_000.nii.gz');
  const labels = path.join(dir, 'p.nii.gz');
  const predict = await runCli(['predict', '--model', path.join(run3d, 'model'), '--input', image, '--out', labels]);
  t.is(predict.code, 2);
  t.regex(errorText(predict), /cannot apply a 3D model to .*synth_000\.nii\.gz \(2D, shape \[24, 24\]\)/);
});

test('--resume with a model of other dims names the checkpoint and both models, either way round', async (t) => {
  const out = temp();
  const first = await runCli(['train', ...tiny(), '--epochs', '1', '--out', out, '--json']);
  t.is(first.code, 0, errorText(first));
  // A 2D patch on the same 3D volumes is a valid run (slice-wise) but not a continuation of a 3D one.
  // Other settings are refused first; --force gets past that guard to the checkpoint, which names the dims.
  const guarded = await runCli(['train', ...tiny('16,16'), '--epochs', '2', '--out', out, '--resume']);
  t.is(guarded.code, 2);
  t.regex(errorText(guarded), /--resume: the settings differ from the run in .*config\.json: preprocessing/);
  const flat = await runCli(['train', ...tiny('16,16'), '--epochs', '2', '--out', out, '--resume', '--force']);
  t.is(flat.code, 2);
  const text = errorText(flat);
  t.regex(text, /checkpoint .*epoch-0001\.ckpt was written by a 3D model /);
  t.regex(text, /\(kernel enc0_conv1\/kernel \[3, 3, 3, 1, 4\]\) /);
  t.regex(text, /but this run builds a 2D model for patch \[16, 16\]: resume with a 3D preprocessing\.patch/);
  t.true(existsSync(path.join(out, 'checkpoints', 'epoch-0001.ckpt')), 'the checkpoint is untouched');

  const out2d = temp();
  const flatFirst = await runCli(['train', ...tiny('16,16'), '--epochs', '1', '--out', out2d, '--json']);
  t.is(flatFirst.code, 0, errorText(flatFirst));
  const deep = await runCli(['train', ...tiny(), '--epochs', '2', '--out', out2d, '--resume', '--force']);
  t.is(deep.code, 2);
  t.regex(errorText(deep), /was written by a 2D model \(kernel enc0_conv1\/kernel \[3, 3, 1, 4\]\) /);
  t.regex(errorText(deep), /but this run builds a 3D model for patch \[16, 16, 16\]/);
});

test('an MSD image with more channels than dataset.json declares is named with its shape', async (t) => {
  const dir = temp();
  const msd = path.join(dir, 'msd');
  const synth = await runCli(['dataset', 'synth', '--out', msd, '--cases', '3', '--size', '16x16x16']);
  t.is(synth.code, 0, errorText(synth));
  // Every case: whichever lands in the validation split or the first batch fails the run before a step.
  for (const id of ['synth_000', 'synth_001', 'synth_002']) {
    const data = Float32Array.from({ length: 16 ** 3 * 2 }, (_, i) => i % 7);
    const volume = { data, shape: [16, 16, 16, 2], spacing: [1, 1, 1], channels: 2 };
    await writeVolume(path.join(dir, 'msd', 'imagesTr', `${id}.nii.gz`), volume);
  }
  const result = await runCli(trainOn(path.join(dir, 'msd'), path.join(dir, 'run')));
  t.is(result.code, 2);
  t.regex(errorText(result), /case synth_00\d: image .*synth_00\d\.nii\.gz has 2 channel\(s\) /);
  t.regex(errorText(result), /\(shape \[16, 16, 16, 2\], channels last\) but .*\/dataset\.json lists 1 \(synthetic\)/);
});

// A plugin whose loss ends the worker thread it runs in, once (process.exit in a worker ends only that thread).
const EXITING_PLUGIN = `
import { existsSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { definePlugin, defineLoss, PLUGIN_API_VERSION, tf, z } from '@rwseg/core/plugin';

const loss = defineLoss({
  name: 'dies-in-worker',
  description: 'soft Dice; ends its worker thread once at epoch 1',
  options: z.object({ marker: z.string() }),
  create: ({ marker }) => ({
    name: 'dies-in-worker',
    requiredMaps: [],
    compute: ({ probs, target, context }) => {
      if (!isMainThread && context.epoch >= 1 && !existsSync(marker)) {
        writeFileSync(marker, 'ended');
        process.exit(9);
      }
      return tf.sub(1, tf.div(tf.mul(tf.sum(tf.mul(probs, target)), 2), tf.add(tf.sum(probs), tf.sum(target))));
    },
  }),
});

export default definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'rwseg-plugin-dies', losses: [loss] });
`;

test.serial('a gradient worker dying in a 3D step stops the run, exit 1, naming it; resume continues', async (t) => {
  const project = makeUserProject();
  const plugin = path.join(project, 'plugins', 'dies');
  writePluginPackage(plugin, 'rwseg-plugin-dies', EXITING_PLUGIN);
  const out = temp();
  const marker = path.join(out, 'worker-ended');
  const loss = JSON.stringify({ loss: 'dies-in-worker', options: { marker } });
  const args = ['train', ...tiny(), '--epochs', '3', '--threads', '2', '--plugin', plugin, '--loss-config', loss];
  args.push('--out', out);
  const failed = await runCli(args);
  t.is(failed.code, 1, errorText(failed));
  const text = errorText(failed);
  t.regex(text, /data-parallel gradient worker 1 \(training\.threads 2\) exited unexpectedly \(code 9\); /);
  t.regex(text, /training stopped; the last checkpoint .*epoch-0001\.ckpt is intact and --resume continues from it/);
  t.true(existsSync(marker));
  const history = () => {
    const lines = readFileSync(path.join(out, 'history.jsonl'), 'utf8').trim().split('\n');
    return lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch);
  };
  t.deepEqual(history(), [1]);

  const resumed = await runCli([...args, '--resume', '--json']);
  t.is(resumed.code, 0, errorText(resumed));
  t.is(parseJson(resumed).epochsRun, 2);
  t.regex(resumed.stderr, /resuming at epoch 2 from .*epoch-0001\.ckpt/);
  t.deepEqual(history(), [1, 2, 3]);
});
