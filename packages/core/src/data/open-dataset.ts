/** One entry point that recognizes a dataset from a path (MSD/nnU-Net folder or 2D folder pair) or "synthetic". */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import type { DatasetInfo } from './dataset.js';
import { openFolderDataset, type FolderDatasetOptions } from './folder.js';
import { openMsdDataset } from './msd.js';
import { syntheticDatasetInfo, type SyntheticOptions } from './synthetic.js';

export interface OpenDatasetOptions extends FolderDatasetOptions {
  synthetic?: SyntheticOptions;
}

/**
 * `source` is a folder holding dataset.json (MSD / nnU-Net), a folder with images/ and labels/, or the word
 * "synthetic" (also "synthetic-2d", "synthetic-3d").
 */
export function openDataset(source: string, options: OpenDatasetOptions = {}): DatasetInfo {
  const synthetic = /^synthetic(?:-([23])d)?$/.exec(source);
  if (synthetic)
    return syntheticDatasetInfo({
      ...(synthetic[1] ? { dim: Number(synthetic[1]) as 2 | 3 } : {}),
      ...options.synthetic,
    });
  const root = path.resolve(source);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new RwsegError('IO_ERROR', `${root}: dataset folder not found`, { file: root });
  }
  if (existsSync(path.join(root, 'dataset.json'))) return openMsdDataset(root);
  if (existsSync(path.join(root, options.images ?? 'images'))) return openFolderDataset(root, options);
  throw new RwsegError(
    'INVALID_INPUT',
    `${root}: not a dataset (expected dataset.json with imagesTr/ and labelsTr/, or images/ and labels/ folders)`,
    { file: root },
  );
}
