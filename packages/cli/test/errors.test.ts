/**
 * How every command fails: one line on stderr (or one JSON object on stdout with --json) naming what was wrong,
 * exit 2 for what the user can fix and 1 for internal failures; never oclif's internals or a stack trace.
 */
import test from 'ava';
import { describeFailure } from '../src/index.js';
import { RwsegError } from '@rwseg/core';
import { parseJson, runCli } from '@rwseg/test-helpers/cli';

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

test('missing required flags: one line naming each flag, exit 2', async (t) => {
  const result = await runCli(['predict']);
  t.is(result.code, 2);
  t.deepEqual(lines(result.stderr).length, 1, result.stderr);
  t.regex(result.stderr, /^Error: .*flag input.*flag model.*flag out/);
});

test('missing required flags with --json: one small JSON error, exit 2', async (t) => {
  const result = await runCli(['predict', '--json']);
  t.is(result.code, 2);
  t.true(result.stdout.length < 1000, `${result.stdout.length} bytes of output`);
  const { error } = parseJson<{ error: { code: string; message: string } }>(result);
  t.is(error.code, 'INVALID_ARGUMENTS');
  t.regex(error.message, /flag model/);
  t.notRegex(result.stdout, /configDir|cacheDir/);
});

test('an unknown flag and a missing file are user errors: one line, exit 2', async (t) => {
  const flag = await runCli(['metrics', '--pred', 'a.png', '--ref', 'b.png', '--bogus']);
  t.is(flag.code, 2);
  t.regex(flag.stderr, /^Error: Nonexistent flag: --bogus \(see --help\)\n$/);
  const missing = await runCli(['metrics', '--pred', 'missing-pred.png', '--ref', 'missing-ref.png']);
  t.is(missing.code, 2);
  t.is(lines(missing.stderr).length, 1, missing.stderr);
  t.regex(missing.stderr, /missing-(pred|ref)\.png/);
});

test('--log-level debug follows the one error line with the details and the stack', async (t) => {
  const args = ['metrics', '--pred', 'missing-pred.png', '--ref', 'missing-ref.png'];
  const debug = await runCli([...args, '--log-level', 'debug']);
  t.is(debug.code, 2);
  const first = lines(debug.stderr).findIndex((line) => line.startsWith('Error: '));
  t.true(first >= 0, debug.stderr);
  const after = lines(debug.stderr).slice(first + 1);
  t.regex(after[0] ?? '', /^details: \{.*missing-(pred|ref)\.png/);
  t.true(
    after.some((line) => /^\s+at /.test(line)),
    'a stack trace',
  );
});

test('failures are classified: user errors exit 2, numerical, worker and unexpected failures exit 1', (t) => {
  t.is(describeFailure(new RwsegError('INVALID_INPUT', 'bad shape')).exit, 2);
  t.is(describeFailure(new RwsegError('IO_ERROR', 'cannot read x')).exit, 2);
  t.is(describeFailure(new RwsegError('WORKER_FAILED', 'worker 1 died')).exit, 1);
  t.is(describeFailure(new RwsegError('NUMERICAL_ERROR', 'loss is NaN')).exit, 1);
  const unexpected = describeFailure(new TypeError("cannot read properties of undefined (reading 'shape')"));
  t.is(unexpected.exit, 1);
  t.is(unexpected.code, 'INTERNAL_ERROR');
  t.regex(unexpected.message, /^internal error: cannot read properties/);
});

test('a backend that cannot be used (tensorflow without tfjs-node) is a user error: one line, BACKEND_ERROR, exit 2', async (t) => {
  const args = ['predict', '--model', 'no-such-model', '--input', 'no-such.png', '--out', 'out.png'];
  const result = await runCli([...args, '--backend', 'tensorflow']);
  t.is(result.code, 2);
  t.is(lines(result.stderr).filter((l) => !l.startsWith('[rwseg]')).length, 1, result.stderr);
  t.regex(result.stderr, /backend 'tensorflow' needs @tensorflow\/tfjs-node-gpu/);
  const json = await runCli([...args, '--backend', 'tensorflow', '--json']);
  t.is(json.code, 2);
  t.is(parseJson<{ error: { code: string } }>(json).error.code, 'BACKEND_ERROR');
});

test('--log-level is honored by every command (here predict, which logs its backend choice before reading the model)', async (t) => {
  const args = ['predict', '--model', 'no-such-model', '--input', 'no-such.png', '--out', 'out.png'];
  const info = await runCli(args);
  t.regex(info.stderr, /\[rwseg\] info: backend: /);
  t.notRegex(info.stderr, /\[rwseg\] debug:/);
  // The backend line stays short: the list of rwseg's wasm kernels is a debug line.
  const backendLine = info.stderr.split('\n').find((l) => l.includes('info: backend: '))!;
  t.true(backendLine.length < 400, `${backendLine.length} characters: ${backendLine}`);
  const debug = await runCli([...args, '--log-level', 'debug']);
  t.regex(debug.stderr, /\[rwseg\] debug: backend tensorflow not usable/);
  t.regex(debug.stderr, /\[rwseg\] debug: rwseg wasm kernels \{"rwsegKernels":\{"Conv2DBackpropFilter":"added"/);
  const quiet = await runCli([...args, '--log-level=warn']);
  t.notRegex(quiet.stderr, /\[rwseg\] (info|debug):/);
  t.is(quiet.code, 2);
});
