/**
 * Signed distances for boundary-style maps: negative inside the mask, positive outside, each measured to the
 * nearest voxel on the other side (so neither side is ever 0 unless the other side is empty).
 */
import { euclideanDistanceTransform, EdtScratch } from './edt.js';
import { checkGrid } from './grid.js';

/**
 * -EDT(mask) where mask != 0, +EDT(1 - mask) where mask == 0 (mm). Layout row-major over `shape`.
 * A mask that is all ones gives -Infinity everywhere; all zeros gives +Infinity everywhere.
 */
export function signedDistanceTransform(
  mask: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  scratch = new EdtScratch(),
): Float64Array {
  const count = checkGrid('signed distance transform', mask.length, shape, spacing);
  const inside = euclideanDistanceTransform(mask, shape, spacing, { scratch });
  const complement = new Uint8Array(count);
  for (let i = 0; i < count; i++) complement[i] = mask[i] === 0 ? 1 : 0;
  const outside = euclideanDistanceTransform(complement, shape, spacing, { scratch });
  for (let i = 0; i < count; i++) inside[i] = complement[i] === 1 ? outside[i]! : -inside[i]!;
  return inside;
}
