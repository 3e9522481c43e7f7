/**
 * What the `maps` and `metrics` commands share: reading an integer label image (NIfTI or PNG) into a
 * LabelMapInput, with spacing from the file unless --spacing overrides it, and map options from --option.
 */
import { checkLabelMap, readVolume, RwsegError, type LabelMapInput, type Volume } from '@rwseg/core';

/** "0.8,0.8,2.5" -> numbers, one per axis of the image (same order as its shape). */
export function parseSpacing(text: string | undefined, file: string, rank: number): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length !== rank || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new RwsegError('INVALID_OPTIONS', `--spacing "${text}": ${file} has ${rank} axes; give ${rank} positive numbers separated by commas (mm, in the image's axis order)`, {
      option: 'spacing',
    });
  }
  return values;
}

/** --option key=value (repeatable); values are JSON when they parse as JSON (weights=[0.9,0.1]), else strings. */
export function parseMapOptions(pairs: readonly string[] | undefined): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new RwsegError('INVALID_OPTIONS', `--option "${pair}": use key=value, e.g. --option weights=[0.9,0.1]`, { option: 'option' });
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
}

/** Reads a label image; numClasses defaults to the largest label + 1 (at least 2). Bad labels name the file. */
export async function readLabelFile(file: string, options: { classes?: number; spacing?: string } = {}): Promise<LabelFile> {
  const volume = await readVolume(file);
  if (volume.channels && volume.channels > 1) {
    throw new RwsegError('INVALID_INPUT', `${file}: a label image has one channel, this one has ${volume.channels}`, { file });
  }
  const labels = volume.data;
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  const numClasses = options.classes ?? Math.max(2, Math.floor(max) + 1);
  const spacing = parseSpacing(options.spacing, file, volume.shape.length) ?? [...volume.spacing];
  checkLabelMap(file, labels, volume.shape, spacing, numClasses);
  return { file, volume, labels, shape: volume.shape, spacing, numClasses };
}
