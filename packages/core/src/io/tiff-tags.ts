/**
 * What ITK leaves out of a TIFF: where its pixel size comes from, and whether the file is whole.
 * - ITK turns XResolution/YResolution with ResolutionUnit inch or cm into millimetres; ImageJ (and tifffile's
 *   imagej mode, Fiji, most microscopy) instead writes ResolutionUnit "none", the unit and the z step in its
 *   ImageDescription ("unit=micron", "spacing=0.05"), which ITK ignores: this applies it.
 * - libtiff reads a stack cut short as fewer pages without a word, so every IFD's strips or tiles are checked to
 *   lie inside the file, and the page count against what ITK decoded.
 * Only the IFDs are read (a few hundred bytes a page); the pixels stay with ITK.
 */
import { RwsegError } from '../errors.js';
import type { Volume } from '../volume.js';
import type { ImageRead } from './volume-io.js';

const TAG_IMAGE_WIDTH = 256;
const TAG_IMAGE_LENGTH = 257;
const TAG_DESCRIPTION = 270;
const TAG_STRIP_OFFSETS = 273;
const TAG_STRIP_BYTE_COUNTS = 279;
const TAG_X_RESOLUTION = 282;
const TAG_Y_RESOLUTION = 283;
const TAG_TILE_OFFSETS = 324;
const TAG_TILE_BYTE_COUNTS = 325;
const MAX_PAGES = 100_000;

/** Millimetres per ImageJ unit name. */
const UNIT_MM: Readonly<Record<string, number>> = {
  nm: 1e-6,
  nanometer: 1e-6,
  um: 1e-3,
  micron: 1e-3,
  microns: 1e-3,
  micrometer: 1e-3,
  '\u00b5m': 1e-3,
  '\u03bcm': 1e-3,
  mm: 1,
  millimeter: 1,
  cm: 10,
  centimeter: 10,
  m: 1000,
  meter: 1000,
  inch: 25.4,
  in: 25.4,
};

export interface TiffTags {
  pages: number;
  /** Pixels over all pages (ImageWidth x ImageLength summed), for a size cap before anything is decoded. */
  pixels: number;
  /** The first page's ImageWidth and ImageLength. */
  width?: number;
  height?: number;
  description?: string;
  xResolution?: number;
  yResolution?: number;
}

function truncated(file: string, what: string): RwsegError {
  return new RwsegError('IO_ERROR', `${file}: truncated or corrupt TIFF (${what})`, { file, format: 'tiff' });
}

/** Walks the IFD chain of a classic TIFF; BigTIFF is left to ITK alone (pages: 0). */
export function readTiffTags(bytes: Uint8Array, file: string): TiffTags {
  const size = bytes.length;
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (offset: number, length: number) => whole.subarray(offset, Math.min(size, offset + length));
  const header = read(0, 8);
  if (header.length < 8) throw truncated(file, `${header.length} bytes, the header alone is 8`);
  const little = header.toString('latin1', 0, 2) === 'II';
  const u16 = (b: Buffer, o: number) => (little ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u16(header, 2) !== 42) return { pages: 0, pixels: 0 };
  const tags: TiffTags = { pages: 0, pixels: 0 };
  const seen = new Set<number>();
  // Values of SHORT (3) or LONG (4) arrays, inline when they fit in 4 bytes.
  const values = (entry: Buffer, e: number): number[] => {
    const type = u16(entry, e + 2),
      count = u32(entry, e + 4);
    const width = type === 3 ? 2 : 4;
    const bytes = count * width <= 4 ? entry.subarray(e + 8, e + 12) : read(u32(entry, e + 8), count * width);
    if (bytes.length < count * width && count * width > 4)
      throw truncated(file, `tag ${u16(entry, e)} points past the end`);
    return Array.from({ length: count }, (_, i) => (width === 2 ? u16(bytes, i * 2) : u32(bytes, i * 4)));
  };
  for (let ifd = u32(header, 4); ifd !== 0;) {
    if (seen.has(ifd) || tags.pages >= MAX_PAGES) throw truncated(file, `IFD chain loops at offset ${ifd}`);
    seen.add(ifd);
    if (ifd + 2 > size) throw truncated(file, `page ${tags.pages + 1} starts at byte ${ifd}, the file has ${size}`);
    const count = u16(read(ifd, 2), 0);
    const entries = read(ifd + 2, count * 12 + 4);
    if (entries.length < count * 12 + 4) throw truncated(file, `page ${tags.pages + 1}'s directory runs past the end`);
    let offsets: number[] | undefined, counts: number[] | undefined;
    let width = 0,
      height = 0;
    for (let e = 0; e < count * 12; e += 12) {
      const tag = u16(entries, e);
      if (tag === TAG_IMAGE_WIDTH) width = values(entries, e)[0] ?? 0;
      else if (tag === TAG_IMAGE_LENGTH) height = values(entries, e)[0] ?? 0;
      else if (tag === TAG_STRIP_OFFSETS || tag === TAG_TILE_OFFSETS) offsets = values(entries, e);
      else if (tag === TAG_STRIP_BYTE_COUNTS || tag === TAG_TILE_BYTE_COUNTS) counts = values(entries, e);
      else if (tags.pages === 0 && tag === TAG_DESCRIPTION) {
        const n = u32(entries, e + 4);
        if (n > 0 && n < 1 << 20) {
          const bytes = n <= 4 ? entries.subarray(e + 8, e + 8 + n) : read(u32(entries, e + 8), n);
          tags.description = bytes.toString('latin1').replace(/\0+$/, '');
        }
      } else if (tags.pages === 0 && (tag === TAG_X_RESOLUTION || tag === TAG_Y_RESOLUTION)) {
        const r = read(u32(entries, e + 8), 8);
        if (r.length === 8 && u32(r, 4) !== 0) {
          if (tag === TAG_X_RESOLUTION) tags.xResolution = u32(r, 0) / u32(r, 4);
          else tags.yResolution = u32(r, 0) / u32(r, 4);
        }
      }
    }
    if (offsets && counts) {
      const end = Math.max(...offsets.map((o, i) => o + (counts![i] ?? 0)));
      if (end > size)
        throw truncated(file, `page ${tags.pages + 1}'s pixel data ends at byte ${end}, the file has ${size}`);
    }
    if (tags.pages === 0) Object.assign(tags, { width, height });
    tags.pixels += width * height;
    tags.pages++;
    ifd = u32(entries, count * 12);
  }
  return tags;
}

/** ImageJ's "key=value" description lines, or undefined when the description is not ImageJ's. */
export function parseImageJDescription(description: string | undefined): Record<string, string> | undefined {
  if (!description || !description.startsWith('ImageJ=')) return undefined;
  const out: Record<string, string> = {};
  for (const line of description.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** Checks the file is whole and applies ImageJ's calibration to what ITK decoded. */
export function completeTiffRead(file: string, volume: Volume, tags: TiffTags): ImageRead {
  const rank = volume.spacing.length;
  const decodedPages = rank === 3 ? volume.shape[0]! : 1;
  if (tags.pages > 1 && decodedPages !== tags.pages) {
    throw truncated(file, `${tags.pages} pages in the file, ${decodedPages} decoded`);
  }
  const imagej = parseImageJDescription(tags.description);
  const mm = imagej?.unit ? UNIT_MM[imagej.unit.toLowerCase()] : undefined;
  if (imagej && mm !== undefined) {
    const spacing = [...volume.spacing];
    if (tags.xResolution) spacing[rank - 1] = mm / tags.xResolution;
    if (tags.yResolution && rank >= 2) spacing[rank - 2] = mm / tags.yResolution;
    const z = Number(imagej.spacing);
    if (rank === 3 && Number.isFinite(z) && z > 0) spacing[0] = z * mm;
    return { volume: { ...volume, spacing }, format: 'tiff', spacingSource: 'imagej' };
  }
  const fromTags = tags.xResolution !== undefined && volume.spacing.some((s) => s !== 1);
  return { volume, format: 'tiff', spacingSource: fromTags ? 'tiff-resolution' : 'none' };
}
