/**
 * A GIF's logical screen size and frame count, from its block structure (GIF89a: header, color tables,
 * extension blocks and image descriptors, each image's LZW data as length-prefixed sub-blocks); no pixel is
 * decoded. Undefined when the structure is cut short or malformed.
 */
export interface GifFrames {
  width: number;
  height: number;
  /** Image descriptors before the trailer (or the end of the bytes). */
  count: number;
}

export function gifFrames(bytes: Uint8Array): GifFrames | undefined {
  if (bytes.length < 13) return undefined;
  const u16 = (o: number) => bytes[o]! | (bytes[o + 1]! << 8);
  const width = u16(6);
  const height = u16(8);
  const tableSize = (flags: number) => (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  let p = 13 + tableSize(bytes[10]!);
  const skipSubBlocks = () => {
    while (p < bytes.length && bytes[p] !== 0) p += bytes[p]! + 1;
    p++;
  };
  let count = 0;
  while (p < bytes.length) {
    const block = bytes[p]!;
    if (block === 0x3b) break;
    if (block === 0x21) {
      p += 2;
      skipSubBlocks();
    } else if (block === 0x2c) {
      if (p + 10 > bytes.length) return undefined;
      const flags = bytes[p + 9]!;
      p += 10 + tableSize(flags) + 1;
      skipSubBlocks();
      count++;
    } else {
      return count > 0 ? { width, height, count } : undefined;
    }
  }
  return count > 0 ? { width, height, count } : undefined;
}
