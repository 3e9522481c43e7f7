import test from 'ava';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeVolume } from '@rwseg/core/io';
import { errorText, parseJson, REPO_ROOT, runCli } from './helpers/cli.js';
import { SHARED_DATA, sharedTest } from './helpers/shared-data.js';

const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));

test('rwseg dataset synth writes an MSD dataset that rwseg dataset check accepts', async (t) => {
  const out = path.join(tmp('rwseg-cli-synth-'), 'synth3d');
  const synth = await runCli([
    'dataset',
    'synth',
    '--out',
    out,
    '--dim',
    '3',
    '--size',
    '16x20x24',
    '--cases',
    '3',
    '--classes',
    '4',
    '--seed',
    '5',
    '--json',
  ]);
  t.is(synth.code, 0, synth.stderr);
  const written = parseJson<{ cases: number; classNames: string[] }>(synth);
  t.is(written.cases, 3);
  t.deepEqual(written.classNames, ['background', 'disc', 'rectangle', 'blob']);
  t.true(
    existsSync(path.join(out, 'imagesTr', 'synth_002.nii.gz')) &&
      existsSync(path.join(out, 'labelsTr', 'synth_002.nii.gz')),
  );

  const check = await runCli(['dataset', 'check', out, '--json']);
  t.is(check.code, 0, check.stderr);
  const report = parseJson<{
    ok: boolean;
    trainingCases: number;
    shape: { min: number[] };
    classFrequency: number[];
    classVoxels: number[];
    spacings: number[][];
  }>(check);
  t.true(report.ok);
  t.is(report.trainingCases, 3);
  t.deepEqual(report.shape.min, [16, 20, 24]);
  t.deepEqual(report.spacings, [[1, 1, 1]]);
  t.is(
    report.classVoxels.reduce((a, b) => a + b, 0),
    3 * 16 * 20 * 24,
  );
  t.true(Math.abs(report.classFrequency.reduce((a, b) => a + b, 0) - 1) < 1e-9);
});

sharedTest('rwseg dataset check on the real ISBI pair with a label map', async (t) => {
  const root = path.join(SHARED_DATA, 'isbi2012-em-membrane');
  const result = await runCli(['dataset', 'check', root, '--label-map', '0:1,255:0']);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /30 training, 0 test cases/);
  t.regex(result.stdout, /class 1 class1: 2[0-9]\.\d\d% of voxels, in 30 case/);
  // Without a mapping the 0/255 masks are read as classes 0/1 (here 255, non-membrane, becomes class 1), with a notice.
  const raw = await runCli(['dataset', 'check', root]);
  t.is(raw.code, 0, raw.stderr);
  t.regex(
    raw.stderr,
    /notice: 30 mask\(s\) hold only 0 and 255: read as class 0 \(0\) and class 1 \(255\); if 255 is the background, give a label map/,
  );
  t.regex(raw.stdout, /class 1 class1: [78][0-9]\.\d\d% of voxels, in 30 case/);
  // With more classes declared the guess is off: 255 is not a class index, exit 2 naming a label file.
  const three = await runCli(['dataset', 'check', root, '--classes', '3']);
  t.is(three.code, 2);
  t.regex(errorText(three), /labels\/\d\d\.png: label value 255 at voxel \d+ is not a class index/);
});

const FORMAT_DATASETS = path.join(REPO_ROOT, 'packages', 'core', 'test', 'fixtures', 'formats', 'datasets');

test('rwseg dataset check on TIFF images with GIF masks reports pairing, formats and spacing sources', async (t) => {
  const root = path.join(FORMAT_DATASETS, 'drive-like');
  const result = await runCli(['dataset', 'check', root, '--image-suffix', '_training', '--mask-suffix', '_manual1']);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /4 training, 0 test cases; channels R, G, B/);
  t.regex(
    result.stdout,
    /pairing: images\/\* as <id>_training\.<ext> with labels\/<id>_manual1\.<any image extension>/,
  );
  t.regex(result.stdout, /formats: images TIFF x4; labels GIF x4/);
  t.regex(result.stdout, /spacing from: none \(1 per pixel\) x4/);
  const json = parseJson<{ formats: unknown; spacingSources: unknown; notices: string[] }>(
    await runCli(['dataset', 'check', path.join(FORMAT_DATASETS, 'stack-v2'), '--json']),
  );
  t.deepEqual(json.formats, { images: { TIFF: 2 }, labels: { TIFF: 2 } });
  t.deepEqual(json.spacingSources, { imagej: 2 });
  // The names differ and no rule says how: exit 2 naming the image and the flag to use.
  const unpaired = await runCli(['dataset', 'check', root]);
  t.is(unpaired.code, 2);
  t.regex(
    errorText(unpaired),
    /21_training\.tif has no label: expected .*21_training\.<png\|tif\|gif\|\.\.\.> \(set --mask-suffix/,
  );
});

test('rwseg dataset check reports every problem with its file and exits 2', async (t) => {
  const root = tmp('rwseg-cli-bad-');
  const volume = (n: number) => ({ data: new Uint8Array(n), shape: [n / 8, 2, 4], spacing: [1, 1, 1] });
  await writeVolume(path.join(root, 'imagesTr', 'ok.nii.gz'), volume(16));
  await writeVolume(path.join(root, 'labelsTr', 'ok.nii.gz'), volume(16));
  await writeVolume(path.join(root, 'imagesTr', 'shape.nii.gz'), volume(16));
  await writeVolume(path.join(root, 'labelsTr', 'shape.nii.gz'), volume(24));
  await writeVolume(path.join(root, 'imagesTr', 'spacing.nii.gz'), volume(16));
  await writeVolume(path.join(root, 'labelsTr', 'spacing.nii.gz'), { ...volume(16), spacing: [2, 1, 1] });
  await writeVolume(path.join(root, 'imagesTr', 'range.nii.gz'), volume(16));
  await writeVolume(path.join(root, 'labelsTr', 'range.nii.gz'), { ...volume(16), data: new Uint8Array(16).fill(3) });
  await writeVolume(path.join(root, 'imagesTr', 'nolabel.nii.gz'), volume(16));
  writeFileSync(
    path.join(root, 'imagesTr', 'corrupt.nii.gz'),
    Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]),
  );
  await writeVolume(path.join(root, 'labelsTr', 'corrupt.nii.gz'), volume(16));
  const ids = ['ok', 'shape', 'spacing', 'range', 'nolabel', 'corrupt'];
  writeFileSync(
    path.join(root, 'dataset.json'),
    JSON.stringify({
      labels: { 0: 'background', 1: 'organ' },
      modality: { 0: 'CT' },
      training: ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
    }),
  );
  const result = await runCli(['dataset', 'check', root]);
  t.is(result.code, 2, result.stdout);
  const text = errorText(result);
  t.regex(text, /5 problem\(s\)/);
  t.true(text.includes(`label ${path.join(root, 'labelsTr', 'shape.nii.gz')} has shape [3, 2, 4] but image`), text);
  t.true(text.includes(`${path.join(root, 'labelsTr', 'spacing.nii.gz')}: label spacing [2, 1, 1] differs`), text);
  t.true(text.includes(`${path.join(root, 'labelsTr', 'range.nii.gz')}: label value 3`), text);
  t.true(text.includes(`${path.join(root, 'labelsTr', 'nolabel.nii.gz')}: file not found`), text);
  t.true(text.includes(`${path.join(root, 'imagesTr', 'corrupt.nii.gz')}: corrupt or truncated gzip`), text);

  const json = await runCli(['dataset', 'check', root, '--json']);
  t.is(json.code, 2);
  const payload = parseJson<{
    error: { code: string; details: { report: { problems: { caseId: string; file?: string }[] } } };
  }>(json);
  t.is(payload.error.code, 'INVALID_INPUT');
  t.deepEqual(payload.error.details.report.problems.map((p) => p.caseId).sort(), [
    'corrupt',
    'nolabel',
    'range',
    'shape',
    'spacing',
  ]);
  t.is(
    payload.error.details.report.problems.find((p) => p.caseId === 'nolabel')!.file,
    path.join(root, 'labelsTr', 'nolabel.nii.gz'),
  );

  const missing = await runCli(['dataset', 'check', path.join(root, 'nope')]);
  t.is(missing.code, 2);
  t.regex(errorText(missing), /nope: dataset folder not found/);
  const badFlag = await runCli(['dataset', 'synth', '--out', path.join(root, 'x'), '--size', '8']);
  t.is(badFlag.code, 2);
  t.regex(errorText(badFlag), /option size/);
});

test('rwseg dataset convert writes an nnU-Net v2 folder that rwseg dataset check accepts', async (t) => {
  const out = path.join(tmp('rwseg-cli-convert-'), 'Dataset003_Stack');
  const result = await runCli([
    'dataset',
    'convert',
    path.join(FORMAT_DATASETS, 'stack-v2'),
    '--out',
    out,
    '--file-ending',
    '.nrrd',
    '--json',
  ]);
  t.is(result.code, 0, result.stderr);
  const written = parseJson<{ training: number; fileEnding: string; labels: Record<string, number> }>(result);
  t.deepEqual(
    [written.training, written.fileEnding, written.labels],
    [2, '.nrrd', { background: 0, membrane: 1, organelle: 2 }],
  );
  t.true(
    existsSync(path.join(out, 'imagesTr', 'em_001_0000.nrrd')) && existsSync(path.join(out, 'labelsTr', 'em_001.nrrd')),
  );
  const check = await runCli(['dataset', 'check', out, '--json']);
  t.is(check.code, 0, check.stderr);
  t.deepEqual(parseJson<{ spacingSources: unknown }>(check).spacingSources, { header: 2 });
  const bad = await runCli([
    'dataset',
    'convert',
    path.join(FORMAT_DATASETS, 'stack-v2'),
    '--out',
    out,
    '--file-ending',
    '.jpg',
  ]);
  t.is(bad.code, 2);
  t.regex(errorText(bad), /file-ending/);
});
