/**
 * The z step of a TIFF stack, which baseline TIFF cannot say: ITK writes XResolution/YResolution (pixels per
 * inch) and nothing for the slices, so a label stack would lose its slice spacing. ImageJ's convention, which
 * Fiji, tifffile and rwseg's own reader (tiff-tags.ts) follow, is an ImageDescription of "key=value" lines
 * (images, slices, unit, spacing) with ResolutionUnit "none" and the resolutions in pixels per that unit; and
 * ImageJ readers take the pages' pixels as one contiguous block, which ITK's layout (each page's IFD between
 * the pixel data) is not.
 *
 * So the file ITK wrote is laid out again: the header, every page's strips back to back, then each page's IFD
 * with its out-of-line values, the four calibration tags set, in tag order as TIFF requires. Strip bytes and
 * every other tag are copied as they are (in the file's own byte order); nothing is decoded.
 */
const TAG_DESCRIPTION = 270;
const TAG_STRIP_OFFSETS = 273;
const TAG_STRIP_BYTE_COUNTS = 279;
const TAG_X_RESOLUTION = 282;
const TAG_Y_RESOLUTION = 283;
const TAG_RESOLUTION_UNIT = 296;
const TYPE_ASCII = 2;
const TYPE_SHORT = 3;
const TYPE_LONG = 4;
const TYPE_RATIONAL = 5;
/** Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, ... DOUBLE). */
const TYPE_SIZES: Readonly<Record<number, number>> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
};
const CALIBRATION = new Set([TAG_DESCRIPTION, TAG_X_RESOLUTION, TAG_Y_RESOLUTION, TAG_RESOLUTION_UNIT]);

interface Entry {
  tag: number;
  type: number;
  count: number;
  /** The value bytes, in the file's byte order (count x the type's size). */
  value: Buffer;
}

/** A positive number as a TIFF RATIONAL (two uint32s): a power-of-ten denominator as large as fits. */
function rational(value: number): [number, number] {
  const max = 0xffffffff;
  let denominator = 1;
  while (denominator < 1e9 && value * denominator * 10 <= max) denominator *= 10;
  return [Math.max(1, Math.round(value * denominator)), denominator];
}

/**
 * `bytes` (a classic TIFF stack with one strip list per page, as ITK writes) with ImageJ calibration for
 * `spacing` = [z, y, x] mm, contiguous; returned unchanged when it is not such a file.
 */
export function withImageJCalibration(bytes: Uint8Array, spacing: readonly number[], pages: number): Uint8Array {
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = src.toString('latin1', 0, 2) === 'II';
  const u16 = (b: Buffer, o: number) => (little ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (src.length < 8 || u16(src, 2) !== 42) return bytes;
  const number = (size: number, write: (b: Buffer) => void) => {
    const b = Buffer.alloc(size);
    write(b);
    return b;
  };
  const short = (v: number) => number(2, (b) => (little ? b.writeUInt16LE(v) : b.writeUInt16BE(v)));
  const long = (vs: number[]) =>
    Buffer.concat(vs.map((v) => number(4, (b) => (little ? b.writeUInt32LE(v) : b.writeUInt32BE(v)))));

  const parsed: { entries: Entry[]; strips: Buffer[] }[] = [];
  for (let ifd = u32(src, 4); ifd !== 0 && parsed.length <= pages; ifd = u32(src, ifd + 2 + u16(src, ifd) * 12)) {
    const entries: Entry[] = [];
    for (let e = 0; e < u16(src, ifd); e++) {
      const at = ifd + 2 + e * 12;
      const type = u16(src, at + 2);
      const count = u32(src, at + 4);
      const size = (TYPE_SIZES[type] ?? 1) * count;
      const from = size <= 4 ? at + 8 : u32(src, at + 8);
      entries.push({ tag: u16(src, at), type, count, value: src.subarray(from, from + size) });
    }
    const values = (tag: number) => {
      const entry = entries.find((e) => e.tag === tag);
      if (!entry) return undefined;
      const width = TYPE_SIZES[entry.type]!;
      const at = (i: number) => (width === 2 ? u16(entry.value, i * 2) : u32(entry.value, i * 4));
      return Array.from({ length: entry.count }, (_, i) => at(i));
    };
    const offsets = values(TAG_STRIP_OFFSETS);
    const counts = values(TAG_STRIP_BYTE_COUNTS);
    if (!offsets || !counts || offsets.length !== counts.length) return bytes;
    parsed.push({ entries, strips: offsets.map((o, i) => src.subarray(o, o + counts[i]!)) });
  }
  if (parsed.length !== pages) return bytes;

  const [z, y, x] = spacing as [number, number, number];
  const description = Buffer.from(
    `ImageJ=1.11a\nimages=${pages}\nslices=${pages}\nunit=mm\nspacing=${z}\nloop=false\n\0`,
    'latin1',
  );
  const resolution = (mm: number) => long(rational(1 / mm));
  const chunks: Buffer[] = [src.subarray(0, 8)];
  let length = 8;
  const push = (b: Buffer) => {
    chunks.push(b);
    length += b.length;
  };
  const align = () => {
    if (length % 2) push(Buffer.alloc(1));
  };
  // Pixels first, back to back.
  const stripOffsets = parsed.map((page) =>
    page.strips.map((strip) => {
      const at = length;
      push(strip);
      return at;
    }),
  );
  const ifdOffsets: number[] = [];
  parsed.forEach((page, p) => {
    const entries: Entry[] = page.entries
      .filter((e) => !CALIBRATION.has(e.tag))
      .map((e) => (e.tag === TAG_STRIP_OFFSETS ? { ...e, type: TYPE_LONG, value: long(stripOffsets[p]!) } : e));
    if (p === 0)
      entries.push({ tag: TAG_DESCRIPTION, type: TYPE_ASCII, count: description.length, value: description });
    entries.push(
      { tag: TAG_X_RESOLUTION, type: TYPE_RATIONAL, count: 1, value: resolution(x) },
      { tag: TAG_Y_RESOLUTION, type: TYPE_RATIONAL, count: 1, value: resolution(y) },
      { tag: TAG_RESOLUTION_UNIT, type: TYPE_SHORT, count: 1, value: short(1) },
    );
    entries.sort((a, b) => a.tag - b.tag);
    align();
    const ifdAt = length;
    ifdOffsets.push(ifdAt);
    const table = Buffer.alloc(2 + entries.length * 12 + 4);
    let outOfLine = ifdAt + table.length;
    const extra: Buffer[] = [];
    short(entries.length).copy(table, 0);
    entries.forEach((e, i) => {
      const at = 2 + i * 12;
      short(e.tag).copy(table, at);
      short(e.type).copy(table, at + 2);
      long([e.count]).copy(table, at + 4);
      if (e.value.length <= 4) e.value.copy(table, at + 8);
      else {
        long([outOfLine]).copy(table, at + 8);
        const padded = e.value.length % 2 ? Buffer.concat([e.value, Buffer.alloc(1)]) : e.value;
        extra.push(padded);
        outOfLine += padded.length;
      }
    });
    push(table);
    for (const b of extra) push(b);
  });
  const out = Buffer.concat(chunks, length);
  const w32 = (v: number, o: number) => (little ? out.writeUInt32LE(v, o) : out.writeUInt32BE(v, o));
  w32(ifdOffsets[0]!, 4);
  // Each IFD's next-IFD field: the following page, 0 after the last.
  parsed.forEach((page, p) => {
    const count = page.entries.filter((e) => !CALIBRATION.has(e.tag)).length + (p === 0 ? 4 : 3);
    w32(ifdOffsets[p + 1] ?? 0, ifdOffsets[p]! + 2 + count * 12);
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
