/**
 * --label-map is spelled the same way everywhere, and the label-reading commands (metrics, maps) read a 0/255 mask
 * as the two classes it stores, with a notice, instead of as 256 classes.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseLabelMapFlag } from '../src/index.js';
import { isRwsegError } from '@rwseg/core';
import { writeVolume } from '@rwseg/core/io';
import { errorText, parseJson, runCli } from '@rwseg/test-helpers/cli';

const dir = mkdtempSync(path.join(tmpdir(), 'rwseg-label-map-'));
const at = (name: string) => path.join(dir, name);

// A 16x16 square at 0/255 and a prediction shifted by one column, stored as 0/1.
const square = (shift: number, on: number) =>
  Uint8Array.from({ length: 256 }, (_, i) =>
    i >> 4 >= 4 && i >> 4 < 12 && (i & 15) >= 4 + shift && (i & 15) < 12 + shift ? on : 0,
  );

test.before(async () => {
  await writeVolume(at('ref255.png'), { data: square(0, 255), shape: [16, 16], spacing: [1, 1] });
  await writeVolume(at('pred01.png'), { data: square(1, 1), shape: [16, 16], spacing: [1, 1] });
});

test('the three spellings of --label-map give the same mapping; bad ones name the problem', (t) => {
  const expected = { '0': 0, '255': 1 };
  t.deepEqual(parseLabelMapFlag('{"0": 0, "255": 1}'), expected);
  t.deepEqual(parseLabelMapFlag('0:0,255:1'), expected);
  t.deepEqual(parseLabelMapFlag('0, 255'), expected);
  t.deepEqual(parseLabelMapFlag('0:1,255:0'), { '0': 1, '255': 0 });
  for (const [text, why] of [
    ['{"0": 0.5}', /class 0.5 for value 0/],
    ['0:0,255', /mixes/],
    ['0,0', /given twice/],
    ['{nope', /not valid JSON/],
    ['x:1', /not a number/],
  ] as const) {
    const error = t.throws(() => parseLabelMapFlag(text));
    t.true(isRwsegError(error, 'INVALID_OPTIONS'), text);
    t.regex(error!.message, why, text);
  }
});

test('metrics reads a 0/255 reference as classes 0/1 with a notice (one foreground row, not 255)', async (t) => {
  const result = await runCli(['metrics', '--pred', at('pred01.png'), '--ref', at('ref255.png'), '--json']);
  t.is(result.code, 0, errorText(result));
  const json = parseJson<{ numClasses: number; classes: { classIndex: number; dice: number }[] }>(result);
  t.is(json.numClasses, 2);
  t.deepEqual(
    json.classes.map((c) => c.classIndex),
    [1],
  );
  // 8x8 squares overlapping in 8x7 pixels: Dice = 2*56 / (64 + 64).
  t.true(Math.abs(json.classes[0]!.dice - 112 / 128) < 1e-9, String(json.classes[0]!.dice));
  t.regex(result.stderr, /ref255\.png holds only the values 0 and 255: read as classes 0 and 1/);
});

test('--label-map overrides the default, and a value it does not name is an error naming the file and value', async (t) => {
  const inverted = await runCli([
    'maps',
    'check',
    '--labels',
    at('ref255.png'),
    '--map',
    'rrw',
    '--label-map',
    '0:1,255:0',
    '--json',
  ]);
  t.is(inverted.code, 0, errorText(inverted));
  t.is(parseJson<{ numClasses: number }>(inverted).numClasses, 2);
  const missing = await runCli(['maps', 'check', '--labels', at('ref255.png'), '--map', 'rrw', '--label-map', '0:0']);
  t.is(missing.code, 2);
  t.regex(errorText(missing), /ref255\.png: voxel \d+ holds 255, which --label-map does not name/);
});

test('numeric flags are checked and the error names the flag', async (t) => {
  const result = await runCli([
    'metrics',
    '--pred',
    at('pred01.png'),
    '--ref',
    at('ref255.png'),
    '--nsd-tolerance',
    'abc',
  ]);
  t.is(result.code, 2);
  t.regex(errorText(result), /--nsd-tolerance "abc": expected a positive number/);
});

test('dataset check takes --label-map in the JSON spelling too, and --num-classes as well as --classes', async (t) => {
  const root = path.join(dir, 'pair');
  for (const sub of ['images', 'labels']) mkdirSync(path.join(root, sub), { recursive: true });
  await writeVolume(path.join(root, 'images', 'a.png'), { data: square(0, 200), shape: [16, 16], spacing: [1, 1] });
  await writeVolume(path.join(root, 'labels', 'a.png'), { data: square(0, 255), shape: [16, 16], spacing: [1, 1] });
  const json = await runCli(['dataset', 'check', root, '--label-map', '{"0": 0, "255": 1}', '--json']);
  t.is(json.code, 0, errorText(json));
  const pairs = await runCli(['dataset', 'check', root, '--label-map', '0:0,255:1', '--json']);
  t.is(pairs.code, 0, errorText(pairs));
  t.deepEqual(parseJson(json).classes, parseJson(pairs).classes);
  const aliased = await runCli(['dataset', 'check', root, '--num-classes', '2', '--label-map', '0,255', '--json']);
  t.is(aliased.code, 0, errorText(aliased));
});

test('metrics and maps take --num-classes, and --classes as its alias, with the same result', async (t) => {
  const metrics = async (flag: string) => {
    const args = ['metrics', '--pred', at('pred01.png'), '--ref', at('pred01.png'), flag, '3', '--json'];
    const result = await runCli(args);
    t.is(result.code, 0, errorText(result));
    return parseJson<{ numClasses: number; classes: unknown[] }>(result);
  };
  const named = await metrics('--num-classes');
  t.is(named.numClasses, 3);
  t.is(named.classes.length, 2, 'classes 1 and 2 reported, 2 absent from both');
  t.deepEqual(await metrics('--classes'), named);
  const show = await runCli(['maps', 'check', '--labels', at('pred01.png'), '--map', 'rrw', '--num-classes', '3']);
  t.regex(show.stdout, /3 classes/, errorText(show));
});
