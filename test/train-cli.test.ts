import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_BIN, errorText, parseJson, REPO_ROOT, runCli } from './helpers/cli.js';

const tiny = ['--set', 'dataset.shape=[32,32]', '--set', 'dataset.train=8', '--set', 'dataset.validation=2', '--set', 'preprocessing.patch=[32,32]', '--set', 'model.depth=3', '--set', 'model.baseFilters=4', '--set', 'training.batchSize=2', '--backend', 'wasm'];
const temp = () => mkdtempSync(path.join(tmpdir(), 'rwseg-cli-'));

test.serial('rwseg train killed with -9 resumes with --resume from its last checkpoint', async (t) => {
  const out = temp();
  const args = ['train', '--config', 'pipelines/quickstart.yaml', '--epochs', '5', '--iterations', '3', ...tiny];
  // RWSEG_TEST_PAUSE_AFTER_EPOCH (test-only) makes the run stop and wait once epoch 2's checkpoint is on disk;
  // the CLI numbers epochs from 1, so it resumes at "epoch 3".
  const child = spawn(process.execPath, [CLI_BIN, ...args, '--out', out], { cwd: REPO_ROOT, stdio: 'ignore', env: { ...process.env, RWSEG_TEST_PAUSE_AFTER_EPOCH: '2' } });
  const exited = new Promise((r) => child.on('exit', r));
  const marker = path.join(out, 'test-paused-after-epoch-2');
  const deadline = Date.now() + 120_000;
  while (!existsSync(marker) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.is(child.exitCode, null, 'the run was still alive at the pause');
  child.kill('SIGKILL');
  await exited;
  t.true(existsSync(marker), 'the run reached the end of epoch 2');
  t.deepEqual(readdirSync(path.join(out, 'checkpoints')).filter((f) => f.startsWith('epoch-')).sort(), ['epoch-0001.ckpt', 'epoch-0002.ckpt']);

  const resumed = await runCli([...args, '--out', out, '--resume', '--json']);
  t.is(resumed.code, 0, errorText(resumed));
  t.is(parseJson(resumed).epochsRun, 3);
  t.regex(resumed.stderr, /resuming at epoch 3 from .*epoch-0002\.ckpt/);
  const history = (dir: string) => readFileSync(path.join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; loss: number });
  t.deepEqual(history(out).map((e) => e.epoch), [0, 1, 2, 3, 4]);

  // Same seed, same batches per epoch, optimizer state restored: the losses match a run never interrupted.
  const straightOut = temp();
  const straight = await runCli([...args, '--out', straightOut, '--json']);
  t.is(straight.code, 0, errorText(straight));
  history(straightOut).forEach((e, i) => t.true(Math.abs(e.loss - history(out)[i]!.loss) < 1e-4, `epoch ${i}: ${e.loss} vs ${history(out)[i]!.loss}`));
});

test('a bad pipeline value is reported with its YAML path and line, exit code 2', async (t) => {
  const dir = temp();
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, readFileSync(path.join(REPO_ROOT, 'pipelines/quickstart.yaml'), 'utf8').replace('batchSize: 4', 'batchSize: -4'));
  const result = await runCli(['pipeline', 'run', file]);
  t.is(result.code, 2);
  t.regex(errorText(result), /bad\.yaml: training\.batchSize \(line \d+\): Too small/i);

  const unknownLoss = await runCli(['train', '--config', 'pipelines/quickstart.yaml', '--loss', 'no-such-loss', '--out', dir, ...tiny]);
  t.is(unknownLoss.code, 2);
  t.regex(errorText(unknownLoss), /unknown loss 'no-such-loss'/);
});

test('a sweep over losses and seeds writes markdown and CSV comparison tables', async (t) => {
  const dir = temp();
  const file = path.join(dir, 'sweep.yaml');
  writeFileSync(
    file,
    readFileSync(path.join(REPO_ROOT, 'pipelines/quickstart.yaml'), 'utf8') + '\nsweep:\n  losses:\n    - { name: dice, loss: dice }\n    - { name: cross-entropy, loss: cross-entropy }\n  seeds: [1, 2]\n',
  );
  const result = await runCli(['pipeline', 'run', file, '--out', path.join(dir, 'out'), '--json', '--set', 'training.epochs=1', '--set', 'training.iterationsPerEpoch=2', ...tiny]);
  t.is(result.code, 0, errorText(result));
  const json = parseJson(result);
  t.deepEqual(
    json.runs.map((r: { name: string }) => r.name),
    ['dice/seed-1', 'dice/seed-2', 'cross-entropy/seed-1', 'cross-entropy/seed-2'],
  );
  const csv = readFileSync(path.join(dir, 'out', 'comparison.csv'), 'utf8').trim().split('\n');
  t.is(csv[0], 'loss,class,dice_mean,dice_sd,hd95_mean,hd95_sd,n');
  t.is(csv.length, 1 + 2 * 2);
  t.regex(csv[1]!, /^dice,1,[\d.]+,[\d.]+,/);
  const md = readFileSync(path.join(dir, 'out', 'comparison.md'), 'utf8');
  t.regex(md, /\| loss \| Dice class 1 \| HD95 class 1 \(mm\) \| Dice class 2 \|/);
  t.regex(md, /\| cross-entropy \| \d\.\d{3} ± \d\.\d{3} \|/);
  t.true(existsSync(path.join(dir, 'out', 'dice', 'seed-2', 'model', 'model.json')));
});

// The one real-data check: a few MSD hippocampus volumes through the 3D path (reader, split, 3D U-Net with
// transposed convolutions, sliding-window validation, Dice and HD95 in mm).
test('a 3D MSD pipeline trains and validates on real hippocampus volumes', async (t) => {
  const data = [path.join(REPO_ROOT, '../shared/data'), path.join(REPO_ROOT, '../../shared/data')].find((d) => existsSync(path.join(d, 'msd-task04-hippocampus')));
  t.truthy(data, 'the shared datasets are beside the checkout (../shared/data)');
  const out = temp();
  const result = await runCli([
    'pipeline', 'run', 'pipelines/msd-hippocampus.yaml', '--json', '--out', out, '--backend', 'wasm',
    '--set', `dataset.root=${path.join(data!, 'msd-task04-hippocampus')}`, '--set', 'dataset.limit=6',
    '--set', 'training.epochs=1', '--set', 'training.iterationsPerEpoch=1', '--set', 'preprocessing.patch=[16,16,16]',
    '--set', 'model.depth=2', '--set', 'model.baseFilters=2', '--set', 'model.deepSupervision=1',
  ]);
  t.is(result.code, 0, errorText(result));
  const run = parseJson(result).runs[0];
  t.deepEqual(run.validation.classes.map((c: { classIndex: number }) => c.classIndex), [1, 2]);
  for (const c of run.validation.classes) t.true(Number.isFinite(c.hd95.mean) && c.hd95.mean > 0, `HD95 of class ${c.classIndex}`);
  t.true(existsSync(path.join(out, 'plots', 'overlays')));
});
