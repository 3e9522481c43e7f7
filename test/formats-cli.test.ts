/**
 * Data as distributed, end to end through the real `rwseg` binary (issue #18's "done means"): a dataset of TIFF
 * images with GIF masks, one of JPEG images with PNG masks, an nnU-Net v2 set of multi-page TIFF stacks, one of MHA
 * volumes and a folder of DICOM series each go through `dataset check` and a tiny `train` (one epoch, two steps)
 * with no conversion step; `predict --out <folder>` then writes the labels in the image's format (PNG for the
 * JPEG, NIfTI for DICOM) and a reader that is not rwseg (tifffile, nibabel, the MetaImage spec: core's
 * read_back.py) finds them on the image's grid: same shape, spacing, origin and direction.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { readImage } from '@rwseg/core/io';
import { isCi } from '@rwseg/core/testing';
import { errorText, parseJson, REPO_ROOT, runCli } from './helpers/cli.js';

const FORMATS = path.join(REPO_ROOT, 'packages', 'core', 'test', 'fixtures', 'formats');
const DATASETS = path.join(FORMATS, 'datasets');
const READ_BACK = path.join(FORMATS, 'read_back.py');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : undefined;
const work = mkdtempSync(path.join(tmpdir(), 'rwseg-formats-cli-'));

/** The DICOM fixture holds one series; a second case (a copy) lets training split off a validation case. */
function dicomFolder(): string {
  const root = path.join(work, 'dicom-folder');
  if (!existsSync(root)) {
    cpSync(path.join(DATASETS, 'dicom-folder'), root, { recursive: true });
    cpSync(path.join(root, 'images', 'ct1'), path.join(root, 'images', 'ct2'), { recursive: true });
    cpSync(path.join(root, 'labels', 'ct1.nii.gz'), path.join(root, 'labels', 'ct2.nii.gz'));
  }
  return root;
}

interface Case {
  name: string;
  root: () => string;
  flags: string[];
  patch: string;
  formats: Record<string, Record<string, number>>;
  image: string;
  labels: string;
}

const CASES: Case[] = [
  {
    name: 'TIFF images, GIF masks',
    root: () => path.join(DATASETS, 'drive-like'),
    flags: ['--image-suffix', '_training', '--mask-suffix', '_manual1'],
    patch: '16,16',
    formats: { images: { TIFF: 4 }, labels: { GIF: 4 } },
    image: 'images/21_training.tif',
    labels: '21_training.tif',
  },
  {
    name: 'JPEG images, PNG masks',
    root: () => path.join(DATASETS, 'isic-like'),
    flags: ['--mask-suffix', '_segmentation'],
    patch: '16,16',
    formats: { images: { JPEG: 2 }, labels: { PNG: 2 } },
    image: 'images/ISIC_0000000.jpg',
    labels: 'ISIC_0000000.png',
  },
  {
    name: 'nnU-Net v2, multi-page TIFF stacks',
    root: () => path.join(DATASETS, 'stack-v2'),
    flags: [],
    patch: '16,16',
    formats: { images: { TIFF: 2 }, labels: { TIFF: 2 } },
    image: 'imagesTr/em_000_0000.tif',
    labels: 'em_000_0000.tif',
  },
  {
    name: 'nnU-Net v2, MHA volumes',
    root: () => path.join(DATASETS, 'mha-v2'),
    flags: [],
    patch: '4,16,16',
    formats: { images: { 'MetaImage (MHA/MHD)': 2 }, labels: { 'MetaImage (MHA/MHD)': 2 } },
    image: 'imagesTr/em_000_0000.mha',
    labels: 'em_000_0000.mha',
  },
  {
    name: 'DICOM series, NIfTI labels',
    root: dicomFolder,
    flags: [],
    patch: '4,8,8',
    formats: { images: { 'DICOM series': 2 }, labels: { NIfTI: 2 } },
    image: 'images/ct1',
    labels: 'ct1.nii.gz',
  },
];

interface ReadBack {
  shape: number[];
  spacing: number[];
  origin: number[] | null;
  direction: number[][] | null;
}

function readBack(t: ExecutionContext, file: string): ReadBack | undefined {
  if (!PYTHON) {
    if (isCi()) t.fail('/usr/bin/python3 not found');
    else t.log('independent read-back skipped: /usr/bin/python3 not found');
    return undefined;
  }
  try {
    return JSON.parse(execFileSync(PYTHON, [READ_BACK, file], { encoding: 'utf8', stdio: 'pipe', maxBuffer: 1 << 26 }));
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? error);
    if (/ModuleNotFoundError/.test(stderr) && !isCi()) {
      t.log(`independent read-back skipped: ${stderr.trim().split('\n').at(-1)}`);
      return undefined;
    }
    throw error;
  }
}

function near(t: ExecutionContext, actual: readonly number[], expected: readonly number[], what: string): void {
  t.is(actual.length, expected.length, what);
  const ok = actual.every((v, i) => Math.abs(v - expected[i]!) <= 1e-6 + 1e-5 * Math.abs(expected[i]!));
  t.true(ok, `${what}: [${actual.join(', ')}] vs [${expected.join(', ')}]`);
}

const BACKEND = ['--backend', 'cpu'];

for (const c of CASES) {
  test(`${c.name}: dataset check, train, predict in the image's format with its geometry`, async (t) => {
    const root = c.root();
    const check = await runCli(['dataset', 'check', root, ...c.flags, '--json']);
    t.is(check.code, 0, errorText(check));
    const report = parseJson<{ ok: boolean; formats: unknown }>(check);
    t.true(report.ok);
    t.deepEqual(report.formats, c.formats);

    const run = path.join(work, c.labels.replace(/\W/g, '_'));
    const trained = await runCli(
      [
        'train',
        '--data',
        root,
        ...c.flags,
        '--patch',
        c.patch,
        '--epochs',
        '1',
        '--iterations',
        '2',
        '--batch-size',
        '2',
        '--set',
        'model.depth=2',
        '--set',
        'model.baseFilters=2',
        '--seed',
        '1',
        '--out',
        run,
        '--json',
        ...BACKEND,
      ],
      { timeoutMs: 300_000 },
    );
    t.is(trained.code, 0, errorText(trained));
    t.is(parseJson<{ epochsRun: number }>(trained).epochsRun, 1);

    const image = path.join(root, c.image);
    const out = path.join(run, 'predictions') + path.sep;
    const model = path.join(run, 'model');
    const predicted = await runCli(['predict', '--model', model, '--input', image, '--out', out, '--json', ...BACKEND]);
    t.is(predicted.code, 0, errorText(predicted));
    const written = parseJson<{ out: string }>(predicted).out;
    t.is(path.basename(written), c.labels);

    const source = (await readImage(image)).volume;
    const spatial = source.channels ? source.shape.slice(0, -1) : source.shape;
    if (written.endsWith('.png')) {
      // PNG holds no geometry: the grid is the shape.
      t.deepEqual((await readImage(written)).volume.shape, spatial);
      return;
    }
    const back = readBack(t, written);
    if (!back) return;
    t.deepEqual(back.shape, spatial);
    near(t, back.spacing, source.spacing, `${c.labels} spacing`);
    if (source.orientation) {
      near(t, back.origin!, source.orientation.origin, `${c.labels} origin`);
      near(t, back.direction!.flat(), source.orientation.direction.flat(), `${c.labels} direction`);
    }
  });
}
