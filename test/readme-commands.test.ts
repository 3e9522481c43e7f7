/**
 * Every command line of the README's "What you can do with it" block, run as a user would (issue 17, item 2), in
 * a fresh folder, with small settings: trainings get one epoch of one iteration on a small net, real datasets a few
 * cases, `rwseg serve` a free port. Placeholders (PATH/..., image.nii.gz, mask.png, scan.png) become the shared
 * datasets or files made here. Each line must be planned below: a new README line fails this test until it is,
 * and a skip names its reason (and the test that covers it instead, where one does).
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_BIN, REPO_ROOT } from '@rwseg/test-helpers/cli';
import {
  makeInputs,
  runIn,
  SHARED,
  shellWords,
  startServe,
  TINY_2D,
  withFlag,
} from '@rwseg/test-helpers/command-lines';

/** The command lines of the README's first sh block under "## What you can do with it", continuations joined. */
export function readmeCommandLines(readme: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('What you can do with it'));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md: no ```sh block under "## What you can do with it"');
  const joined = block[1]!.replace(/\\\n\s*/g, ' ');
  return (
    joined
      .split('\n')
      // A comment starts at a # after whitespace outside quotes; the README's quoted JSON has none.
      .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
      .filter(Boolean)
  );
}

type Plan = { skip: string } | { argv: string[]; env?: Record<string, string>; serve?: boolean; curl?: boolean };

/** How each README line runs here; undefined for a line this test does not know yet. */
function plan(line: string, dirs: { sandbox: string }): Plan | undefined {
  const { env, words } = shellWords(line);
  const shared = (name: string) => path.join(SHARED, name);
  const needShared = (name: string) =>
    existsSync(shared(name)) ? undefined : `needs ${shared(name)} (the shared datasets)`;
  // Placeholders: PATH/<dataset> is the shared copy; PATH/dataset is a labeled folder made here.
  const argv = words.slice(words[0] === 'npx' ? 2 : 0).map((w) =>
    w
      .replace(/(^|=)PATH\/Task04_Hippocampus$/, `$1${shared('msd-task04-hippocampus')}`)
      .replace(/(^|=)PATH\/dataset$/, `$1${path.join(dirs.sandbox, 'synthetic2d')}`)
      .replace(/(^|=)PATH\//, `$1${SHARED}/`),
  );
  if (words[0] === 'curl') return { argv: words.slice(1), curl: true };
  if (words[0] !== 'npx' || words[1] !== 'rwseg') return undefined;
  const [command, sub] = argv;
  const has = (flag: string) => argv.includes(flag);
  const small = (args: string[]) => {
    let out = withFlag(withFlag(args, '--epochs', '1'), '--iterations', '1');
    out = [...out, '--set', 'export.onnx=false'];
    return out;
  };
  if (command === '--help' || command === 'plugins') return { argv, env };
  if (command === 'train') {
    if (has('--backend') && argv[argv.indexOf('--backend') + 1] === 'webgpu') {
      return { skip: 'WebGPU training needs a Vulkan driver; test/train-webgpu.test.ts runs it on lavapipe' };
    }
    if (has('--synthetic')) {
      // The dice run feeds evaluate, predict and export below: it keeps its ONNX export off (export runs it).
      return { argv: [...small(argv), ...TINY_2D], env };
    }
    if (argv.some((a) => a.includes('msd-hippocampus-3d'))) {
      const missing = needShared('msd-task04-hippocampus');
      if (missing) return { skip: missing };
      return { argv: [...small(argv), '--set', 'dataset.limit=6'], env };
    }
    if (argv.some((a) => a.includes('isbi2012-em-membrane'))) {
      const missing = needShared('isbi2012-em-membrane');
      if (missing) return { skip: missing };
      return {
        argv: [
          ...small(argv),
          '--patch',
          '64,64',
          '--set',
          'dataset.limit=4',
          '--set',
          'model.depth=2',
          '--set',
          'model.baseFilters=4',
          '--set',
          'training.batchSize=2',
        ],
        env,
      };
    }
  }
  if (command === 'pipeline' && sub === 'run') {
    const file = argv[2]!;
    if (file.includes('paper-comparison')) {
      return { skip: "the paper's sweep trains many runs; test/paper-comparison-short.test.ts runs a short one" };
    }
    const out = has('--out') ? [] : ['--out', path.join(dirs.sandbox, 'runs', path.basename(file, '.yaml'))];
    const epochs = [
      '--set',
      'training.epochs=1',
      '--set',
      'training.iterationsPerEpoch=1',
      '--set',
      'export.onnx=false',
    ];
    if (file.includes('quickstart')) return { argv: [...argv, ...out, ...epochs, ...TINY_2D], env };
    if (file.includes('dsb2018')) {
      const missing = needShared('dsb2018-nuclei-fluo256');
      if (missing) return { skip: missing };
      // Its deep supervision needs the depth it ships with; fewer filters keep the step short.
      return {
        argv: [
          ...argv,
          ...out,
          ...epochs,
          '--set',
          'dataset.limit=6',
          '--set',
          'model.baseFilters=4',
          '--set',
          'training.batchSize=2',
        ],
        env,
      };
    }
  }
  // Planning reads the pipeline and writes the task list and the job script; nothing trains.
  if (command === 'sweep' && sub === 'plan') return { argv, env };
  if (['evaluate', 'predict', 'metrics', 'export'].includes(command!)) return { argv, env };
  if (command === 'serve') return { argv: [...withFlag(argv, '--port', '0'), '--drain-ms', '0'], env, serve: true };
  if (command === 'dataset') {
    if (argv.some((a) => a.includes('DRIVE'))) return { skip: 'DRIVE is not among the shared datasets' };
    if (sub === 'synth') return { argv: [...argv, '--cases', '4', '--size', '32x32'], env };
    if (sub === 'check') {
      const missing = needShared('msd-task04-hippocampus');
      return missing ? { skip: missing } : { argv, env };
    }
  }
  if (command === 'maps') return { argv, env };
  return undefined;
}

test("every command line of the README's usage block runs with small settings, or is skipped for a stated reason", async (t) => {
  const sandbox = mkdtempSync(path.join(tmpdir(), 'rwseg-readme-'));
  t.teardown(() => rmSync(sandbox, { recursive: true, force: true }));
  symlinkSync(path.join(REPO_ROOT, 'pipelines'), path.join(sandbox, 'pipelines'));
  await makeInputs(sandbox);
  const lines = readmeCommandLines(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  t.true(lines.length >= 20, `${lines.length} command lines`);
  let server: { url: string; stop: () => Promise<void> } | undefined;
  t.teardown(() => server?.stop());
  for (const line of lines) {
    const step = plan(line, { sandbox });
    if (step === undefined) {
      t.fail(`README line not planned in test/readme-commands.test.ts: ${line}`);
      continue;
    }
    if ('skip' in step) {
      t.log(`skipped: ${line}\n  (${step.skip})`);
      continue;
    }
    const started = Date.now();
    if (step.curl) {
      if (!server) {
        t.fail(`${line}: no rwseg serve started before it`);
        continue;
      }
      const argv = step.argv.map((w) => w.replace(/^http:\/\/127\.0\.0\.1:8000/, server!.url));
      const result = await runIn(sandbox, 'curl', ['--fail-with-body', '--silent', '--show-error', ...argv], {});
      t.is(result.code, 0, `${line}\n${result.stdout}\n${result.stderr}`);
      const out = argv[argv.indexOf('-o') + 1]!;
      t.true(existsSync(path.join(sandbox, out)), `${line}: wrote ${out}`);
      t.log(`ran (${((Date.now() - started) / 1000).toFixed(1)} s): ${line}`);
      continue;
    }
    if (step.serve) {
      await server?.stop();
      server = await startServe(sandbox, step.argv, step.env ?? {});
      t.log(`ran (${((Date.now() - started) / 1000).toFixed(1)} s, serving ${server.url}): ${line}`);
      continue;
    }
    const result = await runIn(sandbox, process.execPath, [CLI_BIN, ...step.argv], step.env ?? {});
    t.is(
      result.code,
      0,
      `${line}\n  ran as: rwseg ${step.argv.join(' ')}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-3000)}`,
    );
    t.log(`ran (${((Date.now() - started) / 1000).toFixed(1)} s): ${line}`);
  }
});
