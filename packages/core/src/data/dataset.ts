/**
 * Datasets as plain, structured-clonable descriptions (so a worker thread can receive one and load cases on its
 * own) plus `loadCase`, which reads one case into memory in the layout every later stage expects.
 */
import { RwsegError } from '../errors.js';
import { readImage, type ImageRead } from '../io/volume-io.js';
import { spatialShapeOf, voxelCount, type Volume } from '../volume.js';
import { toClassLabels } from './labels.js';
import { generateSyntheticCase, type SyntheticOptions } from './synthetic.js';

/** One case: its image file(s) (one per channel, or one multi-channel file) and its label file. */
export interface CaseRef {
  readonly id: string;
  readonly images: readonly string[];
  readonly label?: string;
  /** For synthetic datasets: the case number the generator expands. */
  readonly syntheticIndex?: number;
}

export interface DatasetInfo {
  readonly kind: 'msd' | 'folder' | 'synthetic';
  readonly name: string;
  /** Folder the dataset was opened from. */
  readonly root?: string;
  readonly numClasses: number;
  /** Class names by class index (0 = background). */
  readonly classNames: readonly string[];
  /** Input channel names (modalities); their count is the image channel count. */
  readonly channelNames: readonly string[];
  readonly training: readonly CaseRef[];
  /** Unlabeled test images (MSD imagesTs/). */
  readonly test: readonly CaseRef[];
  /** Stored label value -> class index (as string keys, JSON-style); absent when stored values are classes. */
  readonly labelMap?: Readonly<Record<string, number>>;
  /** Folder datasets: how images and masks were paired, in words (data/folder.ts). */
  readonly pairing?: string;
  readonly synthetic?: Required<SyntheticOptions>;
}

/**
 * A case in memory. `image` is channels-last Float32 [...spatial, C] with `channels` always set (also for C = 1);
 * `label` holds class indices over the same spatial shape, spacing as the image.
 */
export interface Case {
  readonly id: string;
  readonly image: Volume<Float32Array> & { readonly channels: number };
  readonly label?: Volume<Int32Array>;
  /** Where the data came from, for messages. */
  readonly source: string;
}

export { spatialShapeOf } from '../volume.js';

/** Stacks single- or multi-channel volumes into one channels-last Float32 volume. */
export function stackChannels(volumes: readonly Volume[], files: readonly string[]): Case['image'] {
  const spatial = spatialShapeOf(volumes[0]!);
  const counts = volumes.map((v) => v.channels ?? 1);
  volumes.forEach((v, i) => {
    const s = spatialShapeOf(v);
    if (s.length !== spatial.length || s.some((d, a) => d !== spatial[a])) {
      throw new RwsegError(
        'INVALID_INPUT',
        `channel files disagree in shape: ${files[0]} is [${spatial.join(', ')}] but ${files[i]} is [${s.join(', ')}]`,
        { files },
      );
    }
  });
  const channels = counts.reduce((a, b) => a + b, 0);
  const n = voxelCount(spatial);
  const data = new Float32Array(n * channels);
  let offset = 0;
  volumes.forEach((v, i) => {
    const c = counts[i]!;
    for (let voxel = 0; voxel < n; voxel++) {
      for (let k = 0; k < c; k++) data[voxel * channels + offset + k] = v.data[voxel * c + k]!;
    }
    offset += c;
  });
  return { data, shape: [...spatial, channels], spacing: volumes[0]!.spacing, channels };
}

/** The mapping that reads 0/255 masks (how most 2D tools save a binary mask) as classes 0 and 1. */
export const BINARY_MASK_MAPPING: Readonly<Record<string, number>> = { 0: 0, 255: 1 };

/** True when the values are all 0 or 255 and some are 255. */
export function isZero255Mask(values: ArrayLike<number>): boolean {
  let any255 = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === 255) any255 = true;
    else if (v !== 0) return false;
  }
  return any255;
}

/**
 * The label mapping for one mask: the dataset's own, else 0/255 -> 0/1 for a two-class folder dataset whose mask
 * holds exactly those values (`dataset check` reports it as a notice; a label map turns it off), else none.
 */
export function labelMappingFor(
  info: DatasetInfo,
  values: ArrayLike<number>,
): Readonly<Record<string, number>> | undefined {
  if (info.labelMap) return info.labelMap;
  if (info.kind === 'folder' && info.numClasses === 2 && isZero255Mask(values)) return BINARY_MASK_MAPPING;
  return undefined;
}

/** What `readCase` lets a caller watch while it reads (dataset checks count formats and compare spacings). */
export interface ReadCaseHooks {
  /** Each file as it is read, with its format and where its spacing came from. */
  onRead?(file: string, read: ImageRead, role: 'image' | 'label'): void;
  /** The stacked image, before the label is read (so a bad label still leaves the image counted). */
  onImage?(image: Case['image']): void;
  /** Check the image's channels against dataset.json (default true; a dataset check compares them across cases). */
  declaredChannels?: boolean;
}

/** A case as read, with the label mapping applied (0/255 masks) and the label file's own read. */
export interface CaseRead {
  readonly case: Case;
  readonly labelRead?: ImageRead;
  readonly labelMapping?: Readonly<Record<string, number>>;
}

/** Reads one case; labels are converted to class indices and checked against the dataset's class count. */
export async function loadCase(info: DatasetInfo, ref: CaseRef): Promise<Case> {
  return (await readCase(info, ref)).case;
}

/** loadCase with what it read along the way: the one case reader that loading and `dataset check` share. */
export async function readCase(info: DatasetInfo, ref: CaseRef, hooks: ReadCaseHooks = {}): Promise<CaseRead> {
  if (info.kind === 'synthetic') {
    if (!info.synthetic || ref.syntheticIndex === undefined) {
      throw new RwsegError('INVALID_INPUT', `synthetic case ${ref.id} has no generator settings`, { caseId: ref.id });
    }
    const generated = generateSyntheticCase(info.synthetic, ref.syntheticIndex);
    hooks.onImage?.(generated.image);
    return { case: generated };
  }
  const reads: ImageRead[] = [];
  for (const file of ref.images) {
    const read = await readImage(file);
    hooks.onRead?.(file, read, 'image');
    reads.push(read);
  }
  const image = stackChannels(
    reads.map((r) => r.volume),
    ref.images,
  );
  hooks.onImage?.(image);
  // dataset.json declares the channels (modality / channel_names): a case that disagrees would reach the model.
  if ((hooks.declaredChannels ?? true) && info.kind === 'msd' && image.channels !== info.channelNames.length) {
    const declaredBy = info.root ? `${info.root}/dataset.json` : 'dataset.json';
    throw new RwsegError(
      'INVALID_INPUT',
      `case ${ref.id}: image ${ref.images.join(', ')} has ${image.channels} channel(s) ` +
        `(shape [${image.shape.join(', ')}], channels last) but ${declaredBy} ` +
        `lists ${info.channelNames.length} (${info.channelNames.join(', ')})`,
      { caseId: ref.id, file: ref.images[0], channels: image.channels, expected: info.channelNames.length },
    );
  }
  if (!ref.label) return { case: { id: ref.id, image, source: ref.images.join(', ') } };
  // A color label image would invent classes: refused, naming the first colored pixel.
  const labelRead = await readImage(ref.label, { color: 'reject' });
  hooks.onRead?.(ref.label, labelRead, 'label');
  const raw = labelRead.volume;
  const imageShape = spatialShapeOf(image);
  if (raw.channels || raw.shape.length !== imageShape.length || raw.shape.some((d, a) => d !== imageShape[a])) {
    throw new RwsegError(
      'INVALID_INPUT',
      `case ${ref.id}: label ${ref.label} has shape [${raw.shape.join(', ')}] but image ${ref.images[0]} has [${imageShape.join(', ')}]`,
      { caseId: ref.id, file: ref.label, label: ref.label, image: ref.images[0] },
    );
  }
  const labelMapping = labelMappingFor(info, raw.data);
  const labels = toClassLabels(raw.data, info.numClasses, ref.label, labelMapping);
  const label = { data: labels, shape: raw.shape, spacing: image.spacing };
  return {
    case: { id: ref.id, image, label, source: ref.images.join(', ') },
    labelRead,
    ...(labelMapping ? { labelMapping } : {}),
  };
}
