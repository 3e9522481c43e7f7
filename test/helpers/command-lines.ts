/**
 * Running documented command lines as a user would (test/readme-commands.test.ts and
 * packages/cli/test/help-examples.test.ts): shell words, small settings, the CLI or another program in a folder,
 * `rwseg serve` on a free port, and the input files the examples name.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readVolume, writeVolume } from '@rwseg/core/io';
import { CLI_BIN, REPO_ROOT, runCli } from './cli.js';
import { SHARED_DATA } from './shared-data.js';

// The shared datasets beside the checkout: where absent (off CI only) the examples that need them are skipped.
export const SHARED = SHARED_DATA || path.join(REPO_ROOT, '..', 'shared', 'data');

export function shellWords(line: string): { env: Record<string, string>; words: string[] } {
  const words: string[] = [];
  let word = '';
  let quote: string | null = null;
  let started = false;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = null;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started || word) words.push(word);
      word = '';
      started = false;
    } else {
      word += char;
    }
  }
  if (started || word) words.push(word);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  return { env, words };
}

/** Small-training overrides for the synthetic / quickstart 2D pipeline. */
/** `--set key=value` for each entry, in order. */
export const sets = (values: Record<string, string>): string[] =>
  Object.entries(values).flatMap(([key, value]) => ['--set', `${key}=${value}`]);

/** The quickstart pipeline's model and batch at their smallest (its data shape and patch kept). */
export const TINY_MODEL = sets({
  'dataset.train': '4',
  'dataset.validation': '2',
  'model.depth': '2',
  'model.baseFilters': '4',
  'training.batchSize': '2',
});

/** TINY_MODEL on 32 x 32 images and patches. */
export const TINY_2D = [...TINY_MODEL, ...sets({ 'dataset.shape': '[32,32]', 'preprocessing.patch': '[32,32]' })];

/** Sets --name value in argv, replacing a value already there. */
export function withFlag(words: string[], name: string, value: string): string[] {
  const at = words.indexOf(name);
  if (at < 0) return [...words, name, value];
  return [...words.slice(0, at + 1), value, ...words.slice(at + 2)];
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function runIn(
  cwd: string,
  file: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 300_000,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** The files the examples name: image.nii.gz, label.nii.gz, pred.nii.gz, mask.png, label.png, pred.png, scan.png, image.png. */
export async function makeInputs(sandbox: string): Promise<void> {
  const synth = await runCli([
    'dataset',
    'synth',
    '--out',
    path.join(sandbox, 'synthetic2d'),
    '--cases',
    '4',
    '--size',
    '32x32',
  ]);
  if (synth.code !== 0) throw new Error(`dataset synth failed: ${synth.stderr}`);
  const first = readdirSync(path.join(sandbox, 'synthetic2d', 'labelsTr')).sort()[0]!;
  const imageFile = path.join(sandbox, 'synthetic2d', 'imagesTr', first.replace(/\.nii\.gz$/, '_0000.nii.gz'));
  const label = path.join(sandbox, 'synthetic2d', 'labelsTr', first);
  const imageSource = existsSync(imageFile) ? imageFile : path.join(sandbox, 'synthetic2d', 'imagesTr', first);
  copyFileSync(imageSource, path.join(sandbox, 'image.nii.gz'));
  copyFileSync(label, path.join(sandbox, 'label.nii.gz'));
  copyFileSync(label, path.join(sandbox, 'pred.nii.gz'));
  const labels = await readVolume(label);
  // PNG inputs: the label image's own values (0..2) and the image scaled to 0..255, 2D.
  const plane = labels.shape.slice(-2);
  const classes = Uint8Array.from(labels.data as ArrayLike<number>);
  // mask.png is binary (the examples give it two class weights); label.png and pred.png keep the 3 classes.
  await writeVolume(path.join(sandbox, 'mask.png'), {
    data: classes.map((v) => (v > 0 ? 1 : 0)),
    shape: plane,
    spacing: [1, 1],
  });
  for (const name of ['label.png', 'pred.png']) {
    await writeVolume(path.join(sandbox, name), { data: classes, shape: plane, spacing: [1, 1] });
  }
  const image = await readVolume(path.join(sandbox, 'image.nii.gz'));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of Array.from(image.data as ArrayLike<number>)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const gray = Uint8Array.from(image.data as ArrayLike<number>, (v) => Math.round(((v - lo) / (hi - lo || 1)) * 255));
  for (const name of ['scan.png', 'image.png', 'scan.tif'])
    await writeVolume(path.join(sandbox, name), { data: gray, shape: plane, spacing: [1, 1] });
}

/** Starts rwseg serve on a free port; resolves with its URL once it listens with every model loaded. */
export function startServe(
  cwd: string,
  argv: readonly string[],
  env: Record<string, string>,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI_BIN, ...argv, '--eager'], {
    cwd,
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rwseg ${argv.join(' ')} did not start:\n${output}`));
    }, 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match && /ready on/.test(output)) {
        clearTimeout(timer);
        resolve({ url: match[1]!.replace(/\/$/, ''), stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`rwseg ${argv.join(' ')} exited:\n${output}`));
    });
  });
}
