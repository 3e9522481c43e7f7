/**
 * A JPEG cut short is refused before it is decoded: libjpeg (in ITK) treats a missing end as a warning ("Premature
 * end of JPEG file") and fills the rest of the image with gray, which would train or segment on invented pixels.
 * The segments are walked to the first start-of-scan, and an end-of-image marker must follow it (inside the
 * entropy-coded data a 0xFF byte is always stuffed as FF 00, so FF D9 there is the marker).
 */
import { RwsegError } from '../errors.js';

export function assertJpegComplete(bytes: Uint8Array, file: string): void {
  const fail = (what: string) =>
    new RwsegError('IO_ERROR', `${file}: truncated or corrupt JPEG (${what})`, { file, format: 'jpeg' });
  let p = 2;
  while (true) {
    if (p + 4 > bytes.length) throw fail(`the file ends at byte ${bytes.length}, before the image data`);
    if (bytes[p] !== 0xff) throw fail(`no segment marker at byte ${p}`);
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker === 0xda) break;
    p += 2 + ((bytes[p + 2]! << 8) | bytes[p + 3]!);
  }
  for (let q = bytes.length - 2; q > p; q--) {
    if (bytes[q] === 0xff && bytes[q + 1] === 0xd9) return;
  }
  throw fail(`no end-of-image marker after the image data: the file is cut short (${bytes.length} bytes)`);
}
