/**
 * The two calls the rest of rwseg uses for images, whatever the format: readVolume and writeVolume. The format
 * is recognised from the file's first bytes, then its extension (io/formats.ts); a folder is a DICOM series.
 *
 * Who decodes what (docs/data.md says why): NIfTI and PNG are rwseg's own (header code in nifti-header.ts,
 * pngjs); TIFF, JPEG, BMP, NRRD and MetaImage go through ITK-Wasm; GIF through sharp; DICOM through dicom-parser
 * (uncompressed) or ITK-Wasm's GDCM (compressed).
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { RwsegError } from '../errors.js';
import type { Volume } from '../volume.js';
import type { ColorPolicy } from './color.js';
import { assertBmpComplete } from './bmp-header.js';
import { readDicomSeries, sliceVolume } from './dicom-series.js';
import { readDicomSlice } from './dicom-slice.js';
import { imageExtension, readBytes } from './files.js';
import {
  FORMAT_EXTENSIONS,
  FORMAT_NAMES,
  IMAGE_EXTENSIONS,
  detectImageFormat,
  formatOfExtension,
  type ImageFormat,
} from './formats.js';
import { decodeGif } from './gif.js';
import { readItkImage, writeItkImage } from './itk-image.js';
import { decodeNifti, writeNifti, type WriteNiftiOptions } from './nifti.js';
import { decodePng, writePng, type WritePngOptions } from './png.js';
import { completeTiffRead, readTiffTags } from './tiff-tags.js';

export { IMAGE_EXTENSIONS };

export interface ReadVolumeOptions {
  /** What a colour image becomes (io/color.ts): 3 channels (default), an error, or luminance. */
  color?: ColorPolicy;
}
export type WriteVolumeOptions = WriteNiftiOptions & WritePngOptions;

/** Where a volume's spacing came from, for `rwseg dataset check`. */
export type SpacingSource = 'header' | 'tiff-resolution' | 'imagej' | 'dicom' | 'none';

export interface ImageRead {
  volume: Volume;
  /** 'dicom-series' for a folder. */
  format: ImageFormat | 'dicom-series';
  spacingSource: SpacingSource;
}

/** Formats rwseg writes, by extension; the others are read-only (lossy, palette-limited, or a series). */
const WRITABLE: readonly ImageFormat[] = ['nifti', 'png', 'nrrd', 'metaimage', 'tiff'];

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(imageExtension(file));
}

async function head(file: string, length: number): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    // readBytes turns the failure into the message that names the file.
    await readBytes(file);
    throw new RwsegError('IO_ERROR', `cannot read ${file}`, { file });
  }
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function unsupported(file: string): RwsegError {
  return new RwsegError(
    'IO_ERROR',
    `${file}: unrecognised image format "${imageExtension(file) || '(none)'}"; rwseg reads ` +
      `${IMAGE_EXTENSIONS.join(', ')} and DICOM series folders`,
    { file },
  );
}

/** Reads any supported image, telling which format it was and where its spacing came from. */
export async function readImage(file: string, options: ReadVolumeOptions = {}): Promise<ImageRead> {
  let isFolder = false;
  try {
    isFolder = statSync(file).isDirectory();
  } catch {
    await readBytes(file);
  }
  if (isFolder) return { volume: await readDicomSeries(file), format: 'dicom-series', spacingSource: 'dicom' };
  const first = await head(file, 1024);
  const format = detectImageFormat(file, first);
  if (!format) throw unsupported(file);
  const { color } = options;
  switch (format) {
    case 'nifti':
      return { volume: (await decodeNifti(await readBytes(file), file)).volume, format, spacingSource: 'header' };
    case 'png':
      return { volume: decodePng(await readBytes(file), file, options).volume, format, spacingSource: 'none' };
    case 'gif':
      return { volume: await decodeGif(await readBytes(file), file, color), format, spacingSource: 'none' };
    case 'dicom':
      return { volume: sliceVolume(await readDicomSlice(file)), format, spacingSource: 'dicom' };
    case 'tiff': {
      // The structure check first: libtiff reads a stack cut short as fewer pages.
      const tags = await readTiffTags(file);
      const { volume } = await readItkImage(file, format, color);
      return completeTiffRead(file, volume, tags);
    }
    default: {
      if (format === 'bmp') assertBmpComplete(first, statSync(file).size, file);
      const { volume } = await readItkImage(file, format, color);
      const spacingSource = format === 'nrrd' || format === 'metaimage' ? 'header' : 'none';
      return { volume, format, spacingSource };
    }
  }
}

/** Reads an image file (any format above) or a DICOM series folder. NIfTI shape is [Z, Y, X] (nifti.ts). */
export async function readVolume(file: string, options: ReadVolumeOptions = {}): Promise<Volume> {
  return (await readImage(file, options)).volume;
}

/** Writes by extension: .nii/.nii.gz, .png, .nrrd, .mha, .tif/.tiff. */
export async function writeVolume(file: string, volume: Volume, options: WriteVolumeOptions = {}): Promise<void> {
  const format = formatOfExtension(file);
  if (!format || !WRITABLE.includes(format) || imageExtension(file) === '.mhd' || imageExtension(file) === '.nhdr') {
    const writable = WRITABLE.map((f) =>
      FORMAT_EXTENSIONS[f].filter((e) => e !== '.mhd' && e !== '.nhdr').join('/'),
    ).join(', ');
    const why = format
      ? `${FORMAT_NAMES[format]} "${imageExtension(file)}" is read-only in rwseg`
      : `unknown extension "${imageExtension(file) || '(none)'}"`;
    throw new RwsegError('INVALID_OPTIONS', `${file}: cannot write: ${why}; rwseg writes ${writable}`, { file });
  }
  switch (format) {
    case 'nifti':
      return writeNifti(file, volume, options);
    case 'png':
      return writePng(file, volume, options);
    default:
      return writeItkImage(file, volume, format);
  }
}
