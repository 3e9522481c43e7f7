/**
 * Grey PNG images (8 or 16 bit, label PNGs included) to and from Volume: shape [H, W] (row-major, x fastest as
 * in the file), spacing [1, 1] since PNG carries no physical size rwseg trusts.
 *
 * Colour PNGs whose R, G and B are equal everywhere (grey images saved as RGB) load as grey. True colour is
 * refused unless `colour: 'luminance'` is asked for, because converting a colour label image would invent classes.
 */
import { PNG } from 'pngjs';
import { RwsegError } from '../errors.js';
import type { Volume } from '../volume.js';
import { readBytes, writeBytesAtomic } from './files.js';
import { assertVolumeConsistent } from './nifti.js';

export interface PngInfo {
  width: number;
  height: number;
  /** Bits per sample in the file: 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
}

export interface PngImage {
  info: PngInfo;
  /** Uint8Array for 8-bit (and lower) files, Uint16Array for 16-bit files. */
  volume: Volume<Uint8Array | Uint16Array>;
}

export interface ReadPngOptions {
  /** What to do with a PNG whose colour channels differ: refuse it (default) or take Rec. 601 luminance. */
  colour?: 'reject' | 'luminance';
}

export interface WritePngOptions {
  /** 8 or 16; defaults to 16 for Uint16Array data or values above 255, else 8. */
  bitDepth?: 8 | 16;
}

export function decodePng(bytes: Uint8Array, file: string, options: ReadPngOptions = {}): PngImage {
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (error) {
    throw new RwsegError('IO_ERROR', `${file}: not a readable PNG (${(error as Error).message})`, { file }, { cause: error });
  }
  const meta = png as unknown as { width: number; height: number; depth: number; colorType: number; data: ArrayLike<number> };
  const { width, height } = meta;
  const info: PngInfo = { width, height, bitDepth: meta.depth, colorType: meta.colorType };
  // pngjs hands back RGBA (4 samples per pixel); 16-bit files keep their range with skipRescale.
  const rgba = meta.data;
  const n = width * height;
  const sixteen = meta.depth === 16;
  const grey = sixteen ? new Uint16Array(n) : new Uint8Array(n);
  let coloured = -1;
  for (let i = 0, p = 0; i < n; i++, p += 4) {
    const r = rgba[p]!, g = rgba[p + 1]!, b = rgba[p + 2]!;
    if (coloured < 0 && (r !== g || g !== b)) coloured = i;
    grey[i] = r;
  }
  if (coloured >= 0) {
    if (options.colour !== 'luminance') {
      const [x, y] = [coloured % width, Math.floor(coloured / width)];
      throw new RwsegError(
        'INVALID_INPUT',
        `${file}: colour PNG (pixel x=${x}, y=${y} has different R, G, B); rwseg needs grey images and label PNGs. Convert it to greyscale, or read it with colour: 'luminance'`,
        { file, x, y },
      );
    }
    for (let i = 0, p = 0; i < n; i++, p += 4) grey[i] = Math.round(0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]!);
  }
  return { info, volume: { data: grey, shape: [height, width], spacing: [1, 1] } };
}

export async function readPng(file: string, options: ReadPngOptions = {}): Promise<PngImage> {
  return decodePng(await readBytes(file), file, options);
}

export function encodePng(volume: Volume, file: string, options: WritePngOptions = {}): Uint8Array {
  const { spatialShape, channels } = assertVolumeConsistent(volume, file);
  if (spatialShape.length !== 2 || channels !== 1) {
    throw new RwsegError('INVALID_INPUT', `${file}: PNG holds one 2D grey image; got shape [${volume.shape.join(', ')}]`, { file });
  }
  const [height, width] = spatialShape as [number, number];
  const { data } = volume;
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0) || v !== Math.round(v) || v > 65535) {
      throw new RwsegError('INVALID_INPUT', `${file}: value ${v} at pixel ${i} cannot be stored in a PNG (integers 0..65535 only); scale or cast the image first`, { file, index: i });
    }
    if (v > max) max = v;
  }
  const bitDepth = options.bitDepth ?? (data instanceof Uint16Array || max > 255 ? 16 : 8);
  if (bitDepth === 8 && max > 255) {
    throw new RwsegError('INVALID_INPUT', `${file}: maximum ${max} does not fit an 8-bit PNG; use bitDepth 16`, { file });
  }
  let samples: Buffer;
  if (bitDepth === 16) {
    // pngjs reads 16-bit input as native-endian Uint16 words.
    samples = Buffer.from(Uint16Array.from(data).buffer);
  } else {
    samples = Buffer.from(Uint8Array.from(data).buffer);
  }
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth, inputHasAlpha: false });
  png.data = samples;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth, inputHasAlpha: false });
}

export async function writePng(file: string, volume: Volume, options: WritePngOptions = {}): Promise<void> {
  await writeBytesAtomic(file, encodePng(volume, file, options));
}
