/** A 2D folder pair: images/NAME.png with labels/NAME.png (matched by file name, extension ignored). */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { isImageFile } from '../io/volume-io.js';
import type { CaseRef, DatasetInfo } from './dataset.js';
import { classCountOfMapping, normaliseLabelMapping, type LabelMapping } from './labels.js';

export interface FolderDatasetOptions {
  /** Sub-folder names (default images/ and labels/). */
  images?: string;
  labels?: string;
  /** Stored label value -> class, e.g. {0: 0, 255: 1} or [0, 255]. Without it stored values are class indices. */
  labelMapping?: LabelMapping;
  /** Required without a mapping when labels hold more than two classes (default 2). */
  numClasses?: number;
  classNames?: string[];
}

function stem(file: string): string {
  return file.replace(/\.nii\.gz$|\.[^.]+$/i, '');
}

export function openFolderDataset(root: string, options: FolderDatasetOptions = {}): DatasetInfo {
  const imageDir = path.join(root, options.images ?? 'images');
  const labelDir = path.join(root, options.labels ?? 'labels');
  for (const dir of [imageDir, labelDir]) {
    if (!existsSync(dir)) throw new RwsegError('IO_ERROR', `${dir}: folder not found (a 2D dataset needs images/ and labels/)`, { file: dir });
  }
  const labelsByStem = new Map(readdirSync(labelDir).filter((f) => !f.startsWith('.') && isImageFile(f)).map((f) => [stem(f), path.join(labelDir, f)]));
  const training: CaseRef[] = readdirSync(imageDir)
    .filter((f) => !f.startsWith('.') && isImageFile(f))
    .sort()
    .map((f) => {
      const label = labelsByStem.get(stem(f));
      if (!label) throw new RwsegError('INVALID_INPUT', `${path.join(imageDir, f)} has no label: expected ${path.join(labelDir, f)}`, { file: path.join(imageDir, f) });
      return { id: stem(f), images: [path.join(imageDir, f)], label };
    });
  if (training.length === 0) throw new RwsegError('INVALID_INPUT', `${imageDir}: no .png/.nii/.nii.gz images`, { file: imageDir });
  const labelMap = options.labelMapping ? normaliseLabelMapping(options.labelMapping) : undefined;
  const numClasses = options.numClasses ?? (labelMap ? classCountOfMapping(labelMap) : 2);
  const classNames = options.classNames ?? Array.from({ length: numClasses }, (_, i) => (i === 0 ? 'background' : `class${i}`));
  if (classNames.length !== numClasses) {
    throw new RwsegError('INVALID_OPTIONS', `classNames has ${classNames.length} names for ${numClasses} classes`, { option: 'classNames' });
  }
  return { kind: 'folder', name: path.basename(path.resolve(root)), root, numClasses, classNames, channelNames: ['image'], training, test: [], ...(labelMap ? { labelMap } : {}) };
}
