/**
 * `rwseg train` and its run folder: --resume with nothing to resume or with other settings stops (exit 2) unless
 * --force, a folder that holds a run needs --resume or --force, the corrupt-checkpoint error names a flag that
 * exists (--resume-from) and that flag resumes, the console reports the model model/ holds, --help the preset.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errorText, parseJson, runCli } from '@rwseg/test-helpers/cli';

const tiny = [
  '--config',
  'pipelines/quickstart.yaml',
  '--iterations',
  '1',
  '--set',
  'dataset.shape=[32,32]',
  '--set',
  'dataset.train=4',
  '--set',
  'dataset.validation=1',
  '--set',
  'preprocessing.patch=[32,32]',
  '--set',
  'model.depth=2',
  '--set',
  'model.baseFilters=2',
  '--set',
  'training.batchSize=2',
  '--set',
  'export.onnx=false',
  '--set',
  'evaluation.overlays=0',
  '--backend',
  'wasm',
];
const temp = () => mkdtempSync(path.join(tmpdir(), 'rwseg-runfolder-'));

test('--help shows the training preset from core', async (t) => {
  const help = await runCli(['train', '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout.replace(/\s+/g, ' '), /50 epochs x 50 iterations, batch 4, loss rrw \+ dice/);
  t.regex(help.stdout, /--resume-from/);
  t.regex(help.stdout, /--force/);
});

test('--resume on an empty folder stops with exit 2 and says what to do; --force starts a new run', async (t) => {
  const out = temp();
  const nothing = await runCli(['train', ...tiny, '--epochs', '1', '--out', out, '--resume']);
  t.is(nothing.code, 2);
  t.regex(
    errorText(nothing),
    /--resume: .* holds no checkpoint to resume .*drop --resume to start a new run there, or pass --force/,
  );
  const forced = await runCli(['train', ...tiny, '--epochs', '1', '--out', out, '--resume', '--force', '--json']);
  t.is(forced.code, 0, errorText(forced));
  t.is(parseJson(forced).epochsRun, 1);
});

test.serial(
  'a run folder: no silent overwrite, no resume with other settings, and a corrupt checkpoint names --resume-from, which works',
  async (t) => {
    const out = temp();
    const first = await runCli(['train', ...tiny, '--epochs', '3', '--out', out, '--json']);
    t.is(first.code, 0, errorText(first));
    const json = parseJson(first);
    // The console and the summary report the model model/ holds (1-based epochs everywhere).
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    const artifact = JSON.parse(readFileSync(path.join(out, 'model', 'rwseg.json'), 'utf8'));
    t.is(json.modelEpoch, summary.modelEpoch);
    t.is(artifact.metrics.epoch, summary.modelEpoch);
    t.is(json.validation.meanDice, summary.finalValidation.meanDice);
    t.is(artifact.metrics.meanDice, summary.finalValidation.meanDice);
    t.true(summary.modelEpoch >= 1 && summary.modelEpoch <= 3);

    const again = await runCli(['train', ...tiny, '--epochs', '3', '--out', out]);
    t.is(again.code, 2);
    t.regex(errorText(again), /already holds a training run: pass --resume to continue it, --force to start over/);

    const otherLoss = await runCli(['train', ...tiny, '--epochs', '4', '--out', out, '--resume', '--loss', 'dice']);
    t.is(otherLoss.code, 2);
    t.regex(
      errorText(otherLoss),
      /--resume: the settings differ from the run in .*config\.json: loss \(was .*, now "dice"\)/,
    );
    const otherPatch = await runCli([
      'train',
      ...tiny,
      '--epochs',
      '4',
      '--out',
      out,
      '--resume',
      '--set',
      'preprocessing.patch=[16,16]',
    ]);
    t.is(otherPatch.code, 2);
    t.regex(errorText(otherPatch), /preprocessing \(was/);

    const latest = path.join(out, 'checkpoints', 'epoch-0003.ckpt');
    truncateSync(latest, Math.floor(statSync(latest).size / 2));
    const corrupt = await runCli(['train', ...tiny, '--epochs', '4', '--out', out, '--resume']);
    t.is(corrupt.code, 2, corrupt.stderr.slice(-2000));
    const advice = /resume from it with --resume-from (\S+) \(rwseg train, rwseg pipeline run\)/.exec(
      errorText(corrupt),
    );
    t.truthy(advice, errorText(corrupt));
    const resumed = await runCli([
      'train',
      ...tiny,
      '--epochs',
      '4',
      '--out',
      out,
      '--resume-from',
      advice![1]!,
      '--json',
    ]);
    t.is(resumed.code, 0, errorText(resumed));
    t.regex(resumed.stderr, /resuming at epoch 3 from .*epoch-0002\.ckpt/);
    t.is(parseJson(resumed).epochsRun, 2);
  },
);
