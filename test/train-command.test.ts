import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_BIN, errorText, parseJson, REPO_ROOT, runCli } from '@rwseg/test-helpers/cli';
import { SHARED_DATA, sharedTest } from '@rwseg/test-helpers/shared-data';

const tiny = [
  '--set',
  'dataset.shape=[32,32]',
  '--set',
  'dataset.train=8',
  '--set',
  'dataset.validation=2',
  '--set',
  'preprocessing.patch=[32,32]',
  '--set',
  'model.depth=3',
  '--set',
  'model.baseFilters=4',
  '--set',
  'training.batchSize=2',
  '--backend',
  'wasm',
];
const temp = () => mkdtempSync(path.join(tmpdir(), 'rwseg-cli-'));

test.serial('rwseg train killed with -9 resumes with --resume from its last checkpoint', async (t) => {
  const out = temp();
  const args = ['train', '--config', 'pipelines/quickstart.yaml', '--epochs', '5', '--iterations', '3', ...tiny];
  // RWSEG_TEST_PAUSE_AFTER_EPOCH (test-only) makes the run stop and wait once epoch 2's checkpoint is on disk;
  // the CLI numbers epochs from 1, so it resumes at "epoch 3".
  const child = spawn(process.execPath, [CLI_BIN, ...args, '--out', out], {
    cwd: REPO_ROOT,
    stdio: 'ignore',
    env: { ...process.env, RWSEG_TEST_PAUSE_AFTER_EPOCH: '2' },
  });
  const exited = new Promise((r) => child.on('exit', r));
  const marker = path.join(out, 'test-paused-after-epoch-2');
  const deadline = Date.now() + 120_000;
  while (!existsSync(marker) && child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  t.is(child.exitCode, null, 'the run was still alive at the pause');
  child.kill('SIGKILL');
  await exited;
  t.true(existsSync(marker), 'the run reached the end of epoch 2');
  t.deepEqual(
    readdirSync(path.join(out, 'checkpoints'))
      .filter((f) => f.startsWith('epoch-'))
      .sort(),
    ['epoch-0001.ckpt', 'epoch-0002.ckpt'],
  );

  const resumed = await runCli([...args, '--out', out, '--resume', '--json']);
  t.is(resumed.code, 0, errorText(resumed));
  t.is(parseJson(resumed).epochsRun, 3);
  t.regex(resumed.stderr, /resuming at epoch 3 from .*epoch-0002\.ckpt/);
  const history = (dir: string) =>
    readFileSync(path.join(dir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { epoch: number; loss: number });
  t.deepEqual(
    history(out).map((e) => e.epoch),
    [1, 2, 3, 4, 5],
  );

  // Same seed, same batches per epoch, optimizer state restored: the losses match a run never interrupted.
  const straightOut = temp();
  const straight = await runCli([...args, '--out', straightOut, '--json']);
  t.is(straight.code, 0, errorText(straight));
  history(straightOut).forEach((e, i) =>
    t.true(Math.abs(e.loss - history(out)[i]!.loss) < 1e-4, `epoch ${i}: ${e.loss} vs ${history(out)[i]!.loss}`),
  );
});

test('a bad pipeline value is reported with its YAML path and line, exit code 2', async (t) => {
  const dir = temp();
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(
    file,
    readFileSync(path.join(REPO_ROOT, 'pipelines/quickstart.yaml'), 'utf8').replace('batchSize: 4', 'batchSize: -4'),
  );
  const result = await runCli(['pipeline', 'run', file]);
  t.is(result.code, 2);
  t.regex(errorText(result), /bad\.yaml: training\.batchSize \(line \d+\): Too small/i);

  const unknownLoss = await runCli([
    'train',
    '--config',
    'pipelines/quickstart.yaml',
    '--loss',
    'no-such-loss',
    '--out',
    dir,
    ...tiny,
  ]);
  t.is(unknownLoss.code, 2);
  t.regex(errorText(unknownLoss), /unknown loss 'no-such-loss'/);
});

test('a sweep over losses and seeds writes markdown and CSV comparison tables', async (t) => {
  const dir = temp();
  const file = path.join(dir, 'sweep.yaml');
  writeFileSync(
    file,
    readFileSync(path.join(REPO_ROOT, 'pipelines/quickstart.yaml'), 'utf8') +
      '\nsweep:\n  losses:\n    - { name: dice, loss: dice }\n    - { name: cross-entropy, loss: cross-entropy }\n  seeds: [1, 2]\n',
  );
  const result = await runCli([
    'pipeline',
    'run',
    file,
    '--out',
    path.join(dir, 'out'),
    '--json',
    '--set',
    'training.epochs=1',
    '--set',
    'training.iterationsPerEpoch=2',
    ...tiny,
  ]);
  t.is(result.code, 0, errorText(result));
  const json = parseJson(result);
  t.deepEqual(
    json.runs.map((r: { name: string }) => r.name),
    ['dice/seed-1', 'dice/seed-2', 'cross-entropy/seed-1', 'cross-entropy/seed-2'],
  );
  // Two seeds per loss: the spread is over the per-seed means. One row per loss and foreground class.
  const csv = readFileSync(path.join(dir, 'out', 'comparison.csv'), 'utf8')
    .trim()
    .split('\n');
  t.is(csv[0], 'loss,class,seeds,spread,dice_mean,dice_sd,hd95_mean,hd95_sd,hd_mean,hd_sd,hd_max,n');
  t.is(csv.length, 1 + 2 * 2);
  t.regex(csv[1]!, /^dice,1,2,seeds,[\d.]+,[\d.]+,/);
  const md = readFileSync(path.join(dir, 'out', 'comparison.md'), 'utf8');
  t.regex(md, /\| loss \| class \| seeds \| spread \| Dice \| HD95 \(mm\) \| HD \(mm\) \| HD max \(mm\) \|/);
  t.regex(md, /\| cross-entropy \| 2 \| 2 \| sd over seeds \| \d\.\d{3} ± \d\.\d{3} \|/);
  t.true(existsSync(path.join(dir, 'out', 'dice', 'seed-2', 'model', 'model.json')));
});

// The one real-data check: a few MSD hippocampus volumes through the 3D path (reader, split, 3D U-Net with
// transposed convolutions, sliding-window validation, Dice and HD95 in mm).
sharedTest('a 3D MSD pipeline trains and validates on real hippocampus volumes', async (t) => {
  const data = SHARED_DATA;
  const out = temp();
  const result = await runCli([
    'pipeline',
    'run',
    'pipelines/msd-hippocampus.yaml',
    '--json',
    '--out',
    out,
    '--backend',
    'wasm',
    '--set',
    `dataset.root=${path.join(data, 'msd-task04-hippocampus')}`,
    '--set',
    'dataset.limit=6',
    '--set',
    'training.epochs=1',
    '--set',
    'training.iterationsPerEpoch=1',
    '--set',
    'preprocessing.patch=[16,16,16]',
    '--set',
    'model.depth=2',
    '--set',
    'model.baseFilters=2',
    '--set',
    'model.deepSupervision=1',
  ]);
  t.is(result.code, 0, errorText(result));
  const run = parseJson(result).runs[0];
  t.deepEqual(
    run.validation.classes.map((c: { classIndex: number }) => c.classIndex),
    [1, 2],
  );
  for (const c of run.validation.classes)
    t.true(Number.isFinite(c.hd95.mean) && c.hd95.mean > 0, `HD95 of class ${c.classIndex}`);
  // The run's loss (with its RW maps) on the validation volumes' 3D windows.
  t.true(Number.isFinite(run.validation.loss), `validation loss ${run.validation.loss}`);
  t.true(existsSync(path.join(out, 'plots', 'overlays')));
});

test('rwseg train --data builds the pipeline a YAML file would; rwseg evaluate reads the dataset folder as well as the YAML', async (t) => {
  const dir = temp();
  const synth = await runCli([
    'dataset',
    'synth',
    '--out',
    path.join(dir, 'msd'),
    '--cases',
    '5',
    '--size',
    '32x32',
    '--seed',
    '5',
    '--json',
  ]);
  t.is(synth.code, 0, errorText(synth));
  const model = ['--set', 'model.depth=3', '--set', 'model.baseFilters=4', '--backend', 'wasm'];
  const trained = await runCli([
    'train',
    '--data',
    path.join(dir, 'msd'),
    '--loss-config',
    '{"combine": ["rrw", "dice"], "weights": "equal"}',
    '--epochs',
    '2',
    '--iterations',
    '2',
    '--batch-size',
    '2',
    '--patch',
    '32,32',
    '--lr',
    '0.005',
    '--seed',
    '7',
    '--out',
    path.join(dir, 'flags'),
    '--json',
    ...model,
  ]);
  t.is(trained.code, 0, errorText(trained));
  const config = JSON.parse(readFileSync(path.join(dir, 'flags', 'config.json'), 'utf8'));
  t.like(config, {
    seed: 7,
    dataset: { kind: 'msd', root: path.join(dir, 'msd') },
    preprocessing: { patch: [32, 32] },
    training: { epochs: 2, iterationsPerEpoch: 2, batchSize: 2, learningRate: 0.005 },
  });
  t.deepEqual(config.loss, { combine: ['rrw', 'dice'], weights: 'equal' });

  // The run's own config.json, run with `pipeline run`, trains the same run: identical history.
  const yaml = path.join(dir, 'same.yaml');
  writeFileSync(yaml, JSON.stringify(config));
  const piped = await runCli(['pipeline', 'run', yaml, '--out', path.join(dir, 'yaml'), '--json', '--backend', 'wasm']);
  t.is(piped.code, 0, errorText(piped));
  const history = (run: string) =>
    readFileSync(path.join(dir, run, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).loss as number);
  t.deepEqual(history('flags'), history('yaml'));

  // The dataset folder: every labeled case; the YAML: its validation split. Shared cases score the same.
  const byFolder = await runCli([
    'evaluate',
    '--model',
    path.join(dir, 'flags', 'model'),
    '--data',
    path.join(dir, 'msd'),
    '--json',
    '--backend',
    'wasm',
  ]);
  t.is(byFolder.code, 0, errorText(byFolder));
  const folderCases = parseJson(byFolder).cases as { id: string; metrics: { dice: number }[] }[];
  t.is(folderCases.length, 5);
  // Progress on stderr (not a TTY here): the announcement and the last case with its ETA; stdout stays JSON.
  t.regex(byFolder.stderr, /^evaluate 5 case\(s\), progress every 10s$/m);
  t.regex(byFolder.stderr, /^evaluate case 5\/5 \(\S+\) [\d.]+ cases\/s ETA 0s$/m);
  const byYaml = await runCli([
    'evaluate',
    '--model',
    path.join(dir, 'flags', 'model'),
    '--data',
    yaml,
    '--json',
    '--backend',
    'wasm',
  ]);
  t.is(byYaml.code, 0, errorText(byYaml));
  const yamlCases = parseJson(byYaml).cases as { id: string; metrics: { dice: number }[] }[];
  t.true(yamlCases.length >= 1);
  for (const c of yamlCases)
    t.deepEqual(
      folderCases.find((f) => f.id === c.id)?.metrics.map((m) => m.dice),
      c.metrics.map((m) => m.dice),
      c.id,
    );

  const none = await runCli(['train', '--epochs', '1', '--out', dir]);
  t.is(none.code, 2);
  t.regex(errorText(none), /needs --data PATH .*--synthetic, or --config FILE/);
  const badPatch = await runCli(['train', '--synthetic', '--patch', '64', '--out', dir]);
  t.regex(errorText(badPatch), /--patch: expected 2 or 3 positive integers like 64,64, got '64'/);
  const badJson = await runCli(['train', '--synthetic', '--loss-config', '{rrw', '--out', dir]);
  t.regex(errorText(badJson), /--loss-config: not valid JSON/);
  // A 2D model applies to 3D cases slice by slice (slice-wise-2d-on-3d.test.ts); a pipeline with another patch does not.
  const wrongRank = await runCli([
    'evaluate',
    '--model',
    path.join(dir, 'flags', 'model'),
    '--data',
    yaml,
    '--set',
    'preprocessing.patch=[8,32,32]',
    '--backend',
    'wasm',
  ]);
  t.is(wrongRank.code, 2);
  t.regex(
    errorText(wrongRank),
    /preprocessing\.patch \[8, 32, 32\] is not the input patch \[32, 32\] of the model in /,
  );
  const wrongClasses = await runCli([
    'dataset',
    'synth',
    '--out',
    path.join(dir, 'two'),
    '--cases',
    '2',
    '--size',
    '32x32',
    '--classes',
    '2',
    '--json',
  ]);
  t.is(wrongClasses.code, 0, errorText(wrongClasses));
  const mismatch = await runCli([
    'evaluate',
    '--model',
    path.join(dir, 'flags', 'model'),
    '--data',
    path.join(dir, 'two'),
    '--backend',
    'wasm',
  ]);
  t.is(mismatch.code, 2);
  t.regex(errorText(mismatch), /two has 2 classes but the model in .* predicts 3/);
});

test('rwseg train --threads 2 trains data-parallel on wasm and exits; a thread count above the batch size is refused', async (t) => {
  const out = temp();
  const result = await runCli([
    'train',
    '--config',
    'pipelines/quickstart.yaml',
    '--epochs',
    '1',
    '--iterations',
    '2',
    '--threads',
    '2',
    ...tiny,
    '--out',
    out,
    '--json',
  ]);
  t.is(result.code, 0, errorText(result));
  t.is(parseJson(result).epochsRun, 1);
  t.is(
    (JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as { training: { threads: number } }).training
      .threads,
    2,
  );
  t.regex(result.stderr, /2 compute threads/);

  const tooMany = await runCli([
    'train',
    '--config',
    'pipelines/quickstart.yaml',
    '--epochs',
    '1',
    '--threads',
    '3',
    ...tiny,
    '--out',
    temp(),
  ]);
  t.is(tooMany.code, 2);
  t.regex(errorText(tooMany), /training\.threads 3 exceeds training\.batchSize 2/);
});
