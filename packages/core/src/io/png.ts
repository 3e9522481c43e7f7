/**
 * PNG images (8 or 16 bit, label PNGs included) to and from Volume: shape [H, W] (row-major, x fastest as in the
 * file), spacing [1, 1] since PNG carries no physical size rwseg trusts. Color follows io/color.ts: gray saved as
 * RGB loads as gray, true color as 3 channels (or refused / converted, as the caller asks).
 */
import { PNG } from 'pngjs';
import { RwsegError } from '../errors.js';
import type { Volume } from '../volume.js';
import { colorSamplesToVolume, type ColorPolicy } from './color.js';
import { readBytes, writeBytesAtomic } from './files.js';
import { assertVolumeConsistent } from './nifti.js';

export interface PngInfo {
  width: number;
  height: number;
  /** Bits per sample in the file: 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** PNG color type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
}

export interface PngImage {
  info: PngInfo;
  /** Uint8Array for 8-bit (and lower) files, Uint16Array for 16-bit files. */
  volume: Volume<Uint8Array | Uint16Array>;
}

export interface ReadPngOptions {
  /** What a PNG whose color channels differ becomes (see io/color.ts); default 'channels'. */
  color?: ColorPolicy;
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
    throw new RwsegError(
      'IO_ERROR',
      `${file}: not a readable PNG (${(error as Error).message})`,
      { file },
      { cause: error },
    );
  }
  const meta = png as unknown as {
    width: number;
    height: number;
    depth: number;
    colorType: number;
    data: ArrayLike<number>;
  };
  const { width, height } = meta;
  const info: PngInfo = { width, height, bitDepth: meta.depth, colorType: meta.colorType };
  // pngjs hands back RGBA (4 samples per pixel); 16-bit files keep their range with skipRescale.
  const samples = meta.depth === 16 ? Uint16Array.from(meta.data) : Uint8Array.from(meta.data);
  const volume = colorSamplesToVolume(samples, [height, width], 4, [1, 1], file, options.color);
  return { info, volume: volume as Volume<Uint8Array | Uint16Array> };
}

export async function readPng(file: string, options: ReadPngOptions = {}): Promise<PngImage> {
  return decodePng(await readBytes(file), file, options);
}

export function encodePng(volume: Volume, file: string, options: WritePngOptions = {}): Uint8Array {
  const { spatialShape, channels } = assertVolumeConsistent(volume, file);
  if (spatialShape.length !== 2 || channels !== 1) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${file}: PNG holds one 2D gray image; got shape [${volume.shape.join(', ')}]`,
      { file },
    );
  }
  const [height, width] = spatialShape as [number, number];
  const { data } = volume;
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0) || v !== Math.round(v) || v > 65535) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${file}: value ${v} at pixel ${i} cannot be stored in a PNG (integers 0..65535 only); scale or cast the image first`,
        { file, index: i },
      );
    }
    if (v > max) max = v;
  }
  const bitDepth = options.bitDepth ?? (data instanceof Uint16Array || max > 255 ? 16 : 8);
  if (bitDepth === 8 && max > 255) {
    throw new RwsegError('INVALID_INPUT', `${file}: maximum ${max} does not fit an 8-bit PNG; use bitDepth 16`, {
      file,
    });
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
