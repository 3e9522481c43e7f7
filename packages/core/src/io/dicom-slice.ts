/**
 * One DICOM file: its pixels (RescaleSlope/Intercept applied) and the header fields a series needs.
 *
 * Two decoders, one result. Uncompressed little-endian files, which most research CT/MR exports are, are parsed
 * by dicom-parser (cornerstone's parser, pure JS) and their pixel bytes read directly: ITK-Wasm instantiates its
 * GDCM module per call (about 0.2 s a file), which would make a 300-slice series take a minute. Everything else
 * (JPEG / JPEG-LS / JPEG 2000 / RLE transfer syntaxes, color, big-endian) is decoded by ITK-Wasm's GDCM.
 * Output type: the stored integer type without rescaling, Int32 for integer slope and intercept, else Float32 (as
 * GDCM chooses).
 */
import dicomParser from 'dicom-parser';
import { RwsegError } from '../errors.js';
import { spatialShapeOf, type VoxelArray } from '../volume.js';
import { readBytes } from './files.js';
import { decodeItkImage } from './itk-image.js';

export interface DicomSlice {
  file: string;
  /** Rows x columns (x fastest), frames slowest; `samples` interleaved when > 1. */
  data: VoxelArray;
  rows: number;
  columns: number;
  frames: number;
  samples: number;
  /** [row spacing, column spacing] in mm (PixelSpacing), or [1, 1] when absent. */
  pixelSpacing: [number, number];
  series: string;
  instance?: number;
  position?: number[];
  /** ImageOrientationPatient: the row direction (along a row, x), then the column direction (down, y). */
  orientation?: number[];
  thickness?: number;
}

const UNCOMPRESSED_LITTLE_ENDIAN = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

function numbers(value: string | undefined): number[] | undefined {
  if (!value || !value.trim()) return undefined;
  const parts = value.split('\\').map((p) => Number(p.trim()));
  return parts.every(Number.isFinite) ? parts : undefined;
}

function dicomError(file: string, what: string, cause?: unknown): RwsegError {
  return new RwsegError(
    'IO_ERROR',
    `${file}: not a readable DICOM file (${what})`,
    { file, format: 'dicom' },
    cause ? { cause } : undefined,
  );
}

function optional<T>(key: string, value: T | undefined): Record<string, T> {
  return value === undefined ? {} : { [key]: value };
}

/**
 * Stored integers to values: high bits beyond BitsStored dropped (sign-extended when signed), MONOCHROME1
 * (0 shown white, as in many radiographs) inverted within the stored range so the values look as MONOCHROME2's
 * would (min + max - v: (2^bits - 1) - v unsigned, -1 - v signed), then the rescale.
 */
function rescaled(
  raw: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array,
  bitsStored: number,
  bitsAllocated: number,
  signed: boolean,
  slope: number,
  intercept: number,
  inverted = false,
): VoxelArray {
  let stored: VoxelArray = raw;
  if (bitsStored < bitsAllocated || inverted) {
    const shift = 32 - bitsStored;
    const sum = signed ? -1 : 2 ** bitsStored - 1;
    const out = new (raw.constructor as new (n: number) => typeof raw)(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = signed ? (raw[i]! << shift) >> shift : raw[i]! & (2 ** bitsStored - 1);
      out[i] = inverted ? sum - v : v;
    }
    stored = out;
  }
  if (slope === 1 && intercept === 0) return stored;
  const integer = Number.isInteger(slope) && Number.isInteger(intercept);
  const out = integer ? new Int32Array(stored.length) : new Float32Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = stored[i]! * slope + intercept;
  return out;
}

function parseUncompressed(file: string, bytes: Uint8Array): DicomSlice | undefined {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes);
  } catch (error) {
    const reason =
      typeof error === 'string'
        ? error
        : ((error as Error)?.message ?? String((error as { exception?: string }).exception ?? error));
    throw dicomError(file, String(reason).split('\n')[0]!, error);
  }
  const transfer = ds.string('x00020010')?.trim() ?? '1.2.840.10008.1.2';
  const samples = ds.uint16('x00280002') ?? 1;
  const bitsAllocated = ds.uint16('x00280100');
  const pixel = ds.elements.x7fe00010;
  if (!UNCOMPRESSED_LITTLE_ENDIAN.has(transfer) || samples !== 1 || !pixel || pixel.encapsulatedPixelData)
    return undefined;
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) return undefined;
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const frames = Number(ds.string('x00280008') ?? 1) || 1;
  const count = rows * columns * frames;
  const width = bitsAllocated / 8;
  if (count === 0) throw dicomError(file, `Rows ${rows} x Columns ${columns}`);
  if (pixel.dataOffset + count * width > bytes.length) {
    throw dicomError(
      file,
      `truncated pixel data: ${rows}x${columns}x${frames} of ${bitsAllocated} bits need ${count * width} bytes, ` +
        `the file has ${Math.max(0, bytes.length - pixel.dataOffset)}`,
    );
  }
  const signed = ds.uint16('x00280103') === 1;
  // A private aligned copy of the pixel bytes (the file buffer's offset need not be aligned).
  const copy = new Uint8Array(count * width);
  copy.set(bytes.subarray(pixel.dataOffset, pixel.dataOffset + count * width));
  const Ctor = {
    1: signed ? Int8Array : Uint8Array,
    2: signed ? Int16Array : Uint16Array,
    4: signed ? Int32Array : Uint32Array,
  }[width as 1 | 2 | 4];
  const raw = new Ctor(copy.buffer);
  const inverted = ds.string('x00280004')?.trim().toUpperCase() === 'MONOCHROME1';
  const slope = Number(ds.string('x00281053') ?? 1) || 1;
  const intercept = Number(ds.string('x00281052') ?? 0) || 0;
  const spacing = numbers(ds.string('x00280030')) ?? numbers(ds.string('x00181164'));
  const position = numbers(ds.string('x00200032'));
  const orientation = numbers(ds.string('x00200037'));
  const thickness = numbers(ds.string('x00180050'))?.[0];
  return {
    file,
    rows,
    columns,
    frames,
    samples,
    data: rescaled(raw, ds.uint16('x00280101') ?? bitsAllocated, bitsAllocated, signed, slope, intercept, inverted),
    pixelSpacing: spacing && spacing.length >= 2 ? [spacing[0]!, spacing[1]!] : [1, 1],
    series: (ds.string('x0020000e') ?? '').trim(),
    ...optional('instance', numbers(ds.string('x00200013'))?.[0]),
    ...optional('position', position?.length === 3 ? position : undefined),
    ...optional('orientation', orientation?.length === 6 ? orientation : undefined),
    ...optional('thickness', thickness !== undefined && thickness > 0 ? thickness : undefined),
  };
}

async function decodeWithItk(bytes: Uint8Array, file: string): Promise<DicomSlice> {
  const { volume, metadata } = await decodeItkImage(bytes, 'dicom', file, 'channels');
  const tag = (key: string) => {
    const value = metadata.get(key);
    return typeof value === 'string' ? value : undefined;
  };
  const spatial = spatialShapeOf(volume);
  const [frames, rows, columns] = spatial.length === 3 ? spatial : [1, ...spatial];
  const spacing = numbers(tag('0028|0030'));
  const position = numbers(tag('0020|0032'));
  const orientation = numbers(tag('0020|0037'));
  const thickness = numbers(tag('0018|0050'))?.[0];
  return {
    file,
    data: volume.data,
    rows: rows!,
    columns: columns!,
    frames: frames!,
    samples: volume.channels ?? 1,
    pixelSpacing:
      spacing && spacing.length >= 2
        ? [spacing[0]!, spacing[1]!]
        : [volume.spacing.at(-2) ?? 1, volume.spacing.at(-1) ?? 1],
    series: (tag('0020|000e') ?? '').trim(),
    ...optional('instance', numbers(tag('0020|0013'))?.[0]),
    ...optional('position', position?.length === 3 ? position : undefined),
    ...optional('orientation', orientation?.length === 6 ? orientation : undefined),
    ...optional('thickness', thickness !== undefined && thickness > 0 ? thickness : undefined),
  };
}

/** One DICOM file held in memory; `file` names it in messages. */
export async function decodeDicomSlice(bytes: Uint8Array, file: string): Promise<DicomSlice> {
  const preamble =
    bytes.length >= 132 && Buffer.from(bytes.buffer, bytes.byteOffset, 132).toString('latin1', 128) === 'DICM';
  // No preamble: a raw data set; only GDCM reads those.
  return (preamble ? parseUncompressed(file, bytes) : undefined) ?? decodeWithItk(bytes, file);
}

export async function readDicomSlice(file: string): Promise<DicomSlice> {
  return decodeDicomSlice(await readBytes(file), file);
}
