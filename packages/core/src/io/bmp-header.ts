/**
 * A BMP's size check before ITK decodes it: ITK's BMP reader reads a file cut short past its end and hands back
 * whatever memory follows, so the header's own sizes are checked against the file (BITMAPINFOHEADER, 54 bytes).
 */
import { RwsegError } from '../errors.js';

export function assertBmpComplete(head: Uint8Array, fileSize: number, file: string): void {
  const fail = (what: string) =>
    new RwsegError('IO_ERROR', `${file}: truncated or corrupt BMP (${what})`, { file, format: 'bmp' });
  if (head.length < 54) throw fail(`${head.length} bytes, the headers alone are 54`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const declared = view.getUint32(2, true);
  const pixelOffset = view.getUint32(10, true);
  const width = view.getInt32(18, true);
  const height = Math.abs(view.getInt32(22, true));
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (width <= 0 || height === 0 || ![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) {
    throw fail(`width ${width}, height ${height}, ${bitsPerPixel} bits per pixel`);
  }
  if (declared > fileSize) throw fail(`the header declares ${declared} bytes, the file has ${fileSize}`);
  // Uncompressed rows are padded to 4 bytes; RLE-compressed pixels are only as long as the header says.
  const uncompressed = compression === 0 || compression === 3;
  const needed = uncompressed ? pixelOffset + Math.floor((bitsPerPixel * width + 31) / 32) * 4 * height : pixelOffset;
  if (needed > fileSize)
    throw fail(`${width}x${height} at ${bitsPerPixel} bits needs ${needed} bytes, the file has ${fileSize}`);
}
