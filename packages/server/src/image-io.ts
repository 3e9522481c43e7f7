/**
 * Image formats of the segment route, on @rwseg/core's byte-level readers and writers (the same code that
 * reads datasets for training, so a served image is decoded exactly as a training image was).
 */
import * as core from '@rwseg/core';
import type { Volume } from '@rwseg/core';
import { HttpError, badRequest } from './http-error.js';

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

type Decoder = (bytes: Uint8Array, name: string) => Promise<Volume | { volume: Volume }> | Volume | { volume: Volume };
type Encoder = (volume: Volume, name: string, options?: Record<string, unknown>) => Promise<Uint8Array> | Uint8Array;

function coreFunction<T>(names: string[]): T {
  const lib = core as unknown as Record<string, unknown>;
  for (const name of names) if (typeof lib[name] === 'function') return lib[name] as T;
  throw new HttpError(501, `this build of @rwseg/core has no ${names[0]}; the segment route needs rwseg's image IO`);
}

export async function decodeImage(body: Buffer, format: ImageFormat): Promise<Volume> {
  const decode = coreFunction<Decoder>(format === 'png' ? ['decodePng'] : ['decodeNifti']);
  try {
    const result = await decode(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), `request.${format}`);
    return 'volume' in result ? result.volume : result;
  } catch (error) {
    throw badRequest(`cannot decode the ${format} image: ${(error as Error).message}`);
  }
}

export async function encodeLabels(volume: Volume, format: ImageFormat): Promise<Buffer> {
  const encode = coreFunction<Encoder>(format === 'png' ? ['encodePng'] : ['encodeNifti']);
  const bytes = await encode(volume, `labels.${format}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
