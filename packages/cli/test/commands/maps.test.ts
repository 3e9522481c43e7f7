import test from 'ava';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readVolume, writeVolume } from '@rwseg/core/io';
import { errorText, parseJson, runCli } from '@rwseg/test-helpers/cli';
import { SHARED_DATA, sharedTest } from '@rwseg/test-helpers/shared-data';
import { makeUserProject, writePluginPackage } from '@rwseg/test-helpers/user-project';

const dir = mkdtempSync(path.join(tmpdir(), 'rwseg-cli-maps-'));
const at = (name: string) => path.join(dir, name);

// The spec's test vector (../shared/spec/region-wise-loss.md).
const SPEC = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 2, 0, 0, 0, 0, 0, 2];
const RRW_CLASS0 = [
  -0.632456, -0.447214, -0.447214, -0.447214, -0.632456, -1.0, -0.447214, 1, 1, 1, -0.447214, -0.894427, -0.447214, 1,
  1, 1, -0.447214, -0.447214, -0.447214, 1, 1, 1, -0.447214, 1, -0.632456, -0.447214, -0.447214, -0.447214, -0.447214,
  1,
];

test.before(async () => {
  await writeVolume(at('spec.png'), { data: Uint8Array.from(SPEC), shape: [5, 6], spacing: [1, 1] });
  const square = (col: number) =>
    Uint8Array.from({ length: 30 }, (_, i) =>
      Math.floor(i / 6) >= 1 && Math.floor(i / 6) <= 3 && i % 6 >= col && i % 6 <= col + 2 ? 1 : 0,
    );
  await writeVolume(at('pred.png'), { data: square(2), shape: [5, 6], spacing: [1, 1] });
  await writeVolume(at('ref.png'), { data: square(1), shape: [5, 6], spacing: [1, 1] });
  await writeVolume(at('fractional.nii'), { data: Float32Array.from([0, 1, 0.5, 1]), shape: [2, 2], spacing: [1, 1] });
});

test('maps compute writes the spec rrw map as a float NIfTI with one channel per class, and PNGs per class', async (t) => {
  const result = await runCli([
    'maps',
    'compute',
    '--labels',
    at('spec.png'),
    '--map',
    'rrw',
    '--out',
    at('rrw.nii.gz'),
    '--json',
  ]);
  t.is(result.code, 0, result.stderr);
  const report = parseJson<{ numClasses: number; files: string[]; channels: { min: number; max: number }[] }>(result);
  t.is(report.numClasses, 3);
  t.deepEqual(report.channels[1], { min: -1, max: 1 });
  const volume = await readVolume(at('rrw.nii.gz'));
  t.is(volume.channels, 3);
  // NIfTI keeps channels on its 5th dimension, so a 2D map comes back with a leading axis of 1.
  t.deepEqual(volume.shape.slice(-3), [5, 6, 3]);
  t.is(volume.data.length, 90);
  const class0 = Array.from({ length: 30 }, (_, i) => volume.data[i * 3]!);
  t.true(
    class0.every((v, i) => Math.abs(v - RRW_CLASS0[i]!) < 1e-6),
    class0.join(' '),
  );

  const png = await runCli([
    'maps',
    'compute',
    '--labels',
    at('spec.png'),
    '--map',
    'active-contour',
    '--out',
    at('ac.png'),
  ]);
  t.is(png.code, 0, png.stderr);
  for (const k of [0, 1, 2]) t.true(existsSync(at(`ac-class${k}.png`)));
  const ac1 = await readVolume(at('ac-class1.png'));
  t.deepEqual(
    [...ac1.data],
    SPEC.map((l) => (l === 1 ? 0 : 65535)),
  );
});

sharedTest('maps compute on a real MSD hippocampus label takes the spacing from the NIfTI header', async (t) => {
  const labels = path.join(SHARED_DATA, 'msd-task04-hippocampus', 'labelsTr', 'hippocampus_001.nii.gz');
  const header = await readVolume(labels);
  const result = await runCli([
    'maps',
    'compute',
    '--labels',
    labels,
    '--map',
    'boundary',
    '--classes',
    '3',
    '--out',
    at('hippo-boundary.nii.gz'),
    '--json',
  ]);
  t.is(result.code, 0, result.stderr);
  const report = parseJson<{ spacing: number[]; shape: number[] }>(result);
  t.deepEqual(report.spacing, [...header.spacing]);
  t.deepEqual(report.shape, [...header.shape]);
  const map = await readVolume(at('hippo-boundary.nii.gz'));
  t.deepEqual(map.shape, [...header.shape, 3]);
});

test('maps check passes rrw and fails boundary (not scale-free) with exit code 1', async (t) => {
  const rrw = await runCli(['maps', 'check', '--labels', at('spec.png'), '--map', 'rrw', '--json']);
  t.is(rrw.code, 0, rrw.stderr);
  const report = parseJson<{ pass: boolean; violations: number; maxMargin: number }>(rrw);
  t.true(report.pass);
  t.is(report.violations, 0);
  t.true(Math.abs(report.maxMargin - 2) < 1e-6);
  const boundary = await runCli(['maps', 'check', '--labels', at('spec.png'), '--map', 'boundary']);
  t.is(boundary.code, 1);
  t.regex(boundary.stdout, /NOT scale-free/);
  t.regex(boundary.stdout, /FAIL/);
});

test('maps show writes a PNG figure with one panel per map and reports their ranges', async (t) => {
  const result = await runCli(['maps', 'show', '--labels', at('spec.png'), '--out', at('figure.png'), '--json']);
  t.is(result.code, 0, result.stderr);
  const report = parseJson<{ width: number; height: number; panels: { name: string; min: number; max: number }[] }>(
    result,
  );
  t.deepEqual(
    report.panels.map((p) => p.name),
    ['active-contour', 'boundary', 'rrw'],
  );
  t.deepEqual([report.panels[2]!.min, report.panels[2]!.max], [-1, 1]);
  const { PNG } = await import('pngjs');
  const { readFileSync } = await import('node:fs');
  const png = PNG.sync.read(readFileSync(at('figure.png')));
  t.is(png.width, report.width);
  t.is(png.height, report.height);
});

test('rwseg metrics prints per-class Dice/HD/HD95/ASSD/NSD for two label images', async (t) => {
  const result = await runCli(['metrics', '--pred', at('pred.png'), '--ref', at('ref.png'), '--json']);
  t.is(result.code, 0, result.stderr);
  const report = parseJson<{
    classes: { classIndex: number; dice: number; hd: number; hd95: number; assd: number; nsd: number }[];
  }>(result);
  t.is(report.classes.length, 1);
  const c = report.classes[0]!;
  t.true(Math.abs(c.dice - 12 / 18) < 1e-9);
  t.deepEqual([c.hd, c.hd95, c.assd, c.nsd], [1, 1, 0.5, 1]);
  const text = await runCli(['metrics', '--pred', at('pred.png'), '--ref', at('ref.png'), '--include-background']);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /^0\s+0\.\d+/m);
  t.regex(text.stdout, /^1\s+0\.6667\s+1\.000\s+1\.000\s+0\.500\s+1\.0000/m);
});

test('bad inputs exit 2 naming the file or the flag', async (t) => {
  const fractional = await runCli([
    'maps',
    'compute',
    '--labels',
    at('fractional.nii'),
    '--map',
    'rrw',
    '--out',
    at('x.nii'),
  ]);
  t.is(fractional.code, 2);
  t.regex(errorText(fractional), /fractional\.nii: label 0\.5 at voxel 2 \(\[1,0\]\) is not an integer/);
  const spacing = await runCli([
    'maps',
    'compute',
    '--labels',
    at('spec.png'),
    '--map',
    'rrw',
    '--spacing',
    '1,0',
    '--out',
    at('x.nii'),
  ]);
  t.is(spacing.code, 2);
  t.regex(errorText(spacing), /--spacing "1,0": .*spec\.png has 2 axes/);
  writeFileSync(at('broken.nii.gz'), 'not a nifti');
  const unreadable = await runCli(['metrics', '--pred', at('broken.nii.gz'), '--ref', at('ref.png')]);
  t.is(unreadable.code, 2);
  t.regex(errorText(unreadable), /broken\.nii\.gz/);
  const unknown = await runCli(['maps', 'check', '--labels', at('spec.png'), '--map', 'nope']);
  t.is(unknown.code, 2);
  t.regex(errorText(unknown), /unknown map 'nope'/);
});

test('a plugin author checks a new map from the CLI: a map that favors the true class is reported as violating P1', async (t) => {
  const project = makeUserProject();
  writePluginPackage(
    path.join(project, 'inverted-map'),
    'rwseg-plugin-inverted-map',
    `import { definePlugin, defineMap, PLUGIN_API_VERSION, z } from '@rwseg/core/plugin';
const inverted = defineMap({
  name: 'inverted-indicator',
  description: '1 on the true class, 0 elsewhere: the wrong way round',
  options: z.object({}),
  generate: ({ labels, numClasses }) => {
    const out = new Float32Array(labels.length * numClasses);
    for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]] = 1;
    return out;
  },
});
export default definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'inverted-map', maps: [inverted] });
`,
  );
  const result = await runCli(
    [
      'maps',
      'check',
      '--labels',
      at('spec.png'),
      '--map',
      'inverted-indicator',
      '--plugin',
      './inverted-map',
      '--json',
    ],
    { cwd: project },
  );
  t.is(result.code, 1, result.stderr);
  const report = parseJson<{ pass: boolean; strictMinimum: boolean; violations: number }>(result);
  t.false(report.strictMinimum);
  t.is(report.violations, 30);
});
