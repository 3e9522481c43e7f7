/**
 * Checks shared by the distance transforms, the maps and the metrics: a row-major N-D grid with its voxel
 * spacing. Every check names what was wrong, so a bad label map fails with a message and never as NaN maps.
 */
import { RwsegError } from '../errors.js';

/** Validates `shape` and `spacing` against the number of voxels actually supplied; returns the voxel count. */
export function checkGrid(what: string, length: number, shape: readonly number[], spacing: readonly number[]): number {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new RwsegError('INVALID_INPUT', `${what}: shape must be a non-empty array of axis lengths, got ${JSON.stringify(shape)}`, { shape });
  }
  let count = 1;
  shape.forEach((n, axis) => {
    if (!Number.isInteger(n) || n < 1) {
      throw new RwsegError('INVALID_INPUT', `${what}: shape[${axis}] must be a positive integer, got ${String(n)} (shape ${JSON.stringify(shape)})`, { shape, axis });
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
      throw new RwsegError('INVALID_INPUT', `${what}: spacing[${axis}] must be a finite positive number (mm), got ${String(s)}`, { spacing, axis });
    }
  }
  return count;
}

/** Validates an integer label map with classes 0..numClasses-1. */
export function checkLabelMap(what: string, labels: ArrayLike<number>, shape: readonly number[], spacing: readonly number[], numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RwsegError('INVALID_INPUT', `${what}: numClasses must be a positive integer, got ${String(numClasses)}`, { numClasses });
  }
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new RwsegError('INVALID_INPUT', `${what}: labels must be an array or typed array`, {});
  }
  const count = checkGrid(what, labels.length, shape, spacing);
  for (let i = 0; i < count; i++) {
    const v = labels[i]!;
    if (!(v >= 0 && v < numClasses && Number.isInteger(v))) {
      const problem = !Number.isInteger(v) ? 'is not an integer' : v < 0 ? 'is negative' : `is not below numClasses=${numClasses}`;
      throw new RwsegError('INVALID_INPUT', `${what}: label ${String(v)} at voxel ${i} (${JSON.stringify(unravel(i, shape))}) ${problem}`, {
        index: i,
        value: v,
        numClasses,
      });
    }
  }
  return count;
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
export function classBoundingBoxes(labelMaps: readonly ArrayLike<number>[], shape: readonly number[], numClasses: number): Box[] {
  const rank = shape.length;
  const boxes = Array.from({ length: numClasses }, () => ({ lo: shape.map((n) => n), hi: shape.map(() => -1) }));
  const coord = new Array<number>(rank).fill(0);
  const grow = (box: Box) => {
    for (let a = 0; a < rank; a++) {
      const c = coord[a]!;
      if (c < box.lo[a]!) box.lo[a] = c;
      if (c > box.hi[a]!) box.hi[a] = c;
    }
  };
  const [first, second] = labelMaps;
  const n = first!.length;
  for (let i = 0; i < n; i++) {
    const p = first![i]!;
    grow(boxes[p]!);
    if (second !== undefined && second[i] !== p) grow(boxes[second[i]!]!);
    for (let a = rank - 1; a >= 0; a--) {
      if (++coord[a]! < shape[a]!) break;
      coord[a] = 0;
    }
  }
  return boxes;
}
