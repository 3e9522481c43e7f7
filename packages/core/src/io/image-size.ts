/**
 * How many voxels an image will decode to, read from its header alone, so a size cap (the server's --max-voxels)
 * refuses a small file that decodes huge (a 40 kB JPEG or compressed TIFF of 60000x60000) before any decoder
 * allocates. Only the fixed header fields are read; the pixels are not touched. Undefined when the header cannot
 * be read: the decoder then names what is wrong.
 */
import dicomParser from 'dicom-parser';
import type { ImageFormat } from './formats.js';
import { gifFrames } from './gif-frames.js';
import { readTiffTags } from './tiff-tags.js';

export interface DeclaredSize {
  /** The dimensions the header declares, slowest first (pages/frames/slices, then rows, then columns). */
  dims: number[];
  /** Their product: samples per channel. */
  voxels: number;
  /** NIfTI only: the bytes a single file needs (vox_offset + voxels x bitpix / 8), a bound for inflating it. */
  fileBytes?: number;
}

function sized(dims: number[]): DeclaredSize {
  return { dims, voxels: dims.reduce((a, b) => a * b, 1) };
}

function pngSize(b: Buffer): DeclaredSize | undefined {
  if (b.length < 24 || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return sized([b.readUInt32BE(20), b.readUInt32BE(16)]);
}

/** The first start-of-frame marker's height and width (baseline, progressive, lossless, arithmetic). */
function jpegSize(b: Buffer): DeclaredSize | undefined {
  let p = 2;
  while (p + 9 < b.length) {
    if (b[p] !== 0xff) return undefined;
    const marker = b[p + 1]!;
    if (marker === 0xff) {
      p++;
      continue;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return sized([b.readUInt16BE(p + 5), b.readUInt16BE(p + 7)]);
    if (marker === 0xd9 || marker === 0xda) return undefined;
    p += 2 + b.readUInt16BE(p + 2);
  }
  return undefined;
}

function bmpSize(b: Buffer): DeclaredSize | undefined {
  if (b.length < 26) return undefined;
  return sized([Math.abs(b.readInt32LE(22)), Math.abs(b.readInt32LE(18))]);
}

/** NRRD "sizes:" and MetaImage "DimSize =" (x first in both), plus MetaImage's channel count. */
function textHeaderSize(b: Buffer, format: 'nrrd' | 'metaimage'): DeclaredSize | undefined {
  const text = b.toString('latin1', 0, Math.min(b.length, 64 * 1024));
  const pattern = format === 'nrrd' ? /^sizes:\s*([^\n]+)$/m : /^\s*DimSize\s*=\s*([^\n]+)$/m;
  const match = pattern.exec(text);
  if (!match) return undefined;
  const dims = match[1]!.trim().split(/\s+/).map(Number);
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) return undefined;
  const channels = format === 'metaimage' ? Number(/^\s*ElementNumberOfChannels\s*=\s*(\d+)/m.exec(text)?.[1] ?? 1) : 1;
  const size = sized(dims.reverse());
  return { dims: size.dims, voxels: size.voxels * channels };
}

function dicomSize(b: Buffer): DeclaredSize | undefined {
  try {
    const ds = dicomParser.parseDicom(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), { untilTag: 'x7fe00010' });
    const rows = ds.uint16('x00280010');
    const columns = ds.uint16('x00280011');
    if (rows === undefined || columns === undefined) return undefined;
    const frames = Number(ds.string('x00280008') ?? 1) || 1;
    return sized(frames > 1 ? [frames, rows, columns] : [rows, columns]);
  } catch {
    return undefined;
  }
}

/** NIfTI-1 dims from the fixed offsets (uncompressed bytes; a .nii.gz is sized after a bounded inflate). */
function niftiSize(b: Buffer): DeclaredSize | undefined {
  if (b.length < 348) return undefined;
  const little = b.readInt32LE(0) === 348;
  if (!little && b.readInt32BE(0) !== 348) return undefined;
  const i16 = (o: number) => (little ? b.readInt16LE(o) : b.readInt16BE(o));
  const ndim = i16(40);
  if (ndim < 1 || ndim > 7) return undefined;
  const size = sized(Array.from({ length: ndim }, (_, i) => Math.max(1, i16(42 + 2 * i))).reverse());
  const bitpix = Math.max(8, i16(72));
  const offset = little ? b.readFloatLE(108) : b.readFloatBE(108);
  const start = Number.isFinite(offset) && offset >= 352 ? Math.floor(offset) : 352;
  return { ...size, fileBytes: start + (size.voxels * bitpix) / 8 };
}

/** The voxels `bytes` will decode to as `format`, from the header; undefined if the header does not say. */
export function declaredSize(bytes: Uint8Array, format: ImageFormat): DeclaredSize | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (format) {
    case 'png':
      return pngSize(b);
    case 'jpeg':
      return jpegSize(b);
    case 'bmp':
      return bmpSize(b);
    case 'gif': {
      const frames = gifFrames(bytes);
      if (!frames) return undefined;
      const plane = [frames.height, frames.width];
      return sized(frames.count > 1 ? [frames.count, ...plane] : plane);
    }
    case 'tiff': {
      try {
        const tags = readTiffTags(bytes, 'image');
        if (tags.pages === 0) return undefined;
        const plane = [tags.height ?? 0, tags.width ?? 0];
        // Pages may differ in size; what decodes is their sum.
        return { dims: tags.pages > 1 ? [tags.pages, ...plane] : plane, voxels: tags.pixels };
      } catch {
        return undefined;
      }
    }
    case 'nrrd':
    case 'metaimage':
      return textHeaderSize(b, format);
    case 'dicom':
      return dicomSize(b);
    case 'nifti':
      return niftiSize(b);
  }
}
