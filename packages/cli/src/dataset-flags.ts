/** The flags that say how to open a dataset, shared by `rwseg dataset check` and `rwseg dataset convert`. */
import { Flags } from '@oclif/core';
import { RwsegError, type LabelMapping, type OpenDatasetOptions } from '@rwseg/core';

/** Parses --label-map: "0:0,255:1" (stored value:class) or "0,255" (stored values, position = class). */
export function parseLabelMap(text: string): LabelMapping {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const bad = () =>
    new RwsegError(
      'INVALID_OPTIONS',
      `--label-map "${text}": use value:class pairs like 0:0,255:1 or a list of grey values like 0,255`,
      { option: 'label-map' },
    );
  if (parts.length === 0) throw bad();
  if (parts.every((p) => p.includes(':'))) {
    const out: Record<string, number> = {};
    for (const p of parts) {
      const [value, cls] = p.split(':').map(Number);
      if (!Number.isFinite(value) || !Number.isInteger(cls)) throw bad();
      out[String(value)] = cls!;
    }
    return out;
  }
  const values = parts.map(Number);
  if (values.some((v) => !Number.isFinite(v))) throw bad();
  return values;
}

export const datasetFlags = {
  'label-map': Flags.string({
    description: 'folders: stored label value to class, "0:0,255:1", or grey values in class order, "0,255"',
  }),
  labels: Flags.string({ description: 'folders: mask sub-folder (default labels)' }),
  images: Flags.string({ description: 'folders: image sub-folder (default images)' }),
  classes: Flags.integer({ description: 'folders without a label map: number of classes (default 2)', min: 2 }),
  'image-suffix': Flags.string({
    description: 'folders: image name part after the case id, e.g. _training (21_training.tif)',
  }),
  'mask-suffix': Flags.string({
    description: 'folders: mask name = case id + this, any format, e.g. _manual1 (21_manual1.gif)',
  }),
  'image-glob': Flags.string({
    description: 'folders: which files of the image folder are images, e.g. "*_training.tif"',
  }),
};

type DatasetFlagValues = {
  'label-map'?: string;
  labels?: string;
  images?: string;
  classes?: number;
  'image-suffix'?: string;
  'mask-suffix'?: string;
  'image-glob'?: string;
};

export function datasetOptionsFromFlags(flags: DatasetFlagValues): OpenDatasetOptions {
  return {
    ...(flags['label-map'] ? { labelMapping: parseLabelMap(flags['label-map']) } : {}),
    ...(flags.labels ? { labels: flags.labels } : {}),
    ...(flags.images ? { images: flags.images } : {}),
    ...(flags.classes ? { numClasses: flags.classes } : {}),
    ...(flags['image-suffix'] ? { imageSuffix: flags['image-suffix'] } : {}),
    ...(flags['mask-suffix'] ? { maskSuffix: flags['mask-suffix'] } : {}),
    ...(flags['image-glob'] ? { imageGlob: flags['image-glob'] } : {}),
  };
}
