/**
 * Checks shared by the distance transforms, the maps and the metrics: a row-major N-D grid with its voxel
 * spacing. Every check names what was wrong, so a bad label map fails with a message and never as NaN maps.
 */
import { RwsegError } from '../errors.js';

/** Validates `shape` and `spacing` against the number of voxels actually supplied; returns the voxel count. */
export function checkGrid(what: string, length: number, shape: readonly number[], spacing: readonly number[]): number {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${what}: shape must be a non-empty array of axis lengths, got ${JSON.stringify(shape)}`,
      { shape },
    );
  }
  let count = 1;
  shape.forEach((n, axis) => {
    if (!Number.isInteger(n) || n < 1) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${what}: shape[${axis}] must be a positive integer, got ${String(n)} (shape ${JSON.stringify(shape)})`,
        { shape, axis },
      );
    }
    count *= n;
  });
  if (length !== count) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${what}: shape ${JSON.stringify(shape)} needs ${count} voxels but the data has ${length}`,
      { shape, length },
    );
  }
  if (!Array.isArray(spacing) && !ArrayBuffer.isView(spacing)) {
    throw new RwsegError('INVALID_INPUT', `${what}: spacing must be an array with one entry per axis`, { spacing });
  }
  if (spacing.length !== shape.length) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${what}: spacing ${JSON.stringify([...spacing])} has ${spacing.length} entries but shape ${JSON.stringify(shape)} has ${shape.length} axes`,
      { shape, spacing },
    );
  }
  for (let axis = 0; axis < spacing.length; axis++) {
    const s = spacing[axis]!;
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${what}: spacing[${axis}] must be a finite positive number (mm), got ${String(s)}`,
        { spacing, axis },
      );
    }
  }
  return count;
}

/** Validates an integer label map with classes 0..numClasses-1. */
export function checkLabelMap(
  what: string,
  labels: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  numClasses: number,
): number {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RwsegError('INVALID_INPUT', `${what}: numClasses must be a positive integer, got ${String(numClasses)}`, {
      numClasses,
    });
  }
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new RwsegError('INVALID_INPUT', `${what}: labels must be an array or typed array`, {});
  }
  const count = checkGrid(what, labels.length, shape, spacing);
  // Integer typed arrays (the usual label maps) hold integers by construction: only the range needs a look, and
  // the general loop below runs only to name the first bad voxel.
  if (isIntegerArray(labels) && allBelow(labels, count, numClasses)) return count;
  for (let i = 0; i < count; i++) {
    const v = labels[i]!;
    if (!(v >= 0 && v < numClasses && Number.isInteger(v))) {
      const problem = !Number.isInteger(v)
        ? 'is not an integer'
        : v < 0
          ? 'is negative'
          : `is not below numClasses=${numClasses}`;
      throw new RwsegError(
        'INVALID_INPUT',
        `${what}: label ${String(v)} at voxel ${i} (${JSON.stringify(unravel(i, shape))}) ${problem}`,
        {
          index: i,
          value: v,
          numClasses,
        },
      );
    }
  }
  return count;
}

function isIntegerArray(labels: ArrayLike<number>): boolean {
  return (
    labels instanceof Uint8Array ||
    labels instanceof Uint16Array ||
    labels instanceof Int32Array ||
    labels instanceof Int16Array ||
    labels instanceof Int8Array ||
    labels instanceof Uint32Array ||
    labels instanceof Uint8ClampedArray
  );
}

/** Every value in [0, numClasses). */
function allBelow(labels: ArrayLike<number>, count: number, numClasses: number): boolean {
  for (let i = 0; i < count; i++) {
    const v = labels[i]!;
    if (v < 0 || v >= numClasses) return false;
  }
  return true;
}

/**
 * Widens each class's [rowLo, rowHi] (rowHi < 0: not seen yet) to cover its voxels in one row. Labels come in
 * runs along a row, so each run is recorded once, at its end.
 */
function rowExtents(
  labels: ArrayLike<number>,
  base: number,
  rowLength: number,
  rowLo: Int32Array,
  rowHi: Int32Array,
): void {
  let run = labels[base]!;
  let runStart = 0;
  for (let x = 1; x <= rowLength; x++) {
    const v = x < rowLength ? labels[base + x]! : -1;
    if (v === run) continue;
    if (rowHi[run]! < 0) {
      rowLo[run] = runStart;
      rowHi[run] = x - 1;
    } else {
      if (runStart < rowLo[run]!) rowLo[run] = runStart;
      if (x - 1 > rowHi[run]!) rowHi[run] = x - 1;
    }
    run = v;
    runStart = x;
  }
}

/** Row-major index -> coordinates, for error messages. */
export function unravel(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    coords[axis] = index % shape[axis]!;
    index = Math.floor(index / shape[axis]!);
  }
  return coords;
}

/** Inclusive bounding box; empty when hi[0] < lo[0]. */
export interface Box {
  readonly lo: number[];
  readonly hi: number[];
}

/** Bounding box of each class over one or more label maps on the same grid, in one sweep (labels validated). */
export function classBoundingBoxes(
  labelMaps: readonly ArrayLike<number>[],
  shape: readonly number[],
  numClasses: number,
): Box[] {
  const rank = shape.length;
  const boxes = Array.from({ length: numClasses }, () => ({ lo: shape.map((n) => n), hi: shape.map(() => -1) }));
  const rowLength = shape[rank - 1]!;
  // Per row, each class's first and last position along the row; the row's other coordinates are merged into
  // the boxes once per row and class, not once per voxel.
  const rowLo = new Int32Array(numClasses);
  const rowHi = new Int32Array(numClasses).fill(-1);
  const coord = new Array<number>(rank).fill(0);
  const [first, second] = labelMaps;
  const rows = first!.length / rowLength;
  for (let row = 0; row < rows; row++) {
    const base = row * rowLength;
    rowExtents(first!, base, rowLength, rowLo, rowHi);
    if (second !== undefined) rowExtents(second, base, rowLength, rowLo, rowHi);
    for (let c = 0; c < numClasses; c++) {
      if (rowHi[c]! < 0) continue;
      const box = boxes[c]!;
      coord[rank - 1] = rowLo[c]!;
      for (let a = 0; a < rank; a++) if (coord[a]! < box.lo[a]!) box.lo[a] = coord[a]!;
      coord[rank - 1] = rowHi[c]!;
      for (let a = 0; a < rank; a++) if (coord[a]! > box.hi[a]!) box.hi[a] = coord[a]!;
      rowHi[c] = -1;
    }
    for (let a = rank - 2; a >= 0; a--) {
      if (++coord[a]! < shape[a]!) break;
      coord[a] = 0;
    }
  }
  return boxes;
}
