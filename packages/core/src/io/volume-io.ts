/** Format dispatch on the file extension: the two calls the rest of rwseg uses for images. */
import { RwsegError } from '../errors.js';
import type { Volume } from '../volume.js';
import { imageExtension } from './files.js';
import { readNifti, writeNifti, type WriteNiftiOptions } from './nifti.js';
import { readPng, writePng, type ReadPngOptions, type WritePngOptions } from './png.js';

export const IMAGE_EXTENSIONS = ['.nii', '.nii.gz', '.png'] as const;

export type ReadVolumeOptions = ReadPngOptions;
export type WriteVolumeOptions = WriteNiftiOptions & WritePngOptions;

function unsupported(file: string): RwsegError {
  return new RwsegError('IO_ERROR', `${file}: unsupported image format "${imageExtension(file) || '(none)'}"; rwseg reads ${IMAGE_EXTENSIONS.join(', ')}`, { file });
}

export function isImageFile(file: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(imageExtension(file));
}

/** Reads a .nii, .nii.gz or .png file. NIfTI shape is [Z, Y, X] (see nifti.ts), PNG shape [H, W]. */
export async function readVolume(file: string, options: ReadVolumeOptions = {}): Promise<Volume> {
  switch (imageExtension(file)) {
    case '.nii':
    case '.nii.gz':
      return (await readNifti(file)).volume;
    case '.png':
      return (await readPng(file, options)).volume;
    default:
      throw unsupported(file);
  }
}

export async function writeVolume(file: string, volume: Volume, options: WriteVolumeOptions = {}): Promise<void> {
  switch (imageExtension(file)) {
    case '.nii':
    case '.nii.gz':
      return writeNifti(file, volume, options);
    case '.png':
      return writePng(file, volume, options);
    default:
      throw unsupported(file);
  }
}
