import test from 'ava';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createRegistry, isRwsegError, useBackend } from '@rwseg/core';
import { loadCase } from '@rwseg/core/data';
import { buildLoss } from '@rwseg/core/losses';
import { loadPipeline, pipelineDatasetInfo } from '@rwseg/core/pipeline';
import { buildUNet } from '@rwseg/core/training';
import { REPO_ROOT } from './helpers/cli.js';
import { SHARED_DATA, sharedTest } from './helpers/shared-data.js';

const dir = path.join(REPO_ROOT, 'pipelines');

test('every shipped pipeline validates and builds every loss it names with the built-in plugins', async (t) => {
  const registry = await createRegistry({ baseDir: REPO_ROOT });
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  for (const f of [
    'quickstart.yaml',
    'paper-comparison.yaml',
    'msd-hippocampus.yaml',
    'msd-hippocampus-3d.yaml',
    'dsb2018-nuclei.yaml',
    'isbi2012-em-membrane.yaml',
    'drosophila-vnc.yaml',
  ])
    t.true(files.includes(f), f);
  for (const file of files) {
    const config = loadPipeline(path.join(dir, file));
    const losses = config.sweep ? config.sweep.losses.map((l) => l.loss) : [config.loss];
    for (const loss of losses) t.truthy(buildLoss(registry, loss).name, `${file}: ${JSON.stringify(loss)}`);
  }
});

test('--set overrides reach the validated config, and a wrong type names the path', (t) => {
  const config = loadPipeline(path.join(dir, 'quickstart.yaml'), ['training.epochs=3', 'preprocessing.patch=[32, 32]']);
  t.is(config.training.epochs, 3);
  t.deepEqual(config.preprocessing.patch, [32, 32]);
  // dataset.root does not belong to a synthetic dataset: strict schemas refuse unknown keys.
  t.regex(
    t.throws(() => loadPipeline(path.join(dir, 'quickstart.yaml'), ['dataset.root=x']))!.message,
    /quickstart\.yaml: dataset \(line 10\): Unrecognized key: "root"/,
  );
  const error = t.throws(() => loadPipeline(path.join(dir, 'msd-hippocampus.yaml'), ['training.epochs=many']));
  t.true(isRwsegError(error, 'INVALID_CONFIG'));
  t.regex(error!.message, /msd-hippocampus\.yaml: training\.epochs \(line \d+\): .*number/);
});

test('a loss error inside a sweep names its sweep entry', (t) => {
  const error = t.throws(() =>
    loadPipeline(path.join(dir, 'paper-comparison.yaml'), [
      'sweep.losses=[{name: x, loss: {combine: [dice], weights: [1, 2]}}]',
    ]),
  );
  t.regex(error!.message, /sweep\.losses\[0\]\.loss\.weights/);
});

// The real-data pipelines read the shared sets when pointed at them (--set dataset.path=...): ISBI with membrane
// (stored 0) as class 1, the VNC set with its 5 class indices; each builds its U-Net for its patch.
sharedTest(
  'the ISBI and VNC pipelines open their datasets through dataset.path with the right classes and build',
  async (t) => {
    await useBackend('cpu');
    const open = async (file: string, folder: string) => {
      const config = loadPipeline(path.join(dir, file), [`dataset.path=${path.join(SHARED_DATA, folder)}`]);
      const info = pipelineDatasetInfo(config);
      const first = await loadCase(info, info.training[0]!);
      const counts = new Array<number>(info.numClasses).fill(0);
      for (const v of first.label!.data) counts[v]!++;
      const model = buildUNet(
        { ...config.model, dims: 2, inputChannels: 1, numClasses: info.numClasses },
        config.preprocessing.patch,
      );
      t.deepEqual(model.outputs[0]!.shape, [null, ...config.preprocessing.patch, info.numClasses]);
      model.dispose();
      return { info, first, counts };
    };
    const isbi = await open('isbi2012-em-membrane.yaml', 'isbi2012-em-membrane');
    t.is(isbi.info.training.length, 30);
    t.is(isbi.info.numClasses, 2);
    // Membranes are thin: class 1 (stored 0) is the minority; a map that forgot to invert would make it the majority.
    t.true(
      isbi.counts[1]! > 0 && isbi.counts[1]! < isbi.counts[0]!,
      `membrane ${isbi.counts[1]} vs interior ${isbi.counts[0]}`,
    );
    const vnc = await open('drosophila-vnc.yaml', 'drosophila-vnc-sstem');
    t.is(vnc.info.training.length, 20);
    t.is(vnc.info.numClasses, 5);
    t.true(
      vnc.counts.every((n) => n > 0),
      `every class present in the first slice: ${vnc.counts.join(', ')}`,
    );
    t.regex(vnc.info.training[0]!.label!, /labels_5class/);

    // Without --set the placeholder path fails with the folder named, before any training.
    const error = t.throws(() => pipelineDatasetInfo(loadPipeline(path.join(dir, 'isbi2012-em-membrane.yaml'))));
    t.regex(error!.message, /data\/isbi2012-em-membrane\/images: folder not found/);
  },
);

sharedTest(
  'the 3D hippocampus pipeline opens the MSD set and builds a 3D U-Net whose patch holds a volume',
  async (t) => {
    await useBackend('cpu');
    const root = path.join(SHARED_DATA, 'msd-task04-hippocampus');
    const config = loadPipeline(path.join(dir, 'msd-hippocampus-3d.yaml'), [`dataset.root=${root}`]);
    const info = pipelineDatasetInfo(config);
    t.is(info.numClasses, 3);
    t.deepEqual(info.channelNames, ['MRI']);
    t.is(info.training.length, 260);
    const first = await loadCase(info, info.training[0]!);
    const spatial = first.image.shape.slice(0, -1);
    t.is(spatial.length, 3);
    const patch = config.preprocessing.patch;
    t.true(
      spatial.every((d, a) => d <= patch[a]!),
      `case ${first.id} [${spatial.join(', ')}] fits in one patch [${patch.join(', ')}]`,
    );
    const model = buildUNet({ ...config.model, dims: 3, inputChannels: 1, numClasses: info.numClasses }, patch);
    t.deepEqual(
      model.outputs.map((o) => o.shape),
      [
        [null, 40, 56, 40, 3],
        [null, 20, 28, 20, 3],
        [null, 10, 14, 10, 3],
      ],
    );
    model.dispose();
  },
);
