/**
 * Image formats of the segment route, on @rwseg/core's byte-level decodeImage and encodeImage (the code that
 * reads datasets for training, so a served image is decoded exactly as the same file would be in training):
 * every format core reads from a single file (PNG, JPEG, GIF, BMP, TIFF incl. multi-page, NIfTI, NRRD, MHA and
 * a DICOM file). The label map goes back in the format core's labelFormatFor picks for the input, the rule
 * `rwseg predict` follows too.
 *
 * Sizes are capped before anything is decoded: the body cap is fastify's (--body-limit); the voxel cap
 * (--max-voxels) is checked against what the header declares (core's declaredSize), and a .nii.gz is inflated no
 * further than its header says it needs.
 */
import { createGunzip } from 'node:zlib';
import { isRwsegError } from '@rwseg/core';
import {
  FORMAT_EXTENSIONS,
  FORMAT_NAMES,
  declaredSize,
  decodeImage as decodeBytes,
  encodeImage,
  formatOfContent,
  formatOfExtension,
  labelFormatFor,
  voxelCount,
  type ImageFormat,
  type ImageRead,
  type Volume,
} from '@rwseg/core/io';
import { badRequest, clip, HttpError } from './http-error.js';
import { currentLimits, type RequestLimits } from './request-context.js';

/** What a request body holds: a format, and for NIfTI whether it came gzipped (the answer is then gzipped too). */
export interface BodyFormat {
  format: ImageFormat;
  gzip: boolean;
}

/** Names accepted in ?format= (an extension without its dot, or the format's name). */
const FORMAT_WORDS: Readonly<Record<string, BodyFormat>> = {
  png: { format: 'png', gzip: false },
  jpg: { format: 'jpeg', gzip: false },
  jpeg: { format: 'jpeg', gzip: false },
  gif: { format: 'gif', gzip: false },
  bmp: { format: 'bmp', gzip: false },
  tif: { format: 'tiff', gzip: false },
  tiff: { format: 'tiff', gzip: false },
  nii: { format: 'nifti', gzip: false },
  nifti: { format: 'nifti', gzip: false },
  'nii.gz': { format: 'nifti', gzip: true },
  nrrd: { format: 'nrrd', gzip: false },
  mha: { format: 'metaimage', gzip: false },
  metaimage: { format: 'metaimage', gzip: false },
  dcm: { format: 'dicom', gzip: false },
  dicom: { format: 'dicom', gzip: false },
};

const CONTENT_TYPES: Readonly<Record<string, ImageFormat>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
  'image/x-bmp': 'bmp',
  'image/x-ms-bmp': 'bmp',
  'image/tiff': 'tiff',
  'application/dicom': 'dicom',
  'application/x-nifti': 'nifti',
  'application/gzip': 'nifti',
  'application/x-gzip': 'nifti',
  'application/x-nrrd': 'nrrd',
};

const ACCEPTED = 'png, jpg, gif, bmp, tif, nii, nii.gz, nrrd, mha, dcm';

/** A series, or a header whose voxels are in another file, cannot be one body: say what to send instead. */
const NOT_ONE_BODY =
  'cannot be sent as one request body: send a single-file image (one DICOM slice as .dcm, or the volume as ' +
  'NIfTI, NRRD or MHA; `rwseg dataset convert` writes a series as NIfTI)';

function isGzip(body: Uint8Array): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

function fromWord(word: string): BodyFormat | 'series' | undefined {
  const w = word.trim().toLowerCase().replace(/^\./, '');
  if (w === 'dicom-series' || w === 'series' || w === 'mhd' || w === 'nhdr' || w === 'raw') return 'series';
  return FORMAT_WORDS[w];
}

function fromFilename(name: string): BodyFormat | 'series' | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.mhd') || lower.endsWith('.nhdr') || lower.endsWith('/')) return 'series';
  const format = formatOfExtension(lower);
  return format ? { format, gzip: lower.endsWith('.nii.gz') } : undefined;
}

function refuseSeries(what: string): HttpError {
  return badRequest(`${what}: a DICOM series or a detached header (.mhd/.nhdr + data file) ${NOT_ONE_BODY}`);
}

/** The body's format: ?format=, then ?filename=, then Content-Type, then the bytes' signature. */
export function pickFormat(
  body: Buffer,
  contentType: string | undefined,
  format?: string,
  filename?: string,
): BodyFormat {
  const gzip = isGzip(body);
  if (format !== undefined) {
    const f = fromWord(format);
    if (f === 'series') throw refuseSeries(`format '${clip(format, 40)}'`);
    if (!f) throw badRequest(`unknown format '${clip(format, 40)}': use ${ACCEPTED}`);
    return f.format === 'nifti' ? { format: 'nifti', gzip: f.gzip || gzip } : f;
  }
  if (filename !== undefined) {
    const f = fromFilename(filename);
    if (f === 'series') throw refuseSeries(`'${clip(filename)}'`);
    if (!f) throw badRequest(`cannot tell the format of '${clip(filename)}': name it with one of ${ACCEPTED}`);
    return f.format === 'nifti' ? { format: 'nifti', gzip: f.gzip || gzip } : f;
  }
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const typed = CONTENT_TYPES[type];
  if (typed) return { format: typed, gzip: typed === 'nifti' && gzip };
  const signed = formatOfContent(body);
  if (signed) return { format: signed, gzip: false };
  // gzip is left to NIfTI: it is the one format here sent gzipped as a whole.
  if (gzip) return { format: 'nifti', gzip: true };
  throw badRequest(
    `cannot tell the image format: send a Content-Type such as image/png, image/tiff, application/dicom or ` +
      `application/gzip, or add ?format= (${ACCEPTED})`,
  );
}

/** Bytes per voxel of the largest NIfTI datatype (complex256), for a bound when a header cannot be read. */
const MAX_VOXEL_BYTES = 32;
const NIFTI_SINGLE_FILE_OFFSET = 352;

function tooLarge(dims: readonly number[], voxels: number, limits: RequestLimits): HttpError {
  // x first, as the formats' own headers list them (width x height x depth).
  const what = [...dims].reverse().join('x');
  return new HttpError(
    413,
    `the image has ${what} = ${voxels} voxels, more than the server's limit of ${limits.maxVoxels} (--max-voxels)`,
  );
}

/** The header's size against the cap; a header that does not say its size is corrupt (nothing is decoded). */
function checkDeclaredSize(bytes: Uint8Array, format: ImageFormat, limits: RequestLimits): void {
  const size = declaredSize(bytes, format);
  if (!size) {
    throw badRequest(
      `cannot decode the image: request body (${FORMAT_NAMES[format]}): its header is missing, truncated or ` +
        `corrupt (no image size in it)`,
    );
  }
  if (size.voxels > limits.maxVoxels) throw tooLarge(size.dims, size.voxels, limits);
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
    let allowed = NIFTI_SINGLE_FILE_OFFSET + limits.maxVoxels * MAX_VOXEL_BYTES;
    let checked = false;
    const fail = (error: Error) => {
      gunzip.removeAllListeners('data');
      gunzip.destroy();
      reject(error);
    };
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (!checked && length >= NIFTI_SINGLE_FILE_OFFSET) {
        checked = true;
        const size = declaredSize(Buffer.concat(chunks), 'nifti');
        if (size && size.voxels > limits.maxVoxels) return fail(tooLarge(size.dims, size.voxels, limits));
        // Trailing bytes past the voxel data are harmless; a body inflating far past it is refused.
        if (size?.fileBytes) allowed = size.fileBytes + 65_536;
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
  { format }: BodyFormat,
  limits: RequestLimits = currentLimits(),
): Promise<ImageRead> {
  // A gzip NIfTI is inflated here, bounded; the other formats compress inside and declare their size outside.
  const bytes = format === 'nifti' && isGzip(body) ? await inflateNifti(body, limits) : body;
  checkDeclaredSize(bytes, format, limits);
  let read: ImageRead;
  try {
    read = await decodeBytes(bytes, { format, name: `request body (${FORMAT_NAMES[format]})` });
  } catch (error) {
    if (isRwsegError(error)) throw badRequest(`cannot decode the image: ${error.message}`);
    throw badRequest(`cannot decode the ${FORMAT_NAMES[format]} image: ${(error as Error).message}`);
  }
  // The header's word was checked above; this catches a decoder that disagrees with it.
  const { volume } = read;
  const spatial = volume.channels ? volume.shape.slice(0, -1) : volume.shape;
  if (voxelCount(spatial) > limits.maxVoxels) throw tooLarge(spatial, voxelCount(spatial), limits);
  return read;
}

/** What the answer holds: the label map's bytes, their media type and a file name with the right extension. */
export interface EncodedLabels {
  bytes: Buffer;
  contentType: string;
  filename: string;
}

const LABEL_MEDIA_TYPES: Partial<Record<ImageFormat, string>> = {
  png: 'image/png',
  tiff: 'image/tiff',
  nrrd: 'application/octet-stream',
  metaimage: 'application/octet-stream',
};

/** Labels in the format core's rule picks for the input (its own when rwseg writes it), on the image's grid. */
export async function encodeLabels(labels: Volume, input: ImageRead, request: BodyFormat): Promise<EncodedLabels> {
  const spatialRank = labels.shape.length;
  const format = labelFormatFor(input.format, spatialRank);
  // A NIfTI answer is gzipped when the request was, and for a DICOM input (a NIfTI made for it).
  const gzip = format === 'nifti' && (request.format === 'nifti' ? request.gzip : true);
  const niftiExtension = gzip ? '.nii.gz' : '.nii';
  const extension =
    format === 'nifti' ? niftiExtension : format === 'metaimage' ? '.mha' : FORMAT_EXTENSIONS[format][0];
  const name = `labels${extension}`;
  let bytes: Uint8Array;
  try {
    bytes = await encodeImage(labels, format, {
      name,
      gzip,
      ...(format === 'nifti' && input.niftiHeader ? { header: input.niftiHeader } : {}),
      ...(format === 'nifti' ? { datatype: labels.data instanceof Uint16Array ? 'uint16' : 'uint8' } : {}),
    });
  } catch (error) {
    if (isRwsegError(error) && error.code === 'INVALID_INPUT') throw badRequest(error.message);
    throw error;
  }
  const niftiType = gzip ? 'application/gzip' : 'application/octet-stream';
  const contentType = format === 'nifti' ? niftiType : LABEL_MEDIA_TYPES[format]!;
  return { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), contentType, filename: name };
}
