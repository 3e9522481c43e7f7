import { Flags } from '@oclif/core';
import { RwsegError } from '@rwseg/core';
import { computeSegmentationMetrics } from '@rwseg/core/metrics';
import { RwsegCommand } from '../base-command.js';
import { labelFileFlags, positiveNumberFlag, readLabelFile } from '../label-input.js';

export default class Metrics extends RwsegCommand {
  static override summary =
    'Per-class Dice, HD, HD95, ASSD and NSD (mm) between a predicted and a reference label image.';
  static override description =
    'Definitions and the empty-mask policy are in docs/metrics.md (HD95: max of the two directed 95th percentiles; both masks empty: Dice 1, distances 0; one empty: Dice 0, distances NaN, printed as null with --json). Spacing comes from the reference file unless --spacing is given.';
  static override examples = [
    '<%= config.bin %> metrics --pred pred.nii.gz --ref label.nii.gz',
    '<%= config.bin %> metrics --pred pred.png --ref label.png --num-classes 3 --nsd-tolerance 2 --json',
  ];
  static override flags = {
    pred: Flags.string({ description: 'predicted label image (.nii, .nii.gz or .png)', required: true }),
    ref: Flags.string({ description: 'reference label image, same shape', required: true }),
    ...labelFileFlags,
    'num-classes': Flags.integer({
      description: 'number of classes K (default: largest class in either + 1; also --classes)',
      min: 1,
      aliases: ['classes'],
    }),
    spacing: Flags.string({ description: "voxel spacing in mm, comma-separated (default: the reference's)" }),
    'include-background': Flags.boolean({ description: 'also report class 0', default: false }),
    'nsd-tolerance': Flags.string({ description: 'normalized surface Dice tolerance in mm (default 1)' }),
  };

  async run() {
    const { flags } = await this.parse(Metrics);
    const read = { classes: flags['num-classes'], labelMap: flags['label-map'], logger: this.logger };
    const ref = await readLabelFile(flags.ref, { ...read, spacing: flags.spacing });
    const pred = await readLabelFile(flags.pred, { ...read, spacing: flags.spacing ?? ref.spacing.join(',') });
    if (pred.shape.join('x') !== ref.shape.join('x')) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${flags.pred} has shape [${pred.shape.join(', ')}] but ${flags.ref} has [${ref.shape.join(', ')}]`,
        { pred: flags.pred, ref: flags.ref },
      );
    }
    const numClasses = flags['num-classes'] ?? Math.max(pred.numClasses, ref.numClasses);
    const nsdTolerance = positiveNumberFlag('nsd-tolerance', flags['nsd-tolerance']) ?? 1;
    const classes = computeSegmentationMetrics(pred.labels, ref.labels, ref.shape, ref.spacing, {
      numClasses,
      includeBackground: flags['include-background'],
      nsdTolerance,
    });
    if (!this.jsonEnabled()) {
      const f = (v: number, d: number) => (Number.isNaN(v) ? 'NaN' : v.toFixed(d));
      this.log(
        `shape [${ref.shape.join(', ')}], spacing [${ref.spacing.join(', ')}] mm, NSD tolerance ${nsdTolerance} mm`,
      );
      this.log('class   Dice     HD (mm)   HD95 (mm)  ASSD (mm)  NSD');
      for (const c of classes) {
        this.log(
          `${String(c.classIndex).padEnd(7)} ${f(c.dice, 4).padEnd(8)} ${f(c.hd, 3).padEnd(9)} ${f(c.hd95, 3).padEnd(10)} ${f(c.assd, 3).padEnd(10)} ${f(c.nsd, 4)}`,
        );
      }
    }
    // JSON has no NaN: undefined distances are null.
    const json = classes.map((c) =>
      Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Number.isNaN(v) ? null : v])),
    );
    return {
      pred: flags.pred,
      ref: flags.ref,
      shape: ref.shape,
      spacing: ref.spacing,
      numClasses,
      nsdTolerance,
      classes: json,
    };
  }
}
