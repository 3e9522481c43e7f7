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
