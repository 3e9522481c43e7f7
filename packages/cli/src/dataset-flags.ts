/** The flags that say how to open a dataset, shared by `rwseg dataset check` and `rwseg dataset convert`. */
import { Flags } from '@oclif/core';
import type { OpenDatasetOptions } from '@rwseg/core/data';
import { LABEL_MAP_HELP, parseLabelMapFlag } from './label-map-flag.js';

export const datasetFlags = {
  'label-map': Flags.string({ description: `folders: ${LABEL_MAP_HELP}` }),
  labels: Flags.string({ description: 'folders: mask sub-folder (default labels)' }),
  images: Flags.string({ description: 'folders: image sub-folder (default images)' }),
  'num-classes': Flags.integer({
    description: 'folders without a label map: number of classes (default 2; also --classes)',
    min: 2,
    aliases: ['classes'],
  }),
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
  'num-classes'?: number;
  'image-suffix'?: string;
  'mask-suffix'?: string;
  'image-glob'?: string;
};

export function datasetOptionsFromFlags(flags: DatasetFlagValues): OpenDatasetOptions {
  return {
    ...(flags['label-map'] ? { labelMapping: parseLabelMapFlag(flags['label-map']) } : {}),
    ...(flags.labels ? { labels: flags.labels } : {}),
    ...(flags.images ? { images: flags.images } : {}),
    ...(flags['num-classes'] ? { numClasses: flags['num-classes'] } : {}),
    ...(flags['image-suffix'] ? { imageSuffix: flags['image-suffix'] } : {}),
    ...(flags['mask-suffix'] ? { maskSuffix: flags['mask-suffix'] } : {}),
    ...(flags['image-glob'] ? { imageGlob: flags['image-glob'] } : {}),
  };
}
