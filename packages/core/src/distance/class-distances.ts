/**
 * Per-class distances of a label map, which every distance-based RW map needs:
 *   inside[k]  = EDT(labels == k)   distance of a class-k voxel to the nearest voxel of another class
 *   outside[k] = EDT(labels != k)   distance of any other voxel to the nearest class-k voxel
 * Two things make this cheaper than 2K full transforms (bench/edt-classes.js measures it):
 * - an inside transform only needs the class's bounding box grown by one voxel: the nearest voxel of another
 *   class always touches the class (step from it towards the query along any axis where they differ and you
 *   land on a nearer voxel unless that one is of the class), so it lies in that box;
 * - when only two classes are present, inside[a] == outside[b] and inside[b] == outside[a].
 * Measured (bench/edt-classes.js, docs/BENCHMARKS.md) this gains little, 0.8-1.6x on a noisy machine, not K-fold:
 * the costly transforms are those with few zeros (the background's inside, every outside), and those cannot be
 * shared between classes exactly.
 */
import { euclideanDistanceTransform, EdtScratch } from './edt.js';
import { checkLabelMap, classBoundingBoxes, type Box } from './grid.js';

export interface ClassDistanceRequest {
  /** Compute inside distances (default true). */
  readonly inside?: boolean;
  /** Compute outside distances (default false). */
  readonly outside?: boolean;
  /** Validate the labels first (default true; internal callers that already did may skip it). */
  readonly validate?: boolean;
}

export interface ClassDistances {
  /** Voxels per class. */
  readonly counts: Float64Array;
  /** inside[k]: Float64Array over the grid, or null when not requested. Absent class: all 0. Class filling the grid: all +Infinity. */
  readonly inside: (Float64Array | null)[];
  /** outside[k]: absent class all +Infinity (no class voxel to reach); class filling the grid all 0. */
  readonly outside: (Float64Array | null)[];
}

export function classDistances(
  labels: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  numClasses: number,
  request: ClassDistanceRequest = {},
): ClassDistances {
  const wantInside = request.inside ?? true;
  const wantOutside = request.outside ?? false;
  const count =
    request.validate === false ? labels.length : checkLabelMap('class distances', labels, shape, spacing, numClasses);
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < count; i++) counts[labels[i]!]!++;
  const present: number[] = [];
  for (let k = 0; k < numClasses; k++) if (counts[k]! > 0) present.push(k);

  const scratch = new EdtScratch();
  const inside: (Float64Array | null)[] = new Array(numClasses).fill(null);
  const outside: (Float64Array | null)[] = new Array(numClasses).fill(null);
  const mask = new Uint8Array(count);

  const outsideOf = (k: number): Float64Array => {
    if (counts[k] === 0) return new Float64Array(count).fill(Infinity);
    for (let i = 0; i < count; i++) mask[i] = labels[i] === k ? 0 : 1;
    return euclideanDistanceTransform(mask, shape, spacing, { scratch });
  };

  // With two classes present each outside transform is the other class's inside one: when outsides are wanted
  // the insides come free. Insides alone are cheaper through the bounding boxes.
  if (present.length === 2 && wantOutside) {
    const [a, b] = present as [number, number];
    const outA = outsideOf(a);
    const outB = outsideOf(b);
    if (wantInside) {
      inside[a] = wantOutside ? outB.slice() : outB;
      inside[b] = wantOutside ? outA.slice() : outA;
    }
    if (wantOutside) {
      outside[a] = outA;
      outside[b] = outB;
    }
  } else {
    if (wantOutside) for (let k = 0; k < numClasses; k++) outside[k] = outsideOf(k);
    if (wantInside) {
      const boxes = classBoundingBoxes([labels], shape, numClasses);
      for (const k of present) inside[k] = insideInBox(labels, shape, spacing, k, boxes[k]!, scratch, mask);
    }
  }
  if (wantInside) for (let k = 0; k < numClasses; k++) if (counts[k] === 0) inside[k] ??= new Float64Array(count);
  if (wantOutside)
    for (let k = 0; k < numClasses; k++) if (counts[k] === 0) outside[k] ??= new Float64Array(count).fill(Infinity);
  return { counts, inside, outside };
}

/** EDT(labels == k) computed on the class's bounding box grown by one voxel, pasted into a full-size array. */
function insideInBox(
  labels: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  k: number,
  classBox: Box,
  scratch: EdtScratch,
  fullMask: Uint8Array,
): Float64Array {
  const start = classBox.lo.map((c) => Math.max(0, c - 1));
  const end = classBox.hi.map((c, a) => Math.min(shape[a]! - 1, c + 1));
  const boxShape = start.map((s, a) => end[a]! - s + 1);
  const boxCount = boxShape.reduce((p, n) => p * n, 1);
  const total = labels.length;
  if (boxCount === total) {
    // The box is the whole grid (typically the background class): no crop, no paste.
    for (let i = 0; i < total; i++) fullMask[i] = labels[i] === k ? 1 : 0;
    return euclideanDistanceTransform(fullMask, shape, spacing, { scratch });
  }
  const strides = stridesOf(shape);
  const result = new Float64Array(total);
  const box = new Uint8Array(boxCount);
  forEachBoxRow(shape, strides, start, boxShape, (full, local, len) => {
    for (let c = 0; c < len; c++) box[local + c] = labels[full + c] === k ? 1 : 0;
  });
  const distances = euclideanDistanceTransform(box, boxShape, spacing, { scratch });
  forEachBoxRow(shape, strides, start, boxShape, (full, local, len) => {
    result.set(distances.subarray(local, local + len), full);
  });
  return result;
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a]!;
  }
  return strides;
}

/** Calls visit(fullIndex, boxIndex, rowLength) for each contiguous last-axis row of a box inside the grid. */
function forEachBoxRow(
  shape: readonly number[],
  strides: readonly number[],
  start: readonly number[],
  boxShape: readonly number[],
  visit: (full: number, local: number, length: number) => void,
): void {
  const rank = shape.length;
  const rowLength = boxShape[rank - 1]!;
  const rows = boxShape.reduce((p, n) => p * n, 1) / rowLength;
  const coord = new Array<number>(rank).fill(0);
  for (let row = 0; row < rows; row++) {
    let full = start[rank - 1]!;
    for (let a = 0; a < rank - 1; a++) full += (start[a]! + coord[a]!) * strides[a]!;
    visit(full, row * rowLength, rowLength);
    for (let a = rank - 2; a >= 0; a--) {
      if (++coord[a]! < boxShape[a]!) break;
      coord[a] = 0;
    }
  }
}
