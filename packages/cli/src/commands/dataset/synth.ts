import { Flags } from '@oclif/core';
import { RwsegError } from '@rwseg/core';
import { writeSyntheticDataset } from '@rwseg/core/data';
import path from 'node:path';
import { RwsegCommand } from '../../base-command.js';

function parseList(text: string, flag: string): number[] {
  const values = text.split(/[x,]/).map(Number);
  if (values.some((v) => !Number.isFinite(v)))
    throw new RwsegError('INVALID_OPTIONS', `--${flag} "${text}" must be numbers like 64x64 or 1,1`, { option: flag });
  return values;
}

export default class DatasetSynth extends RwsegCommand {
  static override summary =
    'Write the built-in synthetic dataset (seeded shapes) in the Decathlon layout as .nii.gz with dataset.json.';
  static override examples = [
    '<%= config.bin %> dataset synth --out ./synthetic2d',
    '<%= config.bin %> dataset synth --out ./synthetic3d --dim 3 --size 48x48x48 --cases 12 --num-classes 4 --seed 7',
  ];
  static override flags = {
    out: Flags.string({ required: true, description: 'output folder' }),
    dim: Flags.option({
      options: ['2', '3'] as const,
      description: 'image dimensionality (default: the rank of --size, else 2)',
    })(),
    size: Flags.string({ description: 'spatial size, e.g. 96x96 or 48x48x48 (default by --dim)' }),
    cases: Flags.integer({ default: 24, min: 1, description: 'number of cases' }),
    'num-classes': Flags.integer({
      default: 3,
      min: 2,
      max: 8,
      description: 'classes including background (also --classes)',
      aliases: ['classes'],
    }),
    seed: Flags.integer({ default: 0, description: 'random seed' }),
    'object-scale': Flags.string({ description: 'object size multiplier; below 1 makes foreground rarer (default 1)' }),
    'class-weights': Flags.string({ description: 'relative frequency of each foreground class, e.g. 1,0.2' }),
    noise: Flags.string({ description: 'noise relative to class contrast (default 0.15)' }),
    spacing: Flags.string({ description: 'voxel spacing in mm, e.g. 1x1 or 3x1x1' }),
  };

  async run() {
    const { flags } = await this.parse(DatasetSynth);
    const number = (text: string | undefined, flag: string) =>
      text === undefined ? undefined : parseList(text, flag)[0];
    const options = {
      // Without --dim, a 3-axis --size means 3D (the generator's rule).
      ...(flags.dim ? { dim: Number(flags.dim) as 2 | 3 } : {}),
      cases: flags.cases,
      numClasses: flags['num-classes'],
      seed: flags.seed,
      ...(flags.size ? { size: parseList(flags.size, 'size') } : {}),
      ...(flags.spacing ? { spacing: parseList(flags.spacing, 'spacing') } : {}),
      ...(flags['class-weights'] ? { classWeights: parseList(flags['class-weights'], 'class-weights') } : {}),
      ...(flags['object-scale'] ? { objectScale: number(flags['object-scale'], 'object-scale') } : {}),
      ...(flags.noise ? { noise: number(flags.noise, 'noise') } : {}),
    };
    const out = path.resolve(flags.out);
    const interactive = !this.jsonEnabled() && process.stderr.isTTY;
    const info = await writeSyntheticDataset(out, options, (done, total) => {
      if (interactive) process.stderr.write(`\r  writing case ${done}/${total}   `);
    });
    if (interactive) process.stderr.write('\n');
    const result = {
      out,
      dataset: path.join(out, 'dataset.json'),
      cases: info.training.length,
      classNames: info.classNames,
      options: info.synthetic,
    };
    if (!this.jsonEnabled()) this.log(`wrote ${result.cases} cases to ${out} (classes: ${info.classNames.join(', ')})`);
    return result;
  }
}
