/**
 * Image formats of the segment route, on @rwseg/core's byte-level readers and writers (the same code that
 * reads datasets for training, so a served image is decoded exactly as a training image was).
 */
import { promisify } from 'node:util';
import { createGunzip, gzip as gzipCallback } from 'node:zlib';
import { decodeNifti, decodePng, encodeNifti, encodePng, isRwsegError, type NiftiHeader, type Volume } from '@rwseg/core';
import { badRequest, HttpError } from './http-error.js';
import { currentLimits, type RequestLimits } from './request-context.js';

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

const NIFTI1_HEADER = 348;
/** Bytes per voxel of the largest NIfTI datatype (complex256), for a bound when a header cannot be read. */
const MAX_VOXEL_BYTES = 32;

function tooLarge(what: string, voxels: number, limits: RequestLimits): HttpError {
  return new HttpError(
    413,
    `the image has ${what} = ${voxels} voxels, more than the server's limit of ${limits.maxVoxels} (--max-voxels)`,
  );
}

/** PNG width and height from the IHDR chunk, checked before anything is inflated. */
function checkPngSize(body: Buffer, limits: RequestLimits): void {
  if (body.length < 24 || !body.subarray(0, 8).equals(PNG_SIGNATURE)) return;
  if (body.toString('latin1', 12, 16) !== 'IHDR') return;
  const width = body.readUInt32BE(16);
  const height = body.readUInt32BE(20);
  if (width * height > limits.maxVoxels) throw tooLarge(`${width}x${height}`, width * height, limits);
}

/** NIfTI-1 dims and the bytes the file needs, read from the header's fixed offsets (undefined if unreadable). */
function niftiSize(header: Buffer): { dims: number[]; voxels: number; bytes: number } | undefined {
  if (header.length < NIFTI1_HEADER + 4) return undefined;
  const little = header.readInt32LE(0) === NIFTI1_HEADER;
  if (!little && header.readInt32BE(0) !== NIFTI1_HEADER) return undefined;
  const i16 = (o: number) => (little ? header.readInt16LE(o) : header.readInt16BE(o));
  const ndim = i16(40);
  if (ndim < 1 || ndim > 7) return undefined;
  const dims = Array.from({ length: ndim }, (_, i) => Math.max(1, i16(42 + 2 * i)));
  const voxels = dims.reduce((n, d) => n * d, 1);
  const bitpix = Math.max(8, i16(72));
  const offset = little ? header.readFloatLE(108) : header.readFloatBE(108);
  const start = Number.isFinite(offset) && offset >= NIFTI1_HEADER + 4 ? Math.floor(offset) : NIFTI1_HEADER + 4;
  return { dims, voxels, bytes: start + (voxels * bitpix) / 8 };
}

function checkNiftiSize(bytes: Buffer, limits: RequestLimits): void {
  const size = niftiSize(bytes);
  if (size && size.voxels > limits.maxVoxels) throw tooLarge(size.dims.join('x'), size.voxels, limits);
}

/**
 * Inflates a .nii.gz no further than its header says it needs, so a small body that inflates to gigabytes (a
 * gzip bomb) stops at the cap: the header's dims are checked as soon as its 352 bytes are out, and the output
 * may not grow past what those dims need.
 */
async function inflateNifti(body: Buffer, limits: RequestLimits): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let length = 0;
    let allowed = NIFTI1_HEADER + 4 + limits.maxVoxels * MAX_VOXEL_BYTES;
    let checked = false;
    const fail = (error: Error) => {
      gunzip.removeAllListeners('data');
      gunzip.destroy();
      reject(error);
    };
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (!checked && length >= NIFTI1_HEADER + 4) {
        checked = true;
        const size = niftiSize(Buffer.concat(chunks));
        if (size && size.voxels > limits.maxVoxels) return fail(tooLarge(size.dims.join('x'), size.voxels, limits));
        // Trailing bytes past the voxel data are harmless; a body inflating far past it is refused.
        if (size) allowed = size.bytes + 65_536;
      }
      if (length > allowed) {
        const message =
          `the gzip body inflates past the ${allowed} bytes its NIfTI header needs ` +
          `(the server's limit is ${limits.maxVoxels} voxels, --max-voxels)`;
        fail(new HttpError(413, message));
      }
    });
    gunzip.on('end', () => resolve(Buffer.concat(chunks, length)));
    gunzip.on('error', (error) =>
      fail(badRequest(`cannot decode the image: corrupt or truncated gzip data (${error.message})`)),
    );
    gunzip.end(body);
  });
}

/** Decodes the body; the decoded size is capped (the request's --max-voxels) before any large allocation. */
export async function decodeImage(
  body: Buffer,
  format: ImageFormat,
  limits: RequestLimits = currentLimits(),
): Promise<DecodedImage> {
  const name = `request body (${format})`;
  let bytes = body;
  if (format === 'png') checkPngSize(body, limits);
  // Any gzip body is inflated here, bounded, whatever format was asked for.
  else if (body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b) bytes = await inflateNifti(body, limits);
  else checkNiftiSize(body, limits);
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (format === 'png') return { volume: decodePng(view, name).volume };
    const { volume, header } = await decodeNifti(view, name);
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
