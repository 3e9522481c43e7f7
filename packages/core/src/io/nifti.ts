/**
 * NIfTI-1 volumes (.nii, .nii.gz) to and from Volume.
 *
 * Axis order: NIfTI stores x fastest, then y, then z. A Volume is row-major with the last axis fastest, so the
 * file's dims are reversed: a 3D file with dim = [X, Y, Z] becomes shape [Z, Y, X] and pixdim [dx, dy, dz]
 * becomes spacing [dz, dy, dx]. The voxel bytes then need no reordering. 2D files give [Y, X]. A 4th dimension
 * of size C > 1 (time or modalities) becomes a channels-last axis: shape [Z, Y, X, C], `channels` = C.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import { RwsegError } from '../errors.js';
import { spatialShapeOf, voxelCount, type Volume, type VoxelArray } from '../volume.js';
import { readBytes, writeBytesAtomic } from './files.js';
import {
  NIFTI_DATATYPES,
  NIFTI1_SINGLE_FILE_OFFSET,
  defaultNiftiHeader,
  parseNiftiHeader,
  serializeNiftiHeader,
  type NiftiDatatypeCode,
  type NiftiDatatypeName,
  type NiftiHeader,
} from './nifti-header.js';
import { niftiOrientationFields, orientationFromNifti } from './orientation.js';

const gunzip = promisify(gunzipCallback);
const gzip = promisify(gzipCallback);

export interface NiftiImage {
  header: NiftiHeader;
  volume: Volume;
}

export interface WriteNiftiOptions {
  /** A header from readNifti whose orientation (qform/sform), units and description are kept. */
  header?: NiftiHeader;
  /** Stored datatype; defaults to the one matching the volume's typed array. Integer types round and range-check. */
  datatype?: NiftiDatatypeName;
  /** gzip level 1..9 for .gz files (default 6). */
  compressionLevel?: number;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Applies scl_slope/scl_inter as NIfTI defines them: a slope of 0 or NaN means the stored values are final. */
export function hasIntensityScaling(header: Pick<NiftiHeader, 'sclSlope' | 'sclInter'>): boolean {
  const { sclSlope, sclInter } = header;
  return (
    Number.isFinite(sclSlope) && sclSlope !== 0 && !(sclSlope === 1 && (sclInter === 0 || !Number.isFinite(sclInter)))
  );
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** Moves a trailing (slowest) channel block [C, ...spatial] to channels-last [...spatial, C]. */
function channelsLast<T extends VoxelArray>(data: T, spatial: number, channels: number): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < spatial; v++) out[v * channels + c] = data[c * spatial + v]!;
  }
  return out;
}

function channelsFirst<T extends VoxelArray>(data: T, spatial: number, channels: number): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < spatial; v++) out[c * spatial + v] = data[v * channels + c]!;
  }
  return out;
}

/** Decodes a NIfTI-1 file already in memory (gzip or not). `file` names the source in errors. */
export async function decodeNifti(raw: Uint8Array, file: string): Promise<NiftiImage> {
  let bytes = raw;
  if (isGzip(raw)) {
    try {
      bytes = await gunzip(raw);
    } catch (error) {
      throw new RwsegError(
        'IO_ERROR',
        `${file}: corrupt or truncated gzip data (${(error as Error).message})`,
        { file },
        { cause: error },
      );
    }
  }
  const header = parseNiftiHeader(bytes, file);
  const type = NIFTI_DATATYPES[header.datatype];
  const width = type.bitpix / 8;
  const count = voxelCount(header.dims);
  const offset = Number.isFinite(header.voxOffset)
    ? Math.max(Math.floor(header.voxOffset), NIFTI1_SINGLE_FILE_OFFSET)
    : NIFTI1_SINGLE_FILE_OFFSET;
  const needed = offset + count * width;
  if (bytes.length < needed) {
    throw new RwsegError(
      'IO_ERROR',
      `${file}: truncated voxel data: dims ${header.dims.join('x')} of ${type.name} need ${count * width} bytes after offset ${offset}, the file has ${Math.max(0, bytes.length - offset)}`,
      { file },
    );
  }
  // A private, aligned copy: the result owns its buffer and can be transferred to a worker.
  const voxelBytes = new Uint8Array(count * width);
  voxelBytes.set(bytes.subarray(offset, needed));
  if (!header.littleEndian) swapBytes(voxelBytes, width);
  let data: VoxelArray = new type.array(voxelBytes.buffer);
  if (hasIntensityScaling(header)) {
    const scaled = data instanceof Float64Array ? new Float64Array(count) : new Float32Array(count);
    const inter = Number.isFinite(header.sclInter) ? header.sclInter : 0;
    for (let i = 0; i < count; i++) scaled[i] = data[i]! * header.sclSlope + inter;
    data = scaled;
  }
  const spatialRank = Math.min(header.dims.length, 3);
  const spatialDims = header.dims.slice(0, spatialRank);
  const channels = voxelCount(header.dims.slice(spatialRank));
  const shape = [...spatialDims].reverse();
  const spacing = header.pixdim
    .slice(0, spatialRank)
    .map((p) => (Number.isFinite(p) && p > 0 ? p : 1))
    .reverse();
  const orientation = orientationFromNifti(header, spatialRank);
  const placed = orientation ? { orientation } : {};
  if (channels > 1) {
    data = channelsLast(data, voxelCount(spatialDims), channels);
    return { header, volume: { data, shape: [...shape, channels], spacing, channels, ...placed } };
  }
  return { header, volume: { data, shape, spacing, ...placed } };
}

export async function readNifti(file: string): Promise<NiftiImage> {
  return decodeNifti(await readBytes(file), file);
}

const CODE_BY_ARRAY = new Map<Function, NiftiDatatypeCode>(
  Object.entries(NIFTI_DATATYPES).map(([code, d]) => [d.array, Number(code) as NiftiDatatypeCode]),
);

function codeForName(name: NiftiDatatypeName): NiftiDatatypeCode {
  const entry = Object.entries(NIFTI_DATATYPES).find(([, d]) => d.name === name);
  if (!entry) throw new RwsegError('INVALID_OPTIONS', `unknown NIfTI datatype "${name}"`, { datatype: name });
  return Number(entry[0]) as NiftiDatatypeCode;
}

/** Converts to the stored type; integers are rounded and must fit, so a label never wraps around silently. */
function castForStorage(data: VoxelArray, code: NiftiDatatypeCode, file: string): VoxelArray {
  const Target = NIFTI_DATATYPES[code].array;
  if (data instanceof Target) return data;
  const out = new Target(data.length);
  if (out instanceof Float32Array || out instanceof Float64Array) {
    out.set(data);
    return out;
  }
  const probe = new Target(1);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i]!);
    probe[0] = v;
    if (probe[0] !== v) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${file}: value ${data[i]} at voxel ${i} does not fit NIfTI datatype ${NIFTI_DATATYPES[code].name}`,
        { file, index: i },
      );
    }
    out[i] = v;
  }
  return out;
}

/** Checks that shape, channels, spacing and data length agree before anything is written. */
export function assertVolumeConsistent(volume: Volume, file: string): { spatialShape: number[]; channels: number } {
  const channels = volume.channels ?? 1;
  const spatialShape = spatialShapeOf(volume);
  if (volume.channels && volume.shape[volume.shape.length - 1] !== volume.channels) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${file}: volume shape [${volume.shape.join(', ')}] does not end with its ${volume.channels} channels`,
      { file },
    );
  }
  if (spatialShape.length === 0 || spatialShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RwsegError('INVALID_INPUT', `${file}: invalid volume shape [${volume.shape.join(', ')}]`, { file });
  }
  if (voxelCount(volume.shape) !== volume.data.length) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${file}: volume shape [${volume.shape.join(', ')}] holds ${voxelCount(volume.shape)} voxels but data has ${volume.data.length}`,
      { file },
    );
  }
  if (volume.spacing.length !== spatialShape.length) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${file}: spacing [${volume.spacing.join(', ')}] has ${volume.spacing.length} entries for ${spatialShape.length} spatial axes`,
      { file },
    );
  }
  return { spatialShape, channels };
}

/** Encodes to NIfTI-1 bytes (uncompressed). See the module comment for the axis order. */
export function encodeNifti(volume: Volume, file: string, options: WriteNiftiOptions = {}): Uint8Array {
  const { spatialShape, channels } = assertVolumeConsistent(volume, file);
  if (spatialShape.length > 3) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${file}: NIfTI output supports up to 3 spatial axes, got shape [${volume.shape.join(', ')}]`,
      { file },
    );
  }
  const code = options.datatype ? codeForName(options.datatype) : (CODE_BY_ARRAY.get(volume.data.constructor) ?? 16);
  const dims = [...spatialShape].reverse();
  const pixdim = [...volume.spacing].reverse();
  if (channels > 1) {
    while (dims.length < 3) {
      dims.push(1);
      pixdim.push(1);
    }
    dims.push(channels);
    pixdim.push(1);
  }
  const base = defaultNiftiHeader(dims, pixdim, code);
  // An explicit header wins (it is what the caller read); else the volume's own orientation, so labels written
  // for an image overlay it in a viewer.
  const header: NiftiHeader = options.header
    ? {
        ...options.header,
        dims,
        pixdim,
        datatype: code,
        bitpix: NIFTI_DATATYPES[code].bitpix,
        voxOffset: NIFTI1_SINGLE_FILE_OFFSET,
      }
    : volume.orientation && spatialShape.length === volume.orientation.direction.length
      ? { ...base, ...niftiOrientationFields(volume.orientation, pixdim) }
      : base;
  // Volume values are already real-world values; they are stored unscaled.
  header.sclSlope = 1;
  header.sclInter = 0;
  let data = castForStorage(volume.data, code, file);
  if (channels > 1) data = channelsFirst(data, voxelCount(spatialShape), channels);
  const headerBytes = serializeNiftiHeader(header);
  const out = new Uint8Array(headerBytes.length + data.byteLength);
  out.set(headerBytes, 0);
  const voxels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(voxels, headerBytes.length);
  // Typed arrays use the platform's byte order; NIfTI written here is little-endian.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 0)
    swapBytes(out.subarray(headerBytes.length), NIFTI_DATATYPES[code].bitpix / 8);
  return out;
}

export async function writeNifti(file: string, volume: Volume, options: WriteNiftiOptions = {}): Promise<void> {
  const bytes = encodeNifti(volume, file, options);
  const payload = file.toLowerCase().endsWith('.gz')
    ? await gzip(bytes, { level: options.compressionLevel ?? 6 })
    : bytes;
  await writeBytesAtomic(file, payload);
}
