/**
 * Pipeline sections built from a dataset path instead of a YAML file, for `rwseg train --data PATH` and
 * `rwseg evaluate --data PATH`: the kind is recognized by the data module (dataset.json: MSD / nnU-Net; images/ +
 * labels/: a 2D folder pair; "synthetic"), and the patch defaults to the cases' size rounded to the U-Net's grid.
 */
import path from 'node:path';
import { loadCase } from '../data/dataset.js';
import type { FolderPairing } from '../data/folder.js';
import { openDataset } from '../data/open-dataset.js';
import { RwsegError } from '../errors.js';

/** What `--data` comes with: a label map and class count, and for folder pairs their folders and pairing rule. */
export type DatasetSectionOptions = {
  labelMap?: Record<string, number>;
  numClasses?: number;
  images?: string;
  labels?: string;
} & FolderPairing;

/** The raw `dataset:` section for a path (or 'synthetic'); `labelMap` (stored value -> class) for folder pairs. */
export function datasetSectionFor(source: string, options: DatasetSectionOptions = {}): Record<string, unknown> {
  if (source === 'synthetic') return { kind: 'synthetic', shape: [96, 96], train: 48, validation: 8 };
  const pairing = pairingOf(options);
  const folders = {
    ...(options.images ? { images: options.images } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  };
  const info = openDataset(source, {
    labelMapping: options.labelMap,
    numClasses: options.numClasses,
    ...folders,
    ...pairing,
  });
  if (info.kind === 'msd') return { kind: 'msd', root: path.resolve(source) };
  return {
    kind: 'folder',
    path: path.resolve(source),
    numClasses: options.numClasses ?? info.numClasses,
    ...(options.labelMap ? { labelMap: options.labelMap } : {}),
    ...folders,
    ...pairing,
  };
}

/** The folder pairing options that are set (data/folder.ts). */
function pairingOf(options: FolderPairing | Record<string, unknown>): FolderPairing {
  const out: Record<string, string> = {};
  for (const key of ['imageSuffix', 'maskSuffix', 'imageGlob'] as const) {
    const value = (options as Record<string, unknown>)[key];
    if (typeof value === 'string' && value) out[key] = value;
  }
  return out;
}

/**
 * A default patch for a dataset section: the first case's spatial size rounded up to a multiple of 2^(depth-1)
 * (the U-Net's pooling grid), at most 128 per axis in 2D and 64 in 3D; the loader pads smaller images.
 */
export async function defaultPatchFor(dataset: Record<string, unknown>, depth = 4): Promise<number[]> {
  if (dataset.kind === 'synthetic') return [64, 64];
  const info = openDataset(String(dataset.kind === 'msd' ? dataset.root : dataset.path), {
    labelMapping: dataset.labelMap as Record<string, number> | undefined,
    numClasses: dataset.numClasses as number | undefined,
    ...(typeof dataset.images === 'string' ? { images: dataset.images } : {}),
    ...(typeof dataset.labels === 'string' ? { labels: dataset.labels } : {}),
    ...pairingOf(dataset),
  });
  const first = info.training[0];
  if (!first) throw new RwsegError('INVALID_INPUT', `dataset ${info.name} has no labeled cases`, {});
  const c = await loadCase(info, first);
  const spatial = c.image.shape.slice(0, -1);
  const grid = 2 ** (depth - 1);
  const cap = spatial.length === 2 ? 128 : 64;
  return spatial.map((d) => Math.min(cap, Math.ceil(d / grid) * grid));
}
