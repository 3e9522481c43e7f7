import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { BACKEND_CHOICES } from '@rwseg/core';
import { artifactNormalization } from '@rwseg/core/artifact';
import { segmentImage, TfjsWindowPredictor, withAnySpatialSize } from '@rwseg/core/inference';
import { labelFileName, labelFormatFor, readImage, writeVolume } from '@rwseg/core/io';
import { loadModelDir } from '@rwseg/core/training';
import { RwsegCommand } from '../base-command.js';
import { overlapFlag } from '../label-input.js';
import { modelSettings } from '../model-settings.js';

export default class Predict extends RwsegCommand {
  static override summary =
    'Segment one image (any format rwseg reads) with a trained model; writes the label map with its geometry.';
  static override description =
    "Runs the inference engine the server's /segment runs, with what the model's rwseg.json says: its " +
    'normalization, Gaussian-weighted sliding windows at its training patch (or the whole image at once, padded ' +
    "to the U-Net's size grid), a 2D model on a 3D volume slice by slice along the axis it was trained on, and " +
    'labels written in the values the training labels were stored with (its label map). --out names the file ' +
    '(its extension picks the format: .nii/.nii.gz, .png, .nrrd, .mha, .tif), or a folder: the labels are then ' +
    "written there under the image's name in the image's own format where rwseg writes it (NIfTI, PNG, NRRD, " +
    "MHA, TIFF), PNG for a 2D JPEG, GIF or BMP, NIfTI for DICOM, as the server's /segment answers.";
  static override examples = [
    '<%= config.bin %> predict --model runs/quickstart/model --input image.png --out labels.png',
    '<%= config.bin %> predict --model runs/hippo/model --input case.nii.gz --out case-labels.nii.gz --json',
    '<%= config.bin %> predict --model runs/drive/model --input 01_test.tif --out predictions/',
  ];
  static override flags = {
    model: Flags.string({ description: 'model folder written by training (<run>/model)', required: true }),
    input: Flags.string({
      description: 'image file (NIfTI, PNG, JPEG, GIF, BMP, TIFF, NRRD, MHA/MHD, DICOM) or a DICOM series folder',
      required: true,
    }),
    out: Flags.string({
      description:
        "label map to write (.nii, .nii.gz, .png, .nrrd, .mha, .tif), or a folder (existing, or ending in '/') " +
        "to write it in the image's format",
      required: true,
    }),
    normalization: Flags.option({
      options: ['zscore', 'percentile', 'none'] as const,
      description: "override the normalization the model was trained with (default: the model's)",
    })(),
    mode: Flags.option({
      options: ['sliding-window', 'whole-image'] as const,
      default: 'sliding-window',
      description: 'windows of the training patch, or the whole image at once (fully convolutional)',
    })(),
    overlap: Flags.string({ description: 'sliding-window overlap in [0, 1)', default: '0.5' }),
    'batch-size': Flags.integer({ min: 1, default: 4, description: 'windows per forward pass' }),
    'slice-axis': Flags.integer({
      min: 0,
      max: 2,
      description:
        "a 2D model on a 3D volume: the axis to predict slices along (default: the model's sliceAxis, else 0)",
    }),
    backend: Flags.option({ options: BACKEND_CHOICES as string[], default: 'auto' })(),
  };

  async run() {
    const { flags } = await this.parse(Predict);
    const overlap = overlapFlag('overlap', flags.overlap);
    const backend = await this.selectBackend(flags.backend as never);
    const { model } = await loadModelDir(flags.model);
    const { artifact, sliceAxis, labelValues } = modelSettings(
      flags.model,
      model.outputs[0]!.shape.at(-1)!,
      this.logger,
    );
    const read = await readImage(flags.input);
    const { volume } = read;
    const normalization = flags.normalization ? artifactNormalization(flags.normalization) : artifact.normalization;
    const net = flags.mode === 'whole-image' ? await withAnySpatialSize(model) : model;
    const result = await segmentImage(new TfjsWindowPredictor(net), volume, {
      normalization,
      mode: flags.mode,
      ...(artifact.patchSize ? { patch: artifact.patchSize } : {}),
      ...(artifact.sizeGrid ? { sizeGrid: artifact.sizeGrid } : {}),
      overlap,
      batchSize: flags['batch-size'],
      sliceAxis: flags['slice-axis'] ?? sliceAxis,
      imageName: flags.input,
      ...(labelValues ? { labelValues } : {}),
    });
    const out = labelTarget(flags.out, flags.input, read.format, result.shape.length);
    // A NIfTI image's own header (its qform/sform codes, units) for NIfTI labels; else the geometry below.
    const keepHeader = read.niftiHeader && /\.nii(\.gz)?$/i.test(out) ? { header: read.niftiHeader } : {};
    const labels = {
      data: result.labels,
      shape: result.shape,
      spacing: volume.spacing.slice(0, result.shape.length),
      // Same geometry as the image, so the labels overlay it in a viewer (NIfTI sform/qform, NRRD, MHA).
      ...(volume.orientation ? { orientation: volume.orientation } : {}),
    };
    await writeVolume(out, labels, keepHeader);
    const { shape, classes: numClasses, voxelsPerClass } = result;
    if (!this.jsonEnabled())
      this.log(
        `wrote ${out}: ${shape.join('x')} labels, voxels per class ${voxelsPerClass.join(', ')} ` +
          `(${flags.mode}, ${normalization.method} normalization, backend ${backend})`,
      );
    return {
      out,
      shape,
      numClasses,
      voxelsPerClass,
      mode: flags.mode,
      normalization: normalization.method,
      backend,
    };
  }
}

/** --out as given when it names a file; for a folder, the image's name in the format core's rule picks. */
function labelTarget(out: string, input: string, format: Parameters<typeof labelFormatFor>[0], rank: number): string {
  const isFolder = /[\\/]$/.test(out) || (existsSync(out) && statSync(out).isDirectory());
  if (!isFolder) return out;
  return path.join(out, labelFileName(input, labelFormatFor(format, rank)));
}
