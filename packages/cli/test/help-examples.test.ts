/**
 * Every example in every command's `--help` (oclif's static examples) runs as written (issue 17, item 2), in a
 * fresh folder with small settings: trainings get one or two epochs of one iteration on a small net, the dataset
 * folders the examples name (./isbi, ./vnc, data/Task04_Hippocampus, ...) are the shared datasets, and
 * `rwseg serve` gets a free port. Trainings run first, so the examples that read their models find them. An
 * example this test does not know fails it; a skip names its reason.
 */
import test from 'ava';
import { Config } from '@oclif/core';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_BIN, REPO_ROOT } from '@rwseg/test-helpers/cli';
import {
  makeInputs,
  runIn,
  sets,
  SHARED,
  shellWords,
  startServe,
  TINY_MODEL,
  withFlag,
} from '@rwseg/test-helpers/command-lines';
import { MSE_PLUGIN_SOURCE, writePluginPackage } from '@rwseg/test-helpers/user-project';

/** Folders the examples name, and the shared dataset each stands for. */
const DATASET_LINKS: Record<string, string> = {
  Task04_Hippocampus: 'msd-task04-hippocampus',
  isbi: 'isbi2012-em-membrane',
  vnc: 'drosophila-vnc-sstem',
  'data/Task04_Hippocampus': 'msd-task04-hippocampus',
  'data/isbi2012': 'isbi2012-em-membrane',
};

const UNAVAILABLE: Record<string, string> = {
  DRIVE: 'DRIVE is not among the shared datasets',
  'runs/drive/model':
    'needs a model trained on DRIVE; test/formats-end-to-end.test.ts predicts TIFF images to a folder',
  ISIC2018: 'ISIC 2018 is not among the shared datasets',
  'ct-series': 'no DICOM CT series among the shared datasets (commands/dataset.test.ts converts DICOM fixtures)',
  'my-map': 'names a map plugin of your own; commands/plugins.test.ts loads third-party plugins',
  'runs/hippocampus/model': 'needs a 3D hippocampus model; test/readme-commands.test.ts trains one from the README',
  'runs/hippo/model': 'needs a 3D hippocampus model; test/readme-commands.test.ts trains one from the README',
};

type Plan = { skip: string } | { argv: string[]; env: Record<string, string>; serve?: boolean };

function plan(example: string, sandbox: string): Plan {
  const { env, words } = shellWords(example.replace('<%= config.bin %>', 'rwseg'));
  if (words[0] !== 'rwseg') return { skip: `not an rwseg command: ${example}` };
  for (const [name, reason] of Object.entries(UNAVAILABLE)) {
    if (
      words.some((w) => w === name || w.includes(`/${name}`) || w.startsWith(`./${name}`) || w.startsWith(`${name}/`))
    ) {
      return { skip: reason };
    }
  }
  for (const [link, dataset] of Object.entries(DATASET_LINKS)) {
    if (words.some((w) => w === `./${link}` || w === link) && !existsSync(path.join(SHARED, dataset))) {
      return { skip: `needs ${path.join(SHARED, dataset)} (the shared datasets)` };
    }
  }
  let argv = words
    .slice(1)
    .map((w) => w.replace(/^\.\.\/shared\/data\//, `${SHARED}/`).replace(/(^|=)PATH\//, `$1${SHARED}/`));
  const [command] = argv;
  if (command === 'train' || (command === 'pipeline' && argv[1] === 'run')) {
    const dataset = argv.find((w) => w.startsWith(SHARED));
    if (dataset && !existsSync(dataset.split('=').pop()!)) return { skip: `needs ${dataset} (the shared datasets)` };
    // The rrw-dice run is resumed from its epoch-0002 checkpoint below: it gets two epochs.
    const epochs =
      argv.includes('runs/rrw-dice') && !argv.includes('--resume') && !argv.includes('--resume-from') ? '2' : '1';
    const small = [
      '--set',
      `training.epochs=${epochs}`,
      '--set',
      'training.iterationsPerEpoch=1',
      '--set',
      'export.onnx=false',
    ];
    if (command === 'train') {
      argv = withFlag(argv, '--epochs', epochs).filter(
        (w, i, all) => !(w === '--iterations' || all[i - 1] === '--iterations'),
      );
      // A training without --out would share a default folder with another example: give each its own.
      if (!argv.includes('--out')) argv.push('--out', path.join(sandbox, 'runs', `example-${Math.abs(hash(example))}`));
    }
    const onQuickstart = argv.includes('--synthetic') || argv.some((w) => w.includes('quickstart'));
    // The quickstart keeps its 64x64 patch: `evaluate --data pipelines/quickstart.yaml` checks the model against it.
    const real = onQuickstart
      ? TINY_MODEL
      : sets({ 'dataset.limit': '6', 'model.baseFilters': '4', 'training.batchSize': '2' });
    return { argv: [...argv, ...small, ...real], env };
  }
  if (command === 'serve') {
    return { argv: [...withFlag(argv, '--port', '0'), '--drain-ms', '0'], env, serve: true };
  }
  // Planning writes the task list and job file only; running and collecting need the paper sweep's trained runs.
  if (command === 'sweep' && argv[1] !== 'plan') {
    return {
      skip: "needs the paper sweep's trained runs; test/sweep-local.test.ts runs run-task and collect on a tiny sweep",
    };
  }
  return { argv, env };
}

function hash(text: string): number {
  let h = 0;
  for (const char of text) h = (h * 31 + char.charCodeAt(0)) | 0;
  return h;
}

test('every --help example of every command runs as written with small settings, or is skipped for a stated reason', async (t) => {
  const sandbox = mkdtempSync(path.join(tmpdir(), 'rwseg-examples-'));
  t.teardown(() => rmSync(sandbox, { recursive: true, force: true }));
  symlinkSync(path.join(REPO_ROOT, 'pipelines'), path.join(sandbox, 'pipelines'));
  // A plugin in ./my-plugin imports @rwseg/core as an installed plugin would.
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(sandbox, 'node_modules'));
  writePluginPackage(path.join(sandbox, 'my-plugin'), 'rwseg-plugin-mse', MSE_PLUGIN_SOURCE);
  mkdirSync(path.join(sandbox, 'data'));
  for (const [link, dataset] of Object.entries(DATASET_LINKS)) {
    if (existsSync(path.join(SHARED, dataset))) symlinkSync(path.join(SHARED, dataset), path.join(sandbox, link));
  }
  await makeInputs(sandbox);
  symlinkSync(path.join(sandbox, 'label.nii.gz'), path.join(sandbox, 'case.nii.gz'));
  symlinkSync(path.join(sandbox, 'label.nii.gz'), path.join(sandbox, 'hippocampus_001.nii.gz'));
  symlinkSync('model_repository', path.join(sandbox, 'repo'));

  const config = await Config.load(path.join(REPO_ROOT, 'packages', 'cli'));
  const examples = config.commands.flatMap((c) =>
    (c.examples ?? []).map((e) => ({ id: c.id, text: typeof e === 'string' ? e : e.command })),
  );
  t.true(examples.length >= 30, `${examples.length} examples`);
  // Trainings first (evaluate, export and predict read their models), then exports (serve reads them), then the rest.
  const rank = (e: { id: string; text: string }) =>
    e.id === 'pipeline:run' ? 0 : e.id === 'train' ? 1 : e.id === 'export' && !e.text.includes(' serve ') ? 2 : 3;
  examples.sort((a, b) => rank(a) - rank(b));
  const stops: (() => Promise<void>)[] = [];
  t.teardown(async () => {
    for (const stop of stops) await stop();
  });
  for (const example of examples) {
    const step = plan(example.text, sandbox);
    if ('skip' in step) {
      t.log(`skipped ${example.id}: ${example.text}\n  (${step.skip})`);
      continue;
    }
    const started = Date.now();
    if (step.serve) {
      const server = await startServe(sandbox, step.argv, step.env).catch((error: Error) => error);
      if (server instanceof Error) {
        t.fail(`${example.text}\n  ran as: rwseg ${step.argv.join(' ')}\n${server.message}`);
        continue;
      }
      await server.stop();
    } else {
      const result = await runIn(sandbox, process.execPath, [CLI_BIN, ...step.argv], step.env);
      const output = `${result.stdout.slice(-1500)}\n${result.stderr.slice(-2500)}`;
      t.is(result.code, 0, `${example.text}\n  ran as: rwseg ${step.argv.join(' ')}\n${output}`);
    }
    t.log(`ran (${((Date.now() - started) / 1000).toFixed(1)} s) ${example.id}: ${example.text}`);
  }
});
