import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import {
  checkDataset,
  classHistogram,
  generateSyntheticCase,
  isRwsegError,
  loadCase,
  openDataset,
  resolveSyntheticOptions,
  syntheticDatasetInfo,
  writeSyntheticDataset,
  writeVolume,
  type DatasetInfo,
} from '../../src/index.js';
import { IO_FIXTURES, SHARED_DATA, sharedDataTest, tempDir } from '../fixtures/io/shared-data.js';

const expected = JSON.parse(readFileSync(path.join(IO_FIXTURES, 'expected.json'), 'utf8')) as {
  nifti: { file: string; counts?: Record<string, number> }[];
  png: { file: string; counts?: Record<string, number> }[];
};
const HIPPO = path.join(SHARED_DATA, 'msd-task04-hippocampus');

function caseById(info: DatasetInfo, id: string) {
  const ref = info.training.find((c) => c.id === id);
  if (!ref) throw new Error(`no case ${id}`);
  return ref;
}

sharedDataTest(
  'dataset: the real MSD hippocampus set opens as v1 and its float32 label loads as classes',
  async (t) => {
    const info = openDataset(HIPPO);
    t.is(info.kind, 'msd');
    t.is(info.training.length, 260);
    t.is(info.numClasses, 3);
    t.deepEqual(info.classNames, ['background', 'Anterior', 'Posterior']);
    t.deepEqual(info.channelNames, ['MRI']);
    const c = await loadCase(info, caseById(info, 'hippocampus_003'));
    t.deepEqual(c.image.shape, [35, 52, 34, 1]);
    t.is(c.image.channels, 1);
    t.true(c.label!.data instanceof Int32Array);
    const ref = expected.nifti.find((e) => e.file.endsWith('labelsTr/hippocampus_003.nii.gz'))!;
    t.deepEqual(classHistogram(c.label!.data, 3), [ref.counts!['0'], ref.counts!['1'], ref.counts!['2']]);
  },
);

sharedDataTest('dataset: the ISBI folder pair with a label mapping, and the VNC 5-class labels', async (t) => {
  const isbi = openDataset(path.join(SHARED_DATA, 'isbi2012-em-membrane'), { labelMapping: { 0: 1, 255: 0 } });
  t.is(isbi.kind, 'folder');
  t.is(isbi.training.length, 30);
  t.is(isbi.numClasses, 2);
  const c = await loadCase(isbi, caseById(isbi, '00'));
  const ref = expected.png.find((e) => e.file === 'isbi2012-em-membrane/labels/00.png')!;
  // Membrane (stored 0) is class 1 after the mapping.
  t.deepEqual(classHistogram(c.label!.data, 2), [ref.counts!['255'], ref.counts!['0']]);
  t.deepEqual(c.image.shape, [512, 512, 1]);

  const vnc = openDataset(path.join(SHARED_DATA, 'drosophila-vnc-sstem'), { labels: 'labels_5class', numClasses: 5 });
  t.is(vnc.training.length, 20);
  const v = await loadCase(vnc, caseById(vnc, '00'));
  const vref = expected.png.find((e) => e.file === 'drosophila-vnc-sstem/labels_5class/00.png')!;
  t.deepEqual(
    classHistogram(v.label!.data, 5),
    [0, 1, 2, 3, 4].map((k) => vref.counts![String(k)]),
  );
  // The raw VNC labels hold gray codes: read as class indices they are refused, naming the file and value.
  const raw = openDataset(path.join(SHARED_DATA, 'drosophila-vnc-sstem'), { numClasses: 5 });
  const error = await t.throwsAsync(loadCase(raw, caseById(raw, '00')));
  t.true(isRwsegError(error, 'INVALID_INPUT'));
  t.regex(
    error!.message,
    /labels\/00\.png: label value (32|64|96|128|159|191|223|255) at voxel \d+ is not a class index \(dataset has 5 classes/,
  );
  // With a list of gray values, position = class.
  const listed = openDataset(path.join(SHARED_DATA, 'drosophila-vnc-sstem'), {
    labelMapping: [0, 32, 64, 96, 128, 159, 191, 223, 255],
  });
  t.is(listed.numClasses, 9);
});

test('dataset: nnU-Net v2 layout with two channels per case', async (t) => {
  const root = tempDir('rwseg-v2-');
  const spacing = [2, 1, 1];
  for (const id of ['liver_001', 'liver_002']) {
    await writeVolume(path.join(root, 'imagesTr', `${id}_0000.nii.gz`), {
      data: Float32Array.from({ length: 24 }, (_, i) => i),
      shape: [2, 3, 4],
      spacing,
    });
    await writeVolume(path.join(root, 'imagesTr', `${id}_0001.nii.gz`), {
      data: Float32Array.from({ length: 24 }, (_, i) => -i),
      shape: [2, 3, 4],
      spacing,
    });
    await writeVolume(path.join(root, 'labelsTr', `${id}.nii.gz`), {
      data: Uint8Array.from({ length: 24 }, (_, i) => i % 3),
      shape: [2, 3, 4],
      spacing,
    });
  }
  await writeVolume(path.join(root, 'imagesTs', 'liver_900_0000.nii.gz'), {
    data: new Float32Array(24),
    shape: [2, 3, 4],
    spacing,
  });
  await writeVolume(path.join(root, 'imagesTs', 'liver_900_0001.nii.gz'), {
    data: new Float32Array(24),
    shape: [2, 3, 4],
    spacing,
  });
  writeFileSync(
    path.join(root, 'dataset.json'),
    JSON.stringify({
      channel_names: { 0: 'CT', 1: 'PET' },
      labels: { background: 0, liver: 1, tumour: 2 },
      numTraining: 2,
      file_ending: '.nii.gz',
    }),
  );
  const info = openDataset(root);
  t.deepEqual(info.classNames, ['background', 'liver', 'tumour']);
  t.deepEqual(info.channelNames, ['CT', 'PET']);
  t.deepEqual(
    info.training.map((c) => c.id),
    ['liver_001', 'liver_002'],
  );
  t.deepEqual(
    info.test.map((c) => c.id),
    ['liver_900'],
  );
  const c = await loadCase(info, info.training[1]!);
  t.deepEqual(c.image.shape, [2, 3, 4, 2]);
  t.deepEqual(c.image.spacing, spacing);
  t.deepEqual(Array.from(c.image.data.subarray(0, 6)), [0, -0, 1, -1, 2, -2]);
  t.deepEqual(Array.from(c.label!.data.subarray(0, 4)), [0, 1, 2, 0]);

  // A case missing its second channel is reported when the dataset is opened.
  copyFileSync(
    path.join(root, 'imagesTr', 'liver_001_0000.nii.gz'),
    path.join(root, 'imagesTr', 'liver_003_0000.nii.gz'),
  );
  const error = t.throws(() => openDataset(root));
  t.true(error!.message.includes('liver_003') && error!.message.includes('2 channel file(s)'), error!.message);
});

test('dataset: bad MSD cases fail naming the file', async (t) => {
  const root = tempDir('rwseg-v1-');
  await writeVolume(path.join(root, 'imagesTr', 'a.nii.gz'), {
    data: new Float32Array(8),
    shape: [2, 2, 2],
    spacing: [1, 1, 1],
  });
  await writeVolume(path.join(root, 'labelsTr', 'a.nii.gz'), {
    data: new Uint8Array(12),
    shape: [3, 2, 2],
    spacing: [1, 1, 1],
  });
  await writeVolume(path.join(root, 'imagesTr', 'b.nii.gz'), {
    data: new Float32Array(8),
    shape: [2, 2, 2],
    spacing: [1, 1, 1],
  });
  await writeVolume(path.join(root, 'labelsTr', 'b.nii.gz'), {
    data: Uint8Array.from([0, 1, 0, 0, 0, 0, 0, 7]),
    shape: [2, 2, 2],
    spacing: [1, 1, 1],
  });
  await writeVolume(path.join(root, 'imagesTr', 'c.nii.gz'), {
    data: new Float32Array(8),
    shape: [2, 2, 2],
    spacing: [1, 1, 1],
  });
  writeFileSync(
    path.join(root, 'dataset.json'),
    JSON.stringify({
      labels: { 0: 'background', 1: 'organ' },
      modality: { 0: 'CT' },
      training: ['a', 'b', 'c'].map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
    }),
  );
  const info = openDataset(root);
  const shape = await t.throwsAsync(loadCase(info, info.training[0]!));
  t.true(
    shape!.message.includes(path.join(root, 'labelsTr', 'a.nii.gz')) &&
      shape!.message.includes('[3, 2, 2]') &&
      shape!.message.includes('[2, 2, 2]'),
    shape!.message,
  );
  const range = await t.throwsAsync(loadCase(info, info.training[1]!));
  t.true(range!.message.includes('b.nii.gz: label value 7 at voxel 7'), range!.message);
  const missing = await t.throwsAsync(loadCase(info, info.training[2]!));
  t.true(
    isRwsegError(missing, 'IO_ERROR') && missing.message.includes(path.join(root, 'labelsTr', 'c.nii.gz')),
    missing!.message,
  );

  writeFileSync(
    path.join(root, 'dataset.json'),
    JSON.stringify({ labels: { 0: 'background', 2: 'organ' }, training: [] }),
  );
  t.regex(t.throws(() => openDataset(root))!.message, /dataset\.json: "labels" skips class 1/);
  writeFileSync(path.join(root, 'dataset.json'), '{ not json');
  t.regex(t.throws(() => openDataset(root))!.message, /dataset\.json: cannot read dataset\.json/);
  t.regex(t.throws(() => openDataset(path.join(root, 'nowhere')))!.message, /nowhere: dataset folder not found/);
});

test('dataset: a 2D folder pair with an image lacking its label is refused', (t) => {
  const root = tempDir('rwseg-pair-');
  mkdirSync(path.join(root, 'images'));
  mkdirSync(path.join(root, 'labels'));
  writeFileSync(path.join(root, 'images', 'x.png'), '');
  const error = t.throws(() => openDataset(root));
  t.true(
    error!.message.includes(path.join(root, 'images', 'x.png')) && error!.message.includes('has no label'),
    error!.message,
  );
});

test('dataset: the synthetic dataset is seeded, has every class, and its imbalance is adjustable', (t) => {
  const options = resolveSyntheticOptions({ dim: 2, size: [64, 64], numClasses: 4, seed: 11 });
  const a = generateSyntheticCase(options, 3);
  const b = generateSyntheticCase(options, 3);
  t.deepEqual(a.image.data, b.image.data);
  t.deepEqual(a.label!.data, b.label!.data);
  t.notDeepEqual(generateSyntheticCase({ ...options, seed: 12 }, 3).label!.data, a.label!.data);
  const totals = [0, 0, 0, 0];
  for (let i = 0; i < 8; i++)
    classHistogram(generateSyntheticCase(options, i).label!.data, 4).forEach((n, k) => (totals[k]! += n));
  t.true(
    totals.every((n) => n > 0),
    `class voxel totals ${totals}`,
  );
  // Classes are separable by intensity on average: each class's mean differs from background's by > 3 noise sds.
  const c = generateSyntheticCase(options, 0);
  const mean = (k: number) => {
    let s = 0,
      n = 0;
    c.label!.data.forEach((l, i) => {
      if (l === k) {
        s += c.image.data[i]!;
        n++;
      }
    });
    return s / n;
  };
  for (let k = 1; k < 4; k++) if (c.label!.data.includes(k)) t.true(Math.abs(mean(k) - mean(0)) > 3 * 15, `class ${k}`);

  const fg = (o: Parameters<typeof resolveSyntheticOptions>[0]) => {
    const r = resolveSyntheticOptions(o);
    let n = 0;
    for (let i = 0; i < 6; i++) n += generateSyntheticCase(r, i).label!.data.filter((l) => l > 0).length;
    return n;
  };
  t.true(fg({ size: [64, 64], objectScale: 0.4 }) < 0.4 * fg({ size: [64, 64] }));
  const weighted = resolveSyntheticOptions({ size: [64, 64], numClasses: 3, classWeights: [0, 1] });
  for (let i = 0; i < 4; i++) t.false(generateSyntheticCase(weighted, i).label!.data.includes(1));
  const three = syntheticDatasetInfo({ dim: 3, cases: 2 });
  t.deepEqual(generateSyntheticCase(three.synthetic!, 0).image.shape, [48, 48, 48, 1]);
  t.regex(t.throws(() => resolveSyntheticOptions({ size: [64] }))!.message, /option size/);
});

test('dataset: the synthetic dataset written in MSD layout reads back identically', async (t) => {
  const root = tempDir('rwseg-synth-');
  await writeSyntheticDataset(root, { dim: 3, size: [16, 20, 24], cases: 3, seed: 2 });
  const info = openDataset(root);
  t.is(info.kind, 'msd');
  t.is(info.training.length, 3);
  t.deepEqual(info.classNames, ['background', 'disc', 'rectangle']);
  const fromDisk = await loadCase(info, info.training[2]!);
  const generated = generateSyntheticCase(
    resolveSyntheticOptions({ dim: 3, size: [16, 20, 24], cases: 3, seed: 2 }),
    2,
  );
  t.deepEqual(fromDisk.image.shape, [16, 20, 24, 1]);
  t.deepEqual(fromDisk.image.data, generated.image.data);
  t.deepEqual(fromDisk.label!.data, generated.label!.data);
});

sharedDataTest(
  'dataset: checkDataset on the whole hippocampus set reproduces the figures in its SOURCE.md',
  async (t) => {
    const report = await checkDataset(openDataset(HIPPO));
    t.true(report.ok, JSON.stringify(report.problems.slice(0, 3)));
    t.is(report.trainingCases, 260);
    // SOURCE.md: x 31..43, y 40..59, z 24..47 (NIfTI order), i.e. [Z, Y, X] here; 1 mm; shares 94.75 / 2.73 / 2.52 %.
    t.deepEqual(report.shape, { min: [24, 40, 31], max: [47, 59, 43] });
    t.deepEqual(report.spacings, [[1, 1, 1]]);
    t.deepEqual(
      report.classFrequency.map((f) => Number((100 * f).toFixed(2))),
      [94.75, 2.73, 2.52],
    );
    t.deepEqual(report.casesWithClass, [260, 260, 260]);
    t.is(report.classVoxels.reduce((a, b) => a + b, 0) > 16e6, true, 'SOURCE.md: 16.3 M voxels in all');
  },
);
