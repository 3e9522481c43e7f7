/**
 * Image formats of the segment route, on @rwseg/core's byte-level readers and writers (the same code that
 * reads datasets for training, so a served image is decoded exactly as a training image was).
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { decodeNifti, decodePng, encodeNifti, encodePng, isRwsegError, type NiftiHeader, type Volume } from '@rwseg/core';
import { badRequest } from './http-error.js';

const gzip = promisify(gzipCallback);

export type ImageFormat = 'png' | 'nii' | 'nii.gz';

export const IMAGE_CONTENT_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  nii: 'application/octet-stream',
  'nii.gz': 'application/gzip',
};

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function formatFromName(name: string): ImageFormat | undefined {
  const lower = name.toLowerCase();
  if (lower === 'png' || lower.endsWith('.png')) return 'png';
  if (lower === 'nii.gz' || lower.endsWith('.nii.gz')) return 'nii.gz';
  if (lower === 'nii' || lower.endsWith('.nii')) return 'nii';
  return undefined;
}

/** The body's format: ?format=, then ?filename=, then Content-Type, then the bytes' signature. */
export function pickFormat(body: Buffer, contentType: string | undefined, format?: string, filename?: string): ImageFormat {
  if (format !== undefined) {
    const f = formatFromName(format);
    if (!f) throw badRequest(`unknown format '${format.slice(0, 40)}': use png, nii or nii.gz`);
    return f;
  }
  if (filename !== undefined) {
    const f = formatFromName(filename);
    if (!f) throw badRequest(`cannot tell the format of '${filename.slice(0, 80)}': name it .png, .nii or .nii.gz`);
    return f;
  }
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'image/png') return 'png';
  if (type === 'application/gzip' || type === 'application/x-gzip') return 'nii.gz';
  if (body.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  if (body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b) return 'nii.gz';
  if (body.length >= 4 && (body.readInt32LE(0) === 348 || body.readInt32BE(0) === 348)) return 'nii';
  throw badRequest('cannot tell the image format: send Content-Type image/png or application/gzip, or add ?format=png|nii|nii.gz');
}

export interface DecodedImage {
  volume: Volume;
  /** The NIfTI header, kept so the label map carries the image's orientation. */
  niftiHeader?: NiftiHeader;
}

export async function decodeImage(body: Buffer, format: ImageFormat): Promise<DecodedImage> {
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const name = `request body (${format})`;
  try {
    if (format === 'png') return { volume: decodePng(bytes, name).volume };
    const { volume, header } = await decodeNifti(bytes, name);
    return { volume, niftiHeader: header };
  } catch (error) {
    if (isRwsegError(error)) throw badRequest(`cannot decode the image: ${error.message}`);
    throw badRequest(`cannot decode the ${format} image: ${(error as Error).message}`);
  }
}

export async function encodeLabels(volume: Volume, format: ImageFormat, niftiHeader?: NiftiHeader): Promise<Buffer> {
  const name = `labels.${format}`;
  if (format === 'png') {
    if (volume.shape.length !== 2) throw badRequest(`a ${volume.shape.length}-D label map cannot be written as PNG; send NIfTI`);
    return Buffer.from(encodePng(volume, name));
  }
  const bytes = encodeNifti(volume, name, { header: niftiHeader, datatype: volume.data instanceof Uint16Array ? 'uint16' : 'uint8' });
  return format === 'nii.gz' ? gzip(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
