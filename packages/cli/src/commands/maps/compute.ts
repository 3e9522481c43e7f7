import { Flags } from '@oclif/core';
import { RwsegError } from '@rwseg/core';
import { imageExtension, writeVolume } from '@rwseg/core/io';
import { RwsegCommand } from '../../base-command.js';
import { parseMapOptions, labelFileFlags, readLabelFile } from '../../label-input.js';

export default class MapsCompute extends RwsegCommand {
  static override summary = 'Compute a registered RW map (rrw, boundary, active-contour, ...) from a label image.';
  static override description =
    "Reads a NIfTI (.nii, .nii.gz; spacing from the header) or PNG label image and writes the map channels-last: a float32 NIfTI with one channel per class, or one 16-bit PNG per class (<out>-class<k>.png, values scaled linearly from each channel's [min, max], reported in the output).";
  static override examples = [
    '<%= config.bin %> maps compute --labels hippocampus_001.nii.gz --map rrw --num-classes 3 --out rrw.nii.gz',
    '<%= config.bin %> maps compute --labels mask.png --map rw-class-balance --option weights=[0.95,0.05] --out map.nii',
  ];
  static override flags = {
    labels: Flags.string({ description: 'label image (.nii, .nii.gz or .png)', required: true }),
    map: Flags.string({ description: 'registered map name (see rwseg plugins)', required: true }),
    ...labelFileFlags,
    spacing: Flags.string({
      description: "voxel spacing in mm, comma-separated in the image's axis order (default: from the file)",
    }),
    option: Flags.string({ description: 'map option key=value (repeatable; JSON values)', multiple: true }),
    out: Flags.string({ description: 'output file: .nii, .nii.gz or .png', required: true }),
  };

  async run() {
    const { flags } = await this.parse(MapsCompute);
    const registry = await this.loadRegistry(flags.plugin ?? []);
    const generator = registry.createMapGenerator(flags.map, parseMapOptions(flags.option));
    const input = await readLabelFile(flags.labels, {
      classes: flags['num-classes'],
      spacing: flags.spacing,
      labelMap: flags['label-map'],
      logger: this.logger,
    });
    const map = generator.generate(input);
    const K = input.numClasses;
    const channels = Array.from({ length: K }, (_, k) => channelRange(map, k, K));
    const ext = imageExtension(flags.out);
    let files: string[];
    if (ext === '.png') {
      if (input.shape.length !== 2)
        throw new RwsegError(
          'INVALID_OPTIONS',
          `--out ${flags.out}: PNG output needs a 2D label image; ${flags.labels} has shape [${input.shape.join(', ')}]; write .nii.gz instead`,
          { option: 'out' },
        );
      const base = flags.out.slice(0, -ext.length);
      files = [];
      for (let k = 0; k < K; k++) {
        const { min, max } = channels[k]!;
        const scale = max > min ? 65535 / (max - min) : 0;
        const data = new Uint16Array(map.length / K);
        for (let i = 0; i < data.length; i++) data[i] = Math.round((map[i * K + k]! - min) * scale);
        const file = `${base}-class${k}.png`;
        await writeVolume(file, { data, shape: input.shape, spacing: input.spacing }, { bitDepth: 16 });
        files.push(file);
      }
    } else {
      await writeVolume(flags.out, { data: map, shape: [...input.shape, K], spacing: input.spacing, channels: K });
      files = [flags.out];
    }
    if (!this.jsonEnabled()) {
      this.log(
        `${generator.map} map of ${flags.labels} (shape [${input.shape.join(', ')}], spacing [${input.spacing.join(', ')}] mm, ${K} classes) -> ${files.join(', ')}`,
      );
      channels.forEach((c, k) => this.log(`  class ${k}: min ${c.min.toFixed(4)}, max ${c.max.toFixed(4)}`));
    }
    return {
      map: generator.map,
      options: generator.options,
      key: generator.key,
      shape: input.shape,
      spacing: input.spacing,
      numClasses: K,
      files,
      channels,
    };
  }
}

function channelRange(map: Float32Array, k: number, K: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = k; i < map.length; i += K) {
    if (map[i]! < min) min = map[i]!;
    if (map[i]! > max) max = map[i]!;
  }
  return { min, max };
}
