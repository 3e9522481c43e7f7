/**
 * Which image format a file holds: by its first bytes (magic numbers), then by its extension, so a mask saved as
 * .tif that is really a PNG still reads, and a truncated file is still sent to the decoder that names the problem.
 */
import { imageExtension } from './files.js';

export type ImageFormat = 'nifti' | 'png' | 'jpeg' | 'gif' | 'bmp' | 'tiff' | 'nrrd' | 'metaimage' | 'dicom';

/** Extensions rwseg reads, by format (the first one is what a writer picks for that format). */
export const FORMAT_EXTENSIONS: Readonly<Record<ImageFormat, readonly string[]>> = {
  nifti: ['.nii.gz', '.nii'],
  png: ['.png'],
  jpeg: ['.jpg', '.jpeg'],
  gif: ['.gif'],
  bmp: ['.bmp'],
  tiff: ['.tif', '.tiff'],
  nrrd: ['.nrrd', '.nhdr'],
  metaimage: ['.mha', '.mhd'],
  dicom: ['.dcm'],
};

/** Human names for messages and reports. */
export const FORMAT_NAMES: Readonly<Record<ImageFormat, string>> = {
  nifti: 'NIfTI',
  png: 'PNG',
  jpeg: 'JPEG',
  gif: 'GIF',
  bmp: 'BMP',
  tiff: 'TIFF',
  nrrd: 'NRRD',
  metaimage: 'MetaImage (MHA/MHD)',
  dicom: 'DICOM',
};

export const IMAGE_EXTENSIONS: readonly string[] = Object.values(FORMAT_EXTENSIONS).flat();

export function formatOfExtension(file: string): ImageFormat | undefined {
  const ext = imageExtension(file);
  return (Object.keys(FORMAT_EXTENSIONS) as ImageFormat[]).find((f) => FORMAT_EXTENSIONS[f].includes(ext));
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  return bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  if (offset >= bytes.length) return '';
  return Buffer.from(
    bytes.buffer,
    bytes.byteOffset + offset,
    Math.max(0, Math.min(length, bytes.length - offset)),
  ).toString('latin1');
}

/** The format the bytes announce, or undefined (gzip is left to the extension: it wraps NIfTI here). */
export function formatOfContent(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(bytes, 0, 4) === 'GIF8') return 'gif';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  if (ascii(bytes, 0, 7) === 'NRRD000') return 'nrrd';
  if (ascii(bytes, 128, 4) === 'DICM') return 'dicom';
  if (bytes.length >= 348) {
    const magic = ascii(bytes, 344, 3);
    if (magic === 'n+1' || magic === 'ni1') return 'nifti';
  }
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length >= 26) return 'bmp';
  if (/^\s*(ObjectType|NDims)\s*=/m.test(ascii(bytes, 0, 1024))) return 'metaimage';
  return undefined;
}

/** Content first, extension second; undefined when neither says. */
export function detectImageFormat(file: string, head: Uint8Array): ImageFormat | undefined {
  return formatOfContent(head) ?? formatOfExtension(file);
}
