import { Flags } from '@oclif/core';
import { argmaxLabels, BACKEND_CHOICES, loadModelDir, normalizeChannels, predictCase, readVolume, RwsegError, useBackend, writeVolume } from '@rwseg/core';
import { RwsegCommand } from '../base-command.js';
import { runPreprocessing } from '../run-config.js';

export default class Predict extends RwsegCommand {
  static override summary = 'Segment one image (NIfTI or PNG) with a trained model; writes the label map (NIfTI or PNG, by extension).';
  static override description = 'Sliding-window inference with Gaussian-weighted overlap at the model\'s patch size, after the same per-image normalisation as training. A 2D model on a 3D volume predicts it slice by slice along --slice-axis.';
  static override examples = ['<%= config.bin %> predict --model runs/quickstart/model --input image.png --out labels.png', '<%= config.bin %> predict --model runs/hippo/model --input case.nii.gz --out case-labels.nii.gz --json'];
  static override flags = {
    model: Flags.string({ description: 'model folder written by training (<run>/model)', required: true }),
    input: Flags.string({ description: 'image file (.nii, .nii.gz, .png)', required: true }),
    out: Flags.string({ description: 'label map to write (.nii, .nii.gz, .png)', required: true }),
    normalization: Flags.option({ options: ['zscore', 'percentile', 'none'] as const, default: 'zscore', description: 'as the model was trained with' })(),
    overlap: Flags.string({ description: 'sliding-window overlap in [0, 1)', default: '0.5' }),
    'slice-axis': Flags.integer({ min: 0, max: 2, description: 'a 2D model on a 3D volume: the axis to predict slices along (default: the model run\'s preprocessing.sliceAxis, else 0)' }),
    backend: Flags.option({ options: BACKEND_CHOICES as string[], default: 'auto' })(),
  };

  async run() {
    const { flags } = await this.parse(Predict);
    const backend = await useBackend(flags.backend as never, { logger: this.logger });
    const { model } = await loadModelDir(flags.model);
    const inputShape = model.inputs[0]!.shape;
    const patch = inputShape.slice(1, -1) as number[];
    const channels = inputShape.at(-1)!;
    const volume = await readVolume(flags.input);
    const imageChannels = volume.channels ?? 1;
    const shape = volume.channels ? volume.shape.slice(0, -1) : [...volume.shape];
    if (imageChannels !== channels || (shape.length !== patch.length && shape.length !== patch.length + 1)) {
      throw new RwsegError('INVALID_INPUT', `${flags.input} is ${shape.length}D with ${imageChannels} channel(s), but the model in ${flags.model} takes ${patch.length}D patches with ${channels} channel(s) (${patch.length}D images, or ${patch.length + 1}D slice by slice)`, { file: flags.input });
    }
    const data = Float32Array.from(volume.data as ArrayLike<number>);
    normalizeChannels(data, channels, { normalization: flags.normalization });
    const sliceAxis = flags['slice-axis'] ?? runPreprocessing(flags.model).sliceAxis ?? 0;
    const probs = await predictCase(model, data, shape, channels, { patch, overlap: Number(flags.overlap), sliceAxis });
    const numClasses = probs.length / data.length * channels;
    const labels = argmaxLabels(probs, numClasses);
    await writeVolume(flags.out, { data: Uint8Array.from(labels), shape, spacing: volume.spacing });
    const counts = Array.from({ length: numClasses }, (_, k) => labels.reduce((n, l) => n + (l === k ? 1 : 0), 0));
    if (!this.jsonEnabled()) this.log(`wrote ${flags.out}: ${shape.join('x')} labels, voxels per class ${counts.join(', ')} (backend ${backend})`);
    return { out: flags.out, shape, numClasses, voxelsPerClass: counts, backend };
  }
}
