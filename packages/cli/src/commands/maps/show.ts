import { Flags } from '@oclif/core';
import { RwsegError } from '@rwseg/core';
import { writeFileAtomic } from '@rwseg/core/io';
import { mapFigurePng } from '@rwseg/core/maps';
import { RwsegCommand } from '../../base-command.js';
import { labelFileFlags, readLabelFile } from '../../label-input.js';

export default class MapsShow extends RwsegCommand {
  static override summary = 'Write a PNG figure of a label image and its RW maps side by side, with color scales.';
  static override description =
    "Panels left to right: the labels, then each map for one class (default 1), on a diverging scale (blue negative, white 0, red positive) symmetric at each panel's max |z|, with its color bar below. 3D images show their middle slice along the first axis. The panel ranges are printed (and returned with --json).";
  static override examples = [
    '<%= config.bin %> maps show --labels mask.png --out figure.png',
    '<%= config.bin %> maps show --labels case.nii.gz --maps rrw,boundary --class 2 --out fig.png',
  ];
  static override flags = {
    labels: Flags.string({ description: 'label image (.nii, .nii.gz or .png)', required: true }),
    maps: Flags.string({ description: 'comma-separated registered maps', default: 'active-contour,boundary,rrw' }),
    class: Flags.integer({ description: 'class whose map channel is shown', default: 1, min: 0 }),
    ...labelFileFlags,
    out: Flags.string({ description: 'output PNG', required: true }),
  };

  async run() {
    const { flags } = await this.parse(MapsShow);
    if (!flags.out.toLowerCase().endsWith('.png'))
      throw new RwsegError('INVALID_OPTIONS', `--out ${flags.out}: the figure is a PNG; name it .png`, {
        option: 'out',
      });
    const registry = await this.loadRegistry(flags.plugin ?? []);
    const names = flags.maps
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const generators = names.map((name) => registry.createMapGenerator(name));
    const input = await readLabelFile(flags.labels, {
      classes: flags['num-classes'],
      spacing: flags.spacing,
      labelMap: flags['label-map'],
      logger: this.logger,
    });
    if (flags.class >= input.numClasses) {
      throw new RwsegError(
        'INVALID_OPTIONS',
        `--class ${flags.class}: ${flags.labels} has ${input.numClasses} classes (0..${input.numClasses - 1})`,
        { option: 'class' },
      );
    }
    const figure = mapFigurePng(
      input.labels,
      input.shape,
      input.numClasses,
      flags.class,
      generators.map((g) => ({ name: g.map, map: g.generate(input) })),
    );
    writeFileAtomic(flags.out, figure.png);
    if (!this.jsonEnabled()) {
      this.log(
        `${flags.out}: ${figure.width}x${figure.height}, panels: labels, ${figure.panels.map((p) => `${p.name} [${p.min.toFixed(3)}, ${p.max.toFixed(3)}] (scale +-${p.limit.toFixed(3)})`).join(', ')}`,
      );
    }
    return {
      out: flags.out,
      width: figure.width,
      height: figure.height,
      classIndex: flags.class,
      panels: figure.panels,
    };
  }
}
