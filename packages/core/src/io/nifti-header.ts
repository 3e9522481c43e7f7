/**
 * The NIfTI-1 header (348 bytes, https://nifti.nimh.nih.gov/nifti-1): parsing and serializing, nothing else.
 * Field offsets follow nifti1.h; the parts rwseg does not interpret (intent, slice timing) are still carried so a
 * read-write round trip keeps them.
 */
import { RwsegError } from '../errors.js';

export const NIFTI1_HEADER_SIZE = 348;
/** Single-file .nii data start: header + the 4-byte extension flag. */
export const NIFTI1_SINGLE_FILE_OFFSET = 352;

/** NIfTI datatype codes rwseg reads and writes, with their typed-array constructor and bits per voxel. */
export const NIFTI_DATATYPES = {
  2: { name: 'uint8', bitpix: 8, array: Uint8Array },
  4: { name: 'int16', bitpix: 16, array: Int16Array },
  8: { name: 'int32', bitpix: 32, array: Int32Array },
  16: { name: 'float32', bitpix: 32, array: Float32Array },
  64: { name: 'float64', bitpix: 64, array: Float64Array },
  256: { name: 'int8', bitpix: 8, array: Int8Array },
  512: { name: 'uint16', bitpix: 16, array: Uint16Array },
  768: { name: 'uint32', bitpix: 32, array: Uint32Array },
} as const;

export type NiftiDatatypeCode = keyof typeof NIFTI_DATATYPES;
export type NiftiDatatypeName = (typeof NIFTI_DATATYPES)[NiftiDatatypeCode]['name'];

/** Names of codes rwseg recognizes but cannot load, so the error says what the file holds. */
const UNSUPPORTED_DATATYPES: Record<number, string> = {
  1: 'binary',
  32: 'complex64',
  128: 'rgb24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32',
};

export interface NiftiHeader {
  littleEndian: boolean;
  /** dim[1..dim[0]]: sizes in file order, x fastest. */
  dims: number[];
  datatype: NiftiDatatypeCode;
  bitpix: number;
  /** pixdim[1..dim[0]], in file order (x, y, z, t...). */
  pixdim: number[];
  /** pixdim[0]: the qform handedness factor, -1 or 1. */
  qfac: number;
  voxOffset: number;
  /** NaN or 0 in the file means no scaling. */
  sclSlope: number;
  sclInter: number;
  xyztUnits: number;
  calMin: number;
  calMax: number;
  descrip: string;
  auxFile: string;
  intentCode: number;
  intentParams: [number, number, number];
  intentName: string;
  dimInfo: number;
  sliceStart: number;
  sliceEnd: number;
  sliceCode: number;
  sliceDuration: number;
  toffset: number;
  qformCode: number;
  sformCode: number;
  /** quatern_b, c, d. */
  quatern: [number, number, number];
  /** qoffset_x, y, z. */
  qoffset: [number, number, number];
  /** The sform affine rows srow_x, srow_y, srow_z. */
  srow: [number[], number[], number[]];
}

function readString(bytes: Uint8Array, offset: number, length: number): string {
  const slice = bytes.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return Buffer.from(slice.subarray(0, end < 0 ? length : end)).toString('latin1');
}

function writeString(bytes: Uint8Array, offset: number, length: number, text: string): void {
  const encoded = Buffer.from(text, 'latin1').subarray(0, length - 1);
  bytes.set(encoded, offset);
}

export function datatypeName(code: number): string {
  return (
    (NIFTI_DATATYPES as Record<number, { name: string }>)[code]?.name ??
    UNSUPPORTED_DATATYPES[code] ??
    `unknown code ${code}`
  );
}

/** Parses the header at the start of `bytes`; `file` only names the source in errors. */
export function parseNiftiHeader(bytes: Uint8Array, file: string): NiftiHeader {
  if (bytes.length < NIFTI1_HEADER_SIZE) {
    throw new RwsegError(
      'IO_ERROR',
      `${file}: not a NIfTI-1 file (only ${bytes.length} bytes, the header alone is 348)`,
      { file },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let littleEndian = true;
  if (view.getInt32(0, true) !== NIFTI1_HEADER_SIZE) {
    if (view.getInt32(0, false) !== NIFTI1_HEADER_SIZE) {
      const hint =
        view.getInt32(0, true) === 540 || view.getInt32(0, false) === 540
          ? ' (it looks like NIfTI-2, which is not supported)'
          : '';
      throw new RwsegError('IO_ERROR', `${file}: not a NIfTI-1 file (sizeof_hdr is not 348)${hint}`, { file });
    }
    littleEndian = false;
  }
  const magic = readString(bytes, 344, 4);
  if (magic !== 'n+1' && magic !== 'ni1') {
    throw new RwsegError('IO_ERROR', `${file}: not a NIfTI-1 file (magic "${magic}", expected "n+1")`, { file });
  }
  if (magic === 'ni1') {
    throw new RwsegError(
      'IO_ERROR',
      `${file}: a two-file NIfTI header (.hdr/.img) is not supported; convert it to a single .nii or .nii.gz`,
      { file },
    );
  }
  const i16 = (o: number) => view.getInt16(o, littleEndian);
  const f32 = (o: number) => view.getFloat32(o, littleEndian);
  const ndim = i16(40);
  if (ndim < 1 || ndim > 7) {
    throw new RwsegError('IO_ERROR', `${file}: invalid dim[0] = ${ndim} (must be 1..7)`, { file });
  }
  const dims: number[] = [];
  const pixdim: number[] = [];
  for (let i = 1; i <= ndim; i++) {
    const size = i16(40 + 2 * i);
    if (size < 1) throw new RwsegError('IO_ERROR', `${file}: invalid dim[${i}] = ${size}`, { file });
    dims.push(size);
    pixdim.push(f32(76 + 4 * i));
  }
  const datatype = i16(70);
  if (!(datatype in NIFTI_DATATYPES)) {
    throw new RwsegError(
      'IO_ERROR',
      `${file}: unsupported NIfTI datatype ${datatype} (${datatypeName(datatype)}); rwseg reads ${Object.values(
        NIFTI_DATATYPES,
      )
        .map((d) => d.name)
        .join(', ')}`,
      { file, datatype },
    );
  }
  const qfacRaw = f32(76);
  return {
    littleEndian,
    dims,
    datatype: datatype as NiftiDatatypeCode,
    bitpix: i16(72),
    pixdim,
    qfac: qfacRaw === -1 ? -1 : 1,
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    xyztUnits: bytes[123]!,
    calMax: f32(124),
    calMin: f32(128),
    descrip: readString(bytes, 148, 80),
    auxFile: readString(bytes, 228, 24),
    intentCode: i16(68),
    intentParams: [f32(56), f32(60), f32(64)],
    intentName: readString(bytes, 328, 16),
    dimInfo: bytes[39]!,
    sliceStart: i16(74),
    sliceEnd: i16(120),
    sliceCode: bytes[122]!,
    sliceDuration: f32(132),
    toffset: f32(136),
    qformCode: i16(252),
    sformCode: i16(254),
    quatern: [f32(256), f32(260), f32(264)],
    qoffset: [f32(268), f32(272), f32(276)],
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c))) as [number[], number[], number[]],
  };
}

/** Serializes a header (little-endian, single-file "n+1") followed by the 4 zero extension bytes. */
export function serializeNiftiHeader(header: NiftiHeader): Uint8Array {
  const bytes = new Uint8Array(NIFTI1_SINGLE_FILE_OFFSET);
  const view = new DataView(bytes.buffer);
  const i16 = (o: number, v: number) => view.setInt16(o, v, true);
  const f32 = (o: number, v: number) => view.setFloat32(o, v, true);
  view.setInt32(0, NIFTI1_HEADER_SIZE, true);
  bytes[38] = 'r'.charCodeAt(0);
  bytes[39] = header.dimInfo;
  i16(40, header.dims.length);
  for (let i = 1; i <= 7; i++) i16(40 + 2 * i, header.dims[i - 1] ?? 1);
  header.intentParams.forEach((p, i) => f32(56 + 4 * i, p));
  i16(68, header.intentCode);
  i16(70, header.datatype);
  i16(72, NIFTI_DATATYPES[header.datatype].bitpix);
  i16(74, header.sliceStart);
  f32(76, header.qfac);
  for (let i = 1; i <= 7; i++) f32(76 + 4 * i, header.pixdim[i - 1] ?? 1);
  f32(108, NIFTI1_SINGLE_FILE_OFFSET);
  f32(112, header.sclSlope);
  f32(116, header.sclInter);
  i16(120, header.sliceEnd);
  bytes[122] = header.sliceCode;
  bytes[123] = header.xyztUnits;
  f32(124, header.calMax);
  f32(128, header.calMin);
  f32(132, header.sliceDuration);
  f32(136, header.toffset);
  writeString(bytes, 148, 80, header.descrip);
  writeString(bytes, 228, 24, header.auxFile);
  i16(252, header.qformCode);
  i16(254, header.sformCode);
  header.quatern.forEach((q, i) => f32(256 + 4 * i, q));
  header.qoffset.forEach((q, i) => f32(268 + 4 * i, q));
  header.srow.forEach((row, r) => row.forEach((v, c) => f32(280 + 16 * r + 4 * c, v)));
  writeString(bytes, 328, 16, header.intentName);
  writeString(bytes, 344, 4, 'n+1');
  return bytes;
}

/** A header for a new image: mm units, identity orientation scaled by the spacing in both qform and sform. */
export function defaultNiftiHeader(dims: number[], pixdim: number[], datatype: NiftiDatatypeCode): NiftiHeader {
  const d = (i: number) => pixdim[i] ?? 1;
  return {
    littleEndian: true,
    dims,
    datatype,
    bitpix: NIFTI_DATATYPES[datatype].bitpix,
    pixdim,
    qfac: 1,
    voxOffset: NIFTI1_SINGLE_FILE_OFFSET,
    sclSlope: 1,
    sclInter: 0,
    xyztUnits: 2 /* mm */,
    calMin: 0,
    calMax: 0,
    descrip: 'rwseg',
    auxFile: '',
    intentCode: 0,
    intentParams: [0, 0, 0],
    intentName: '',
    dimInfo: 0,
    sliceStart: 0,
    sliceEnd: 0,
    sliceCode: 0,
    sliceDuration: 0,
    toffset: 0,
    qformCode: 1,
    sformCode: 1,
    quatern: [0, 0, 0],
    qoffset: [0, 0, 0],
    srow: [
      [d(0), 0, 0, 0],
      [0, d(1), 0, 0],
      [0, 0, d(2), 0],
    ],
  };
}
