/**
 * The two calls the rest of rwseg uses for images, whatever the format: readVolume and writeVolume. The format
 * is recognized from the file's first bytes, then its extension (io/formats.ts); a folder is a DICOM series.
 *
 * Who decodes what (docs/data.md says why): NIfTI and PNG are rwseg's own (header code in nifti-header.ts,
 * pngjs); TIFF, JPEG, BMP, NRRD and MetaImage go through ITK-Wasm; GIF through sharp; DICOM through dicom-parser
 * (uncompressed) or ITK-Wasm's GDCM (compressed).
 */
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import type { Volume } from '../volume.js';
import type { ColorPolicy } from './color.js';
import { assertBmpComplete } from './bmp-header.js';
import { assertJpegComplete } from './jpeg-end.js';
import { readDicomSeries, sliceVolume } from './dicom-series.js';
import { decodeDicomSlice } from './dicom-slice.js';
import { imageExtension, readBytes, writeBytesAtomic } from './files.js';
import {
  FORMAT_EXTENSIONS,
  FORMAT_NAMES,
  IMAGE_EXTENSIONS,
  formatOfContent,
  formatOfExtension,
  type ImageFormat,
} from './formats.js';
import { decodeGif } from './gif.js';
import { decodeItkImage, encodeItkImage, readItkImage } from './itk-image.js';
import type { NiftiHeader } from './nifti-header.js';
import { decodeNifti, encodeNifti, type WriteNiftiOptions } from './nifti.js';
import { decodePng, encodePng, type WritePngOptions } from './png.js';
import { completeTiffRead, readTiffTags } from './tiff-tags.js';

const gzip = promisify(gzipCallback);

export { IMAGE_EXTENSIONS };

export interface ReadVolumeOptions {
  /** What a color image becomes (io/color.ts): 3 channels (default), an error, or luminance. */
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
  /** A NIfTI's own header, so labels written for it keep its units, codes and description as well as its affine. */
  niftiHeader?: NiftiHeader;
}

export interface DecodeImageOptions extends ReadVolumeOptions {
  /** The format, when the caller knows it; else the bytes' signature, then `name`'s extension. */
  format?: ImageFormat;
  /** What the bytes are called in messages (a file name, "request body"); its extension is the last resort. */
  name?: string;
}

/** Formats rwseg writes, by extension; the others are read-only (lossy, palette-limited, or a series). */
const WRITABLE: readonly ImageFormat[] = ['nifti', 'png', 'nrrd', 'metaimage', 'tiff'];

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(imageExtension(file));
}

function unsupported(file: string): RwsegError {
  return new RwsegError(
    'IO_ERROR',
    `${file}: unrecognized image format "${imageExtension(file) || '(none)'}"; rwseg reads ` +
      `${IMAGE_EXTENSIONS.join(', ')} and DICOM series folders`,
    { file },
  );
}

/**
 * Decodes one image held in memory (any single-file format: not a DICOM series, nor a header whose voxels lie
 * in another file), telling which format it was and where its spacing came from. Every file read goes through
 * here too, so a served body decodes exactly as the same file would in training.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeImageOptions = {}): Promise<ImageRead> {
  const name = options.name ?? 'image';
  const format = options.format ?? formatOfContent(bytes) ?? formatOfExtension(name);
  if (!format) throw unsupported(name);
  const { color } = options;
  switch (format) {
    case 'nifti': {
      const { volume, header } = await decodeNifti(bytes, name);
      return { volume, format, spacingSource: 'header', niftiHeader: header };
    }
    case 'png':
      return { volume: decodePng(bytes, name, options).volume, format, spacingSource: 'none' };
    case 'gif':
      return { volume: await decodeGif(bytes, name, color), format, spacingSource: 'none' };
    case 'dicom':
      return { volume: sliceVolume(await decodeDicomSlice(bytes, name)), format, spacingSource: 'dicom' };
    case 'tiff': {
      // The structure check first: libtiff reads a stack cut short as fewer pages.
      const tags = readTiffTags(bytes, name);
      const { volume } = await decodeItkImage(bytes, format, name, color);
      return completeTiffRead(name, volume, tags);
    }
    default: {
      if (format === 'bmp') assertBmpComplete(bytes, bytes.length, name);
      if (format === 'jpeg') assertJpegComplete(bytes, name);
      const { volume } = await decodeItkImage(bytes, format, name, color);
      const spacingSource = format === 'nrrd' || format === 'metaimage' ? 'header' : 'none';
      return { volume, format, spacingSource };
    }
  }
}

/** A .mhd or .nhdr whose header names a separate data file (read by ITK from disk, beside the header). */
function isDetachedHeader(file: string, bytes: Uint8Array): boolean {
  const ext = imageExtension(file);
  if (ext !== '.mhd' && ext !== '.nhdr') return false;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 64 * 1024)).toString('latin1');
  return ext === '.mhd' ? !/^\s*ElementDataFile\s*=\s*LOCAL\s*$/m.test(text) : /^data ?file:/m.test(text);
}

/** Reads any supported image file, or a DICOM series folder: the file's bytes, then decodeImage. */
export async function readImage(file: string, options: ReadVolumeOptions = {}): Promise<ImageRead> {
  let isFolder = false;
  try {
    isFolder = statSync(file).isDirectory();
  } catch {
    await readBytes(file);
  }
  if (isFolder) return { volume: await readDicomSeries(file), format: 'dicom-series', spacingSource: 'dicom' };
  const bytes = await readBytes(file);
  const format = formatOfContent(bytes) ?? formatOfExtension(file);
  if (!format) throw unsupported(file);
  if ((format === 'nrrd' || format === 'metaimage') && isDetachedHeader(file, bytes)) {
    const { volume } = await readItkImage(file, format, options.color);
    return { volume, format, spacingSource: 'header' };
  }
  return decodeImage(bytes, { ...options, format, name: file });
}

/** Reads an image file (any format above) or a DICOM series folder. NIfTI shape is [Z, Y, X] (nifti.ts). */
export async function readVolume(file: string, options: ReadVolumeOptions = {}): Promise<Volume> {
  return (await readImage(file, options)).volume;
}

export interface EncodeImageOptions extends WriteVolumeOptions {
  /** NIfTI only: gzip the file (.nii.gz). */
  gzip?: boolean;
  /** What the target is called in messages. */
  name?: string;
}

const WRITE_EXTENSIONS = WRITABLE.map((f) => FORMAT_EXTENSIONS[f].filter((e) => e !== '.mhd' && e !== '.nhdr'));

/** Encodes a volume as one of the writable formats, in memory (the server's answers; writeVolume's bytes). */
export async function encodeImage(
  volume: Volume,
  format: ImageFormat,
  options: EncodeImageOptions = {},
): Promise<Uint8Array> {
  const name = options.name ?? `image${FORMAT_EXTENSIONS[format][0]}`;
  switch (format) {
    case 'nifti': {
      const bytes = encodeNifti(volume, name, options);
      return options.gzip ? gzip(bytes, { level: options.compressionLevel ?? 6 }) : bytes;
    }
    case 'png':
      return encodePng(volume, name, options);
    case 'nrrd':
    case 'metaimage':
    case 'tiff':
      return encodeItkImage(volume, format, name);
    default:
      throw new RwsegError(
        'INVALID_OPTIONS',
        `${name}: cannot write ${FORMAT_NAMES[format]}: it is read-only in rwseg; rwseg writes ` +
          WRITE_EXTENSIONS.map((e) => e.join('/')).join(', '),
        { file: name },
      );
  }
}

/** Writes by extension: .nii/.nii.gz, .png, .nrrd, .mha, .tif/.tiff; atomically (io/files.ts). */
export async function writeVolume(file: string, volume: Volume, options: WriteVolumeOptions = {}): Promise<void> {
  const format = formatOfExtension(file);
  if (!format || !WRITABLE.includes(format) || imageExtension(file) === '.mhd' || imageExtension(file) === '.nhdr') {
    const writable = WRITE_EXTENSIONS.map((e) => e.join('/')).join(', ');
    const why = format
      ? `${FORMAT_NAMES[format]} "${imageExtension(file)}" is read-only in rwseg`
      : `unknown extension "${imageExtension(file) || '(none)'}"`;
    throw new RwsegError('INVALID_OPTIONS', `${file}: cannot write: ${why}; rwseg writes ${writable}`, { file });
  }
  const bytes = await encodeImage(volume, format, { ...options, name: file, gzip: imageExtension(file) === '.nii.gz' });
  await writeBytesAtomic(file, bytes);
}

/**
 * The format a label map for an image of `input` format is written in: the input's own when rwseg writes it and
 * it holds the labels' shape (so the labels open beside the image in the same tool), PNG for a 2D JPEG, GIF or
 * BMP (lossy or palette formats, which would blur or remap class values), NIfTI for DICOM (single files and
 * series) and for anything else, as NIfTI holds any 2D/3D grid with its orientation.
 */
export function labelFormatFor(input: ImageRead['format'], spatialRank: number): ImageFormat {
  switch (input) {
    case 'png':
      return spatialRank === 2 ? 'png' : 'nifti';
    case 'tiff':
      return spatialRank === 2 || spatialRank === 3 ? 'tiff' : 'nifti';
    case 'nifti':
    case 'nrrd':
    case 'metaimage':
      return input;
    case 'jpeg':
    case 'gif':
    case 'bmp':
      return spatialRank === 2 ? 'png' : 'nifti';
    default:
      return 'nifti';
  }
}

/** The file name labels for `input` get in a folder: the image's own name with the label format's extension. */
export function labelFileName(input: string, format: ImageFormat): string {
  const base = path.basename(input.replace(/[\\/]+$/, ''));
  const ext = imageExtension(base);
  const stem = ext && IMAGE_EXTENSIONS.includes(ext) ? base.slice(0, -ext.length) : base;
  const extension = format === 'metaimage' ? '.mha' : FORMAT_EXTENSIONS[format][0]!;
  return `${stem}${extension}`;
}
