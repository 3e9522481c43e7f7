/**
 * What the `maps` and `metrics` commands share: reading an integer label image (NIfTI or PNG) into a
 * LabelMapInput, with spacing from the file unless --spacing overrides it, stored values mapped to classes by
 * --label-map (or a 0/255 mask read as classes 0/1, with a notice), and map options from --option.
 */
import { Flags } from '@oclif/core';
import { RwsegError, type Logger } from '@rwseg/core';
import { BINARY_MASK_MAPPING, isZero255Mask } from '@rwseg/core/data';
import { checkLabelMap } from '@rwseg/core/distance';
import { readVolume, type Volume } from '@rwseg/core/io';
import { type LabelMapInput } from '@rwseg/core/plugin';
import { LABEL_MAP_HELP, parseLabelMapFlag } from './label-map-flag.js';

/** The flags every label-reading command takes. */
export const labelFileFlags = {
  'num-classes': Flags.integer({
    description: 'number of classes K (default: largest class + 1; also --classes)',
    min: 1,
    aliases: ['classes'],
  }),
  spacing: Flags.string({ description: 'voxel spacing in mm, comma-separated (default: from the file)' }),
  'label-map': Flags.string({
    description: `${LABEL_MAP_HELP} (default: values are classes; a 0/255 mask is read as 0/1)`,
  }),
};

/** A positive number given as a string flag; the error names the flag. */
export function positiveNumberFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new RwsegError('INVALID_OPTIONS', `--${name} ${JSON.stringify(text)}: expected a positive number`, {
      option: name,
    });
  }
  return value;
}

/** A fraction in [0, 1) given as a string flag (--overlap); the error names the flag. */
export function overlapFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value < 1)) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `--${name} ${JSON.stringify(text)}: expected a number in [0, 1) (the fraction of a window its neighbors share)`,
      { option: name },
    );
  }
  return value;
}

/** "0.8,0.8,2.5" -> numbers, one per axis of the image (same order as its shape). */
export function parseSpacing(text: string | undefined, file: string, rank: number): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length !== rank || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `--spacing "${text}": ${file} has ${rank} axes; give ${rank} positive numbers separated by commas (mm, in the image's axis order)`,
      {
        option: 'spacing',
      },
    );
  }
  return values;
}

/** --option key=value (repeatable); values are JSON when they parse as JSON (weights=[0.9,0.1]), else strings. */
export function parseMapOptions(pairs: readonly string[] | undefined): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new RwsegError('INVALID_OPTIONS', `--option "${pair}": use key=value, e.g. --option weights=[0.9,0.1]`, {
        option: 'option',
      });
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A bare word stays a string.
    }
    options[pair.slice(0, eq)] = value;
  }
  return options;
}

export interface LabelFile extends LabelMapInput {
  readonly file: string;
  readonly volume: Volume;
  /** Stored value -> class, when the stored values were not the classes themselves. */
  readonly labelMap?: Record<string, number>;
}

export interface ReadLabelOptions {
  classes?: number;
  spacing?: string;
  /** The --label-map flag's text. */
  labelMap?: string;
  /** Where the notice about a 0/255 mask goes. */
  logger?: Logger;
}

/**
 * Reads a label image; numClasses defaults to the largest class + 1 (at least 2). A mask holding only 0 and 255
 * (how most 2D binary masks are stored) is read as classes 0 and 1 with a notice, unless --num-classes or --label-map
 * says otherwise. Bad labels name the file.
 */
export async function readLabelFile(file: string, options: ReadLabelOptions = {}): Promise<LabelFile> {
  const volume = await readVolume(file);
  if (volume.channels && volume.channels > 1) {
    throw new RwsegError('INVALID_INPUT', `${file}: a label image has one channel, this one has ${volume.channels}`, {
      file,
    });
  }
  let labels: ArrayLike<number> = volume.data;
  let labelMap = options.labelMap === undefined ? undefined : parseLabelMapFlag(options.labelMap);
  if (!labelMap && options.classes === undefined && isZero255Mask(labels)) {
    labelMap = { ...BINARY_MASK_MAPPING };
    options.logger?.info(
      `${file} holds only the values 0 and 255: read as classes 0 and 1 (--label-map or --num-classes to change)`,
    );
  }
  if (labelMap) labels = applyLabelMap(file, labels, labelMap);
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  const numClasses = options.classes ?? Math.max(2, Math.floor(max) + 1);
  const spacing = parseSpacing(options.spacing, file, volume.shape.length) ?? [...volume.spacing];
  checkLabelMap(file, labels, volume.shape, spacing, numClasses);
  return { file, volume, labels, shape: volume.shape, spacing, numClasses, ...(labelMap ? { labelMap } : {}) };
}

function applyLabelMap(file: string, values: ArrayLike<number>, map: Record<string, number>): Uint8Array | Int32Array {
  const classes = Object.values(map);
  const out = Math.max(...classes) < 256 ? new Uint8Array(values.length) : new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const cls = map[String(values[i])];
    if (cls === undefined) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${file}: voxel ${i} holds ${values[i]}, which --label-map does not name (it maps ${Object.keys(map).join(', ')})`,
        { file, value: values[i] },
      );
    }
    out[i] = cls;
  }
  return out;
}
