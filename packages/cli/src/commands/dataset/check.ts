import { Args } from '@oclif/core';
import { RwsegError } from '@rwseg/core';
import { checkDataset, openDataset } from '@rwseg/core/data';
import { RwsegCommand } from '../../base-command.js';
import { datasetFlags, datasetOptionsFromFlags } from '../../dataset-flags.js';

/** How `dataset check` names where a spacing came from. */
const SPACING_SOURCE_NAMES: Record<string, string> = {
  header: 'file header',
  'tiff-resolution': 'TIFF resolution tags',
  imagej: 'ImageJ calibration',
  dicom: 'DICOM PixelSpacing + slice positions',
  none: 'none (1 per pixel)',
};

export default class DatasetCheck extends RwsegCommand {
  static override summary =
    'Validate a dataset: pairing, formats, spacing sources, shapes, label values; report class frequencies and sizes.';
  static override description =
    'PATH is a folder with dataset.json (Medical Segmentation Decathlon or nnU-Net v2 layout, any file_ending ' +
    'rwseg reads), a folder with images/ and labels/ (any formats, which may differ: TIFF images with GIF masks, ' +
    'JPEG with PNG; sub-folders of images/ are DICOM series), or "synthetic". Masks holding only 0 and 255 are ' +
    'read as classes 0 and 1 with a notice. Exits 2 when a problem is found, naming the file.';
  static override examples = [
    '<%= config.bin %> dataset check ./Task04_Hippocampus',
    '<%= config.bin %> dataset check ./isbi --label-map 0:1,255:0 --json',
    '<%= config.bin %> dataset check ./vnc --labels labels_5class --num-classes 5',
    '<%= config.bin %> dataset check ./DRIVE/training --labels 1st_manual --image-suffix _training --mask-suffix ' +
      '_manual1',
    '<%= config.bin %> dataset check ./ISIC2018 --mask-suffix _segmentation --image-glob "*.jpg"',
  ];
  static override args = { path: Args.string({ required: true, description: 'dataset folder, or "synthetic"' }) };
  static override flags = datasetFlags;

  async run() {
    const { args, flags } = await this.parse(DatasetCheck);
    const info = openDataset(args.path, datasetOptionsFromFlags(flags));
    const interactive = !this.jsonEnabled() && process.stderr.isTTY;
    const started = Date.now();
    const report = await checkDataset(info, (done, total, id) => {
      if (!interactive) return;
      const elapsed = (Date.now() - started) / 1000;
      const eta = done > 0 ? (elapsed / done) * (total - done) : 0;
      process.stderr.write(`\r  checking ${done}/${total} (${id}) ETA ${eta.toFixed(0)} s   `);
    });
    if (interactive) process.stderr.write('\n');
    for (const notice of report.notices) this.logToStderr(`notice: ${notice}`);
    if (!this.jsonEnabled()) {
      this.log(
        `${report.name} (${report.kind}): ${report.trainingCases} training, ${report.testCases} test cases; channels ${report.channels.join(', ')}`,
      );
      if (report.pairing) this.log(`pairing: ${report.pairing}`);
      const table = (counts: Record<string, number>) =>
        Object.entries(counts)
          .map(([name, n]) => `${name} x${n}`)
          .join(', ') || '-';
      if (report.kind !== 'synthetic') {
        this.log(`formats: images ${table(report.formats.images)}; labels ${table(report.formats.labels)}`);
        const sources = Object.entries(report.spacingSources).map(([k, n]) => [SPACING_SOURCE_NAMES[k] ?? k, n!]);
        this.log(`spacing from: ${table(Object.fromEntries(sources))}`);
      }
      this.log(
        `shape min [${report.shape.min.join(', ')}] max [${report.shape.max.join(', ')}]; spacings ${report.spacings.map((s) => `[${s.join(', ')}]`).join(' ')}`,
      );
      report.classNames.forEach((name, k) => {
        this.log(
          `  class ${k} ${name}: ${(100 * report.classFrequency[k]!).toFixed(2)}% of voxels, in ${report.casesWithClass[k]} case(s)`,
        );
      });
    }
    if (!report.ok) {
      const list = report.problems
        .slice(0, 20)
        .map((p) => `  ${p.message}`)
        .join('\n');
      const more = report.problems.length > 20 ? `\n  ... and ${report.problems.length - 20} more` : '';
      throw new RwsegError(
        'INVALID_INPUT',
        `${report.problems.length} problem(s) in dataset ${report.name}:\n${list}${more}`,
        { report },
      );
    }
    if (!this.jsonEnabled()) this.log('ok');
    return report;
  }
}
