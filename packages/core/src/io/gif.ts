/**
 * GIF through sharp (libvips): ITK has no GIF reader. A GIF stores palette indices; what it shows, and what a
 * mask means, are the palette colors, so those are what a Volume holds (8-bit). A multi-frame GIF (an animation,
 * or a stack saved as one) becomes a 3D stack [frames, H, W] of the frames as displayed, each composed onto the
 * logical screen as a viewer shows it, the same as a multi-page TIFF.
 */
import type { OutputInfo } from 'sharp';
import { RwsegError } from '../errors.js';
import type { Volume } from '../volume.js';
import { colorSamplesToVolume, type ColorPolicy } from './color.js';

export async function decodeGif(bytes: Uint8Array, file: string, color?: ColorPolicy): Promise<Volume> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // Loaded on first use: libvips is only needed for GIFs.
    const { default: sharp } = await import('sharp');
    decoded = await sharp(bytes, { pages: -1, failOn: 'truncated' }).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new RwsegError(
      'IO_ERROR',
      `${file}: not a readable GIF (${(error as Error).message})`,
      { file, format: 'gif' },
      { cause: error },
    );
  }
  const { data, info } = decoded;
  const samples = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // libvips stacks the frames vertically: height = pageHeight x pages.
  const frames = info.pageHeight && info.pageHeight < info.height ? Math.round(info.height / info.pageHeight) : 1;
  const shape = frames > 1 ? [frames, info.pageHeight!, info.width] : [info.height, info.width];
  return colorSamplesToVolume(
    samples,
    shape,
    info.channels,
    shape.map(() => 1),
    file,
    color,
  );
}
