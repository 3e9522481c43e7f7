/**
 * Volume orientation (LPS, Volume axis order; see VolumeOrientation in volume.ts) to and from the NIfTI affines.
 *
 * NIfTI maps file indices (i, j, k), x fastest, to RAS millimetres: sform rows srow_x/y/z, or the qform built
 * from quatern_b/c/d, qfac, pixdim and qoffset (nifti1.h, "METHOD 2"). RAS -> LPS negates x and y. Volume axis a
 * is file axis n-1-a, because a Volume keeps the file's bytes and lists the slowest axis first.
 */
import type { VolumeOrientation } from '../volume.js';
import type { NiftiHeader } from './nifti-header.js';

type Vector3 = [number, number, number];

function norm(v: readonly number[]): number {
  return Math.hypot(...v);
}

/** The 3x4 RAS affine of a header: sform when its code is set, else qform, else none (ANALYZE-style files). */
export function niftiAffine(header: NiftiHeader): number[][] | undefined {
  if (header.sformCode > 0) return header.srow.map((row) => [...row]);
  if (header.qformCode <= 0) return undefined;
  const [b, c, d] = header.quatern;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const rotation = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const scale = [0, 1, 2].map((i) => {
    const p = header.pixdim[i] ?? 1;
    return Number.isFinite(p) && p > 0 ? p : 1;
  });
  scale[2]! *= header.qfac;
  return rotation.map((row, r) => [row[0]! * scale[0]!, row[1]! * scale[1]!, row[2]! * scale[2]!, header.qoffset[r]!]);
}

/**
 * Orientation of the first `rank` spatial axes from a header, or undefined when it has no affine. The axes' unit
 * vectors come from the affine's columns; their lengths are the spacing, which the reader takes from pixdim.
 */
export function orientationFromNifti(header: NiftiHeader, rank: number): VolumeOrientation | undefined {
  const affine = niftiAffine(header);
  if (!affine || rank < 1 || rank > 3) return undefined;
  const lps = (v: readonly number[]) => [-v[0]!, -v[1]!, v[2]!];
  const column = (i: number) => lps(affine.map((row) => row[i]!));
  const direction: number[][] = [];
  for (let a = 0; a < rank; a++) {
    const v = column(rank - 1 - a);
    const length = norm(v);
    if (!(length > 0)) return undefined;
    direction.push(v.map((x) => x / length));
  }
  return { origin: lps(affine.map((row) => row[3]!)), direction };
}

/** Pads a 2D (or 1D) orientation to 3D with the remaining world axes, so a NIfTI affine can hold it. */
function directions3(orientation: VolumeOrientation): { origin: Vector3; axes: Vector3[] } {
  const rank = orientation.direction.length;
  // File-order axis vectors (x first), each 3D.
  const axes: Vector3[] = [];
  for (let i = 0; i < rank; i++) {
    const v = orientation.direction[rank - 1 - i]!;
    axes.push([v[0] ?? 0, v[1] ?? 0, v[2] ?? 0]);
  }
  const unit: Vector3[] = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  while (axes.length < 3) axes.push(unit[axes.length]!);
  const o = orientation.origin;
  return { origin: [o[0] ?? 0, o[1] ?? 0, o[2] ?? 0], axes };
}

/** Quaternion (b, c, d) and qfac of a rotation, as nifti_mat44_to_quatern computes them. */
function quaternionOf(columns: Vector3[]): { quatern: Vector3; qfac: 1 | -1 } {
  // r[row][col], columns are the axis unit vectors.
  const r = [0, 1, 2].map((row) => columns.map((col) => col[row]!));
  const det =
    r[0]![0]! * (r[1]![1]! * r[2]![2]! - r[1]![2]! * r[2]![1]!) -
    r[0]![1]! * (r[1]![0]! * r[2]![2]! - r[1]![2]! * r[2]![0]!) +
    r[0]![2]! * (r[1]![0]! * r[2]![1]! - r[1]![1]! * r[2]![0]!);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) for (const row of r) row[2] = -row[2]!;
  const [r11, r12, r13] = r[0]!,
    [r21, r22, r23] = r[1]!,
    [r31, r32, r33] = r[2]!;
  let a = r11! + r22! + r33! + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32! - r23!)) / a;
    c = (0.25 * (r13! - r31!)) / a;
    d = (0.25 * (r21! - r12!)) / a;
  } else {
    const xd = 1 + r11! - (r22! + r33!),
      yd = 1 + r22! - (r11! + r33!),
      zd = 1 + r33! - (r11! + r22!);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12! + r21!)) / b;
      d = (0.25 * (r13! + r31!)) / b;
      a = (0.25 * (r32! - r23!)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12! + r21!)) / c;
      d = (0.25 * (r23! + r32!)) / c;
      a = (0.25 * (r13! - r31!)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13! + r31!)) / d;
      c = (0.25 * (r23! + r32!)) / d;
      a = (0.25 * (r21! - r12!)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { quatern: [b, c, d], qfac };
}

/**
 * The header fields that place a volume in the scanner: sform and qform (both code 1, scanner-anatomical) from
 * the orientation and the file-order pixdim. The two agree, so viewers that prefer either overlay the same way.
 */
export function niftiOrientationFields(
  orientation: VolumeOrientation,
  filePixdim: readonly number[],
): Pick<NiftiHeader, 'srow' | 'quatern' | 'qoffset' | 'qfac' | 'qformCode' | 'sformCode'> {
  const { origin, axes } = directions3(orientation);
  const ras = (v: Vector3): Vector3 => [-v[0], -v[1], v[2]];
  const rasAxes = axes.map((v) => {
    const u = ras(v);
    const length = norm(u) || 1;
    return u.map((x) => x / length) as Vector3;
  });
  const rasOrigin = ras(origin);
  const scale = [0, 1, 2].map((i) => filePixdim[i] ?? 1);
  const srow = [0, 1, 2].map((row) => [...rasAxes.map((axis, i) => axis[row]! * scale[i]!), rasOrigin[row]!]) as [
    number[],
    number[],
    number[],
  ];
  const { quatern, qfac } = quaternionOf(rasAxes);
  return { srow, quatern, qoffset: rasOrigin, qfac, qformCode: 1, sformCode: 1 };
}
