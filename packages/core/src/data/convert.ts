/**
 * Writes any dataset rwseg opens as an nnU-Net v2 raw folder, so the same data can go to nnU-Net:
 * dataset.json (channel_names, labels name -> id, numTraining, file_ending), imagesTr/<case>_<XXXX><ending> (one
 * file per channel, stored type kept), labelsTr/<case><ending> (class indices as uint8, or uint16 for more
 * than 255 classes) and imagesTs/ for test cases.
 *
 * Geometry: each channel file keeps its source's spacing and orientation, and the label takes the image's (a PNG
 * or GIF mask has neither), so labels overlay images in a viewer. Labels go through the same mapping as loading
 * (a label map, or 0/255 -> 0/1), so nnU-Net sees exactly the classes rwseg trains on.
 * The folder is written under a temporary name and renamed at the end: a failure leaves no half dataset.
 */
import { existsSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { writeBytesAtomic } from '../io/files.js';
import { readImage, writeVolume } from '../io/volume-io.js';
import { voxelCount, type Volume, type VoxelArray } from '../volume.js';
import { labelMappingFor, spatialShapeOf, type CaseRef, type DatasetInfo } from './dataset.js';
import { toClassLabels } from './labels.js';

export const NNUNET_FILE_ENDINGS = ['.nii.gz', '.nii', '.nrrd', '.mha', '.tif', '.png'] as const;
export type NnUNetFileEnding = (typeof NNUNET_FILE_ENDINGS)[number];

export interface ConvertOptions {
  /** File ending of every written image (default .nii.gz). PNG holds 2D single-channel integer images only. */
  fileEnding?: NnUNetFileEnding;
  onCase?: (done: number, total: number, caseId: string) => void;
}

export interface ConvertResult {
  out: string;
  fileEnding: NnUNetFileEnding;
  training: number;
  test: number;
  channelNames: string[];
  labels: Record<string, number>;
}

/** One channel of a channels-last volume as its own volume (same type, spacing and orientation). */
function channelOf(volume: Volume, c: number): Volume {
  const channels = volume.channels ?? 1;
  if (channels === 1) return volume;
  const n = voxelCount(spatialShapeOf(volume));
  const data = new (volume.data.constructor as new (length: number) => VoxelArray)(n);
  for (let i = 0; i < n; i++) data[i] = volume.data[i * channels + c]!;
  const { channels: _, ...rest } = volume;
  return { ...rest, data, shape: spatialShapeOf(volume) };
}

function channelFile(dir: string, id: string, c: number, ending: string): string {
  return path.join(dir, `${id}_${String(c).padStart(4, '0')}${ending}`);
}

async function writeChannels(
  ref: CaseRef,
  dir: string,
  ending: string,
): Promise<{ image: Volume; channels: number; spacingFromFile: boolean }> {
  let c = 0;
  let first: Volume | undefined;
  let spacingFromFile = false;
  for (const file of ref.images) {
    const read = await readImage(file);
    const volume = read.volume;
    if (!first) {
      first = volume;
      spacingFromFile = read.spacingSource !== 'none';
    } else if (spatialShapeOf(volume).join() !== spatialShapeOf(first).join()) {
      throw new RwsegError(
        'INVALID_INPUT',
        `case ${ref.id}: ${file} is [${spatialShapeOf(volume).join(', ')}] but ${ref.images[0]} is ` +
          `[${spatialShapeOf(first).join(', ')}]`,
        { file },
      );
    }
    for (let k = 0; k < (volume.channels ?? 1); k++)
      await writeVolume(channelFile(dir, ref.id, c++, ending), channelOf(volume, k));
  }
  return { image: first!, channels: c, spacingFromFile };
}

export async function convertToNnUNet(
  info: DatasetInfo,
  out: string,
  options: ConvertOptions = {},
): Promise<ConvertResult> {
  if (info.kind === 'synthetic') {
    throw new RwsegError(
      'INVALID_INPUT',
      'the synthetic dataset is generated, not converted: write it with `rwseg dataset synth`',
      {},
    );
  }
  const ending = options.fileEnding ?? '.nii.gz';
  if (!NNUNET_FILE_ENDINGS.includes(ending)) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `file ending "${ending}" is not one rwseg writes for nnU-Net (${NNUNET_FILE_ENDINGS.join(', ')})`,
      { option: 'fileEnding' },
    );
  }
  const target = path.resolve(out);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new RwsegError('INVALID_OPTIONS', `${target}: output folder exists and is not empty; give a new folder`, {
      file: target,
    });
  }
  const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
  const total = info.training.length + info.test.length;
  let done = 0;
  let channels: number | undefined;
  const numClasses = info.numClasses;
  try {
    for (const ref of info.training) {
      const written = await writeChannels(ref, path.join(temp, 'imagesTr'), ending);
      if (channels !== undefined && written.channels !== channels) {
        throw new RwsegError(
          'INVALID_INPUT',
          `case ${ref.id} has ${written.channels} channel(s) but ${info.training[0]!.id} has ${channels}`,
          { caseId: ref.id },
        );
      }
      channels = written.channels;
      if (!ref.label) throw new RwsegError('INVALID_INPUT', `case ${ref.id} has no label`, { caseId: ref.id });
      const raw = (await readImage(ref.label, { color: 'reject' })).volume;
      const shape = spatialShapeOf(written.image);
      if (raw.channels || raw.shape.join() !== shape.join()) {
        throw new RwsegError(
          'INVALID_INPUT',
          `case ${ref.id}: label ${ref.label} has shape [${raw.shape.join(', ')}] but image ${ref.images[0]} has ` +
            `[${shape.join(', ')}]`,
          { file: ref.label },
        );
      }
      const classes = toClassLabels(raw.data, numClasses, ref.label, labelMappingFor(info, raw.data));
      const data = numClasses <= 256 ? Uint8Array.from(classes) : Uint16Array.from(classes);
      // The image's geometry: what nnU-Net checks labels against, and what a PNG/GIF mask lacks.
      const geometry = written.image.orientation ? { orientation: written.image.orientation } : {};
      await writeVolume(path.join(temp, 'labelsTr', `${ref.id}${ending}`), {
        data,
        shape,
        spacing: written.image.spacing,
        ...geometry,
      });
      options.onCase?.(++done, total, ref.id);
    }
    for (const ref of info.test) {
      await writeChannels(ref, path.join(temp, 'imagesTs'), ending);
      options.onCase?.(++done, total, ref.id);
    }
    const channelNames =
      channels === info.channelNames.length
        ? [...info.channelNames]
        : channels === 3
          ? ['R', 'G', 'B']
          : Array.from({ length: channels ?? 1 }, (_, c) => `channel${c}`);
    const labels = Object.fromEntries(info.classNames.map((name, k) => [name, k]));
    const json = {
      name: info.name,
      channel_names: Object.fromEntries(channelNames.map((name, c) => [String(c), name])),
      labels,
      numTraining: info.training.length,
      file_ending: ending,
      // Not read by nnU-Net: where the data came from, so the conversion can be traced.
      rwseg: {
        source: info.root,
        kind: info.kind,
        ...(info.pairing ? { pairing: info.pairing } : {}),
        ...(info.labelMap ? { labelMap: info.labelMap } : {}),
      },
    };
    await writeBytesAtomic(path.join(temp, 'dataset.json'), Buffer.from(JSON.stringify(json, null, 2) + '\n'));
    if (existsSync(target)) await rm(target, { recursive: true });
    await rename(temp, target);
    return {
      out: target,
      fileEnding: ending,
      training: info.training.length,
      test: info.test.length,
      channelNames,
      labels,
    };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
