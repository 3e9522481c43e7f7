/**
 * Where a TIFF's pixel size comes from. ITK turns XResolution/YResolution with ResolutionUnit inch or cm into
 * millimetres; ImageJ (and tifffile's imagej mode, Fiji, most microscopy) instead writes ResolutionUnit "none",
 * the unit and the z step in its ImageDescription ("unit=micron", "spacing=0.05"), which ITK ignores. This reads
 * that description from the first IFD (a few hundred bytes; the pixels stay with ITK) and applies it.
 */
import { open } from 'node:fs/promises';
import type { Volume } from '../volume.js';
import type { ImageRead } from './volume-io.js';

const TAG_DESCRIPTION = 270;
const TAG_X_RESOLUTION = 282;
const TAG_Y_RESOLUTION = 283;

/** Millimetres per ImageJ unit name. */
const UNIT_MM: Readonly<Record<string, number>> = {
  nm: 1e-6, nanometer: 1e-6, um: 1e-3, micron: 1e-3, microns: 1e-3, micrometer: 1e-3, '\u00b5m': 1e-3, '\u03bcm': 1e-3,
  mm: 1, millimeter: 1, cm: 10, centimeter: 10, m: 1000, meter: 1000, inch: 25.4, in: 25.4,
};

interface ImageJTags {
  description?: string;
  xResolution?: number;
  yResolution?: number;
}

async function readFirstIfd(file: string): Promise<ImageJTags> {
  const handle = await open(file, 'r');
  try {
    const read = async (offset: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    };
    const header = await read(0, 8);
    if (header.length < 8) return {};
    const little = header.toString('latin1', 0, 2) === 'II';
    if (header.readUInt16LE(2) !== 42 && header.readUInt16BE(2) !== 42) return {}; // BigTIFF: leave it to ITK
    const u16 = (b: Buffer, o: number) => (little ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const ifd = u32(header, 4);
    const countBytes = await read(ifd, 2);
    if (countBytes.length < 2) return {};
    const entries = await read(ifd + 2, u16(countBytes, 0) * 12);
    const tags: ImageJTags = {};
    for (let e = 0; e + 12 <= entries.length; e += 12) {
      const tag = u16(entries, e);
      const count = u32(entries, e + 4);
      if (tag === TAG_DESCRIPTION && count > 0 && count < 1 << 20) {
        const bytes = count <= 4 ? entries.subarray(e + 8, e + 8 + count) : await read(u32(entries, e + 8), count);
        tags.description = bytes.toString('latin1').replace(/\0+$/, '');
      } else if (tag === TAG_X_RESOLUTION || tag === TAG_Y_RESOLUTION) {
        const r = await read(u32(entries, e + 8), 8);
        if (r.length === 8 && u32(r, 4) !== 0) {
          const value = u32(r, 0) / u32(r, 4);
          if (tag === TAG_X_RESOLUTION) tags.xResolution = value;
          else tags.yResolution = value;
        }
      }
    }
    return tags;
  } finally {
    await handle.close();
  }
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

export async function readTiffSpacing(file: string, volume: Volume): Promise<ImageRead> {
  const tags = await readFirstIfd(file);
  const imagej = parseImageJDescription(tags.description);
  const mm = imagej?.unit ? UNIT_MM[imagej.unit.toLowerCase()] : undefined;
  const rank = volume.spacing.length;
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
