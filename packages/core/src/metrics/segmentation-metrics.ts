/**
 * Per-class segmentation metrics, spacing-aware, any rank (2D and 3D in practice): Dice, Hausdorff distance
 * (HD), HD95, average symmetric surface distance (ASSD) and normalized surface Dice (NSD). Definitions and the
 * empty-mask policy are in docs/metrics.md; in short:
 * - surfaces are mask voxels with a face neighbor outside the mask (outside the array counts as outside);
 * - d(A->B) are the distances from every surface voxel of A to the nearest surface voxel of B (mm);
 * - HD = max(max d(P->R), max d(R->P)); HD95 = max(p95 d(P->R), p95 d(R->P)) (MONAI / DeepMind, numpy's linear
 *   percentile); ASSD = (sum d(P->R) + sum d(R->P)) / (|S_P| + |S_R|); NSD = fraction of both surfaces within
 *   the tolerance of the other;
 * - both masks empty: Dice 1, HD = HD95 = ASSD = 0, NSD 1; one empty: Dice 0, HD = HD95 = ASSD = NaN, NSD 0.
 * Each class is cropped to the bounding box of pred ∪ ref (exact: the box holds both masks, so the surfaces are
 * the same voxels), each surface is listed once, and the distances are read only at surface voxels
 * (nearestSiteDistances, one call per direction); those two lists serve all four distance metrics.
 */
import { checkLabelMap, classBoundingBoxes, type Box } from '../distance/grid.js';
import { EdtScratch } from '../distance/edt.js';
import { nearestSiteDistances } from '../distance/nearest-site.js';
import { RwsegError } from '../errors.js';
import type { ClassMetrics, MetricsOptions } from '../metrics-api.js';
import { percentile } from './percentile.js';
import { surfaceIndices } from './surface.js';

export function computeSegmentationMetrics(
  pred: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  options: MetricsOptions,
): ClassMetrics[] {
  const { numClasses } = options;
  const tolerance = options.nsdTolerance ?? 1;
  if (typeof tolerance !== 'number' || !(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `metrics: nsdTolerance must be a finite number >= 0 (mm), got ${String(tolerance)}`,
      { nsdTolerance: tolerance },
    );
  }
  checkLabelMap('metrics: prediction', pred, shape, spacing, numClasses);
  checkLabelMap('metrics: reference', ref, shape, spacing, numClasses);
  const first = options.includeBackground ? 0 : 1;
  const boxes = classBoundingBoxes([pred, ref], shape, numClasses);
  const scratch = new EdtScratch();
  const results: ClassMetrics[] = [];
  for (let c = first; c < numClasses; c++)
    results.push(classMetrics(pred, ref, shape, spacing, c, boxes[c]!, tolerance, scratch));
  return results;
}

function classMetrics(
  pred: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  c: number,
  box: Box,
  tolerance: number,
  scratch: EdtScratch,
): ClassMetrics {
  if (box.hi[0]! < 0) return { classIndex: c, dice: 1, hd: 0, hd95: 0, assd: 0, nsd: 1 };
  const { a, b, boxShape, sizeA, sizeB, overlap } = cropMasks(pred, ref, shape, c, box);
  const dice = (2 * overlap) / (sizeA + sizeB);
  if (sizeA === 0 || sizeB === 0)
    return { classIndex: c, dice: 0, hd: Number.NaN, hd95: Number.NaN, assd: Number.NaN, nsd: 0 };
  const surfaceA = surfaceIndices(a, boxShape);
  const surfaceB = surfaceIndices(b, boxShape);
  // d(A->B) at A's surface voxels only, to B's surface voxels (and back): never a volume-sized transform.
  const aToB = nearestSiteDistances(surfaceB, surfaceA, boxShape, spacing, scratch);
  const bToA = nearestSiteDistances(surfaceA, surfaceB, boxShape, spacing, scratch);
  let sum = 0;
  let max = 0;
  let within = 0;
  for (const d of [aToB, bToA]) {
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      sum += v;
      if (v > max) max = v;
      if (v <= tolerance) within++;
    }
  }
  const total = aToB.length + bToA.length;
  return {
    classIndex: c,
    dice,
    hd: max,
    hd95: Math.max(percentile(aToB, 95), percentile(bToA, 95)),
    assd: sum / total,
    nsd: within / total,
  };
}

/** pred == c and ref == c as 0/1 masks over the class's bounding box, with their sizes and overlap (for Dice). */
function cropMasks(pred: ArrayLike<number>, ref: ArrayLike<number>, shape: readonly number[], c: number, box: Box) {
  const rank = shape.length;
  const boxShape = box.lo.map((lo, i) => box.hi[i]! - lo + 1);
  const count = boxShape.reduce((p, n) => p * n, 1);
  const a = new Uint8Array(count);
  const b = new Uint8Array(count);
  const rowLength = boxShape[rank - 1]!;
  const coord = new Array<number>(rank).fill(0);
  let sizeA = 0;
  let sizeB = 0;
  let overlap = 0;
  for (let row = 0; row < count / rowLength; row++) {
    let full = 0;
    for (let axis = 0; axis < rank; axis++)
      full = full * shape[axis]! + box.lo[axis]! + (axis < rank - 1 ? coord[axis]! : 0);
    const local = row * rowLength;
    for (let x = 0; x < rowLength; x++) {
      const inA = pred[full + x] === c ? 1 : 0;
      const inB = ref[full + x] === c ? 1 : 0;
      a[local + x] = inA;
      b[local + x] = inB;
      sizeA += inA;
      sizeB += inB;
      overlap += inA & inB;
    }
    for (let axis = rank - 2; axis >= 0; axis--) {
      if (++coord[axis]! < boxShape[axis]!) break;
      coord[axis] = 0;
    }
  }
  return { a, b, boxShape, sizeA, sizeB, overlap };
}
