import { Flags } from '@oclif/core';
import { checkMapPrinciples } from '@rwseg/core/maps';
import { RwsegCommand } from '../../base-command.js';
import { parseMapOptions, labelFileFlags, positiveNumberFlag, readLabelFile } from '../../label-input.js';

export default class MapsCheck extends RwsegCommand {
  static override summary =
    'Check a registered map against the RW principle: P1 strict minimum, bounded scale-free margins, P3 gradient bound.';
  static override description =
    'Runs the map on the label image and on its x2 nearest-neighbor upsampling and reports P1 violations and ties, min/max margin and their ratio, max |z|, the P3 gradient bound, and whether the largest margin stays put. Exits 1 when the map fails (P1 violated or tied, or margins not scale-free).';
  static override examples = [
    '<%= config.bin %> maps check --labels mask.png --map rrw',
    '<%= config.bin %> maps check --labels case.nii.gz --map my-map --plugin ./my-plugin --json',
  ];
  static override flags = {
    labels: Flags.string({ description: 'label image (.nii, .nii.gz or .png)', required: true }),
    map: Flags.string({ description: 'registered map name', required: true }),
    ...labelFileFlags,
    option: Flags.string({ description: 'map option key=value (repeatable; JSON values)', multiple: true }),
    'scale-tolerance': Flags.string({
      description: 'relative change of the largest margin still called scale-free (default 0.1)',
    }),
  };

  async run() {
    const { flags } = await this.parse(MapsCheck);
    const registry = await this.loadRegistry(flags.plugin ?? []);
    const generator = registry.createMapGenerator(flags.map, parseMapOptions(flags.option));
    const input = await readLabelFile(flags.labels, {
      classes: flags['num-classes'],
      spacing: flags.spacing,
      labelMap: flags['label-map'],
      logger: this.logger,
    });
    const tolerance = positiveNumberFlag('scale-tolerance', flags['scale-tolerance']);
    const report = checkMapPrinciples(generator, input, { scaleTolerance: tolerance });
    if (!this.jsonEnabled()) {
      const f = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
      this.log(
        `map ${report.map} on ${flags.labels} (shape [${report.shape.join(', ')}], ${report.numClasses} classes)`,
      );
      this.log(
        `  P1 strict minimum: ${report.strictMinimum ? 'yes' : 'NO'} (${report.violations} violating voxels, ${report.ties} ties)`,
      );
      this.log(
        `  margins: min ${f(report.minMargin)}, max ${f(report.maxMargin)}, ratio ${f(report.marginRatio)}; max |z| ${f(report.maxAbs)}`,
      );
      this.log(`  P3 gradient bound: ${report.gradientBound.toExponential(3)}`);
      this.log(
        `  x${report.upsampled.factor} upsampled: max margin ${f(report.upsampled.maxMargin)} (x${f(report.upsampled.maxMarginRatio)}), min margin ${f(report.upsampled.minMargin)} -> ${report.scaleFree ? 'scale-free' : 'NOT scale-free'}`,
      );
      this.log(report.pass ? 'PASS' : 'FAIL');
    }
    if (!report.pass) process.exitCode = 1;
    return report;
  }
}
