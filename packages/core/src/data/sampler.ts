/**
 * Patch sampling: where a patch is cut from a case. nnU-Net's rule: a fixed share of each batch (default 1/3, the
 * last samples) is centered on a random voxel of a random foreground class present in the case; the rest are
 * uniform over all positions, including positions that hang over the border of an image smaller than the patch
 * (padding). 3D cases serve 2D patches as slices along `sliceAxis`.
 */
import { RwsegError } from '../errors.js';
import { augmentIntensity, drawSpatialTransform, samplePatch, type ResolvedAugment } from './augment.js';
import type { Case } from './dataset.js';
import { sliceAlong } from './preprocess.js';
import type { Random } from './random.js';

/** A preprocessed case with where each class occurs (a bounded random subset of voxel indices per class). */
export interface PreparedCase {
  readonly case: Case;
  readonly spatialShape: readonly number[];
  /** classLocations[k] = flat voxel indices of class k (k >= 1); empty when the class is absent. */
  readonly classLocations: readonly Int32Array[];
}

const MAX_LOCATIONS_PER_CLASS = 10000;

export function prepareCase(c: Case, numClasses: number, rng: Random): PreparedCase {
  const spatialShape = c.image.shape.slice(0, -1);
  const locations: Int32Array[] = [new Int32Array(0)];
  const labels = c.label?.data;
  for (let k = 1; k < numClasses; k++) {
    if (!labels) {
      locations.push(new Int32Array(0));
      continue;
    }
    let count = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] === k) count++;
    // Reservoir-free thinning: keep every stride-th voxel, starting at a random offset, up to the cap.
    const stride = Math.max(1, Math.ceil(count / MAX_LOCATIONS_PER_CLASS));
    const kept = new Int32Array(Math.ceil(count / stride));
    let seen = 0,
      m = 0;
    const offset = rng.int(stride);
    for (let i = 0; i < labels.length && m < kept.length; i++) {
      if (labels[i] !== k) continue;
      if (seen++ % stride === offset % stride) kept[m++] = i;
    }
    locations.push(kept.subarray(0, m));
  }
  return { case: c, spatialShape, classLocations: locations };
}

export interface SampleOptions {
  patchShape: readonly number[];
  /** For 2D patches from 3D cases: the axis sliced along (default 0, i.e. Z of a [Z, Y, X] volume). */
  sliceAxis: number;
  augment: ResolvedAugment;
}

export interface Sample {
  caseId: string;
  image: Float32Array;
  labels: Int32Array;
  spacing: number[];
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = index % shape[a]!;
    index = Math.floor(index / shape[a]!);
  }
  return out;
}

/** Patch corner range along one axis: [min(0, S-P), max(0, S-P)], so small images are padded, not refused. */
function cornerRange(size: number, patch: number): [number, number] {
  return [Math.min(0, size - patch), Math.max(0, size - patch)];
}

/**
 * A patch has the case's rank, or one fewer (2D slices of a 3D volume); a 3D patch from a 2D image is the usual
 * mistake (a 3D pipeline pointed at a PNG folder): name the file, both shapes, and the 2D patch that would fit.
 */
export function checkPatchRank(
  patchShape: readonly number[],
  spatialShape: readonly number[],
  c: Pick<Case, 'id' | 'source'>,
): void {
  if (patchShape.length <= spatialShape.length) return;
  const rank = spatialShape.length;
  const fitting = patchShape.slice(patchShape.length - rank).map((p, a) => Math.min(p, spatialShape[a]!));
  throw new RwsegError(
    'INVALID_INPUT',
    `case ${c.id} (${c.source}): a ${patchShape.length}D patch [${patchShape.join(', ')}] ` +
      `cannot come from a ${rank}D ` +
      `image of shape [${spatialShape.join(', ')}]; train a ${rank}D model on it (preprocessing.patch of ${rank} ` +
      `sizes, e.g. [${fitting.join(', ')}] rounded to the U-Net's size grid)`,
    { caseId: c.id, patch: [...patchShape], shape: [...spatialShape] },
  );
}

/** Draws one augmented patch from a prepared case. */
export function drawSample(prepared: PreparedCase, options: SampleOptions, rng: Random, foreground: boolean): Sample {
  const { patchShape, sliceAxis, augment } = options;
  const c = prepared.case;
  const C = c.image.channels;
  let shape = [...prepared.spatialShape];
  checkPatchRank(patchShape, shape, c);
  // Foreground target: a random present class, then one of its voxels.
  const present = prepared.classLocations.map((l, k) => (k > 0 && l.length > 0 ? k : -1)).filter((k) => k > 0);
  const classDraw = rng.next();
  const voxelDraw = rng.next();
  let target: number[] | undefined;
  if (foreground && present.length > 0) {
    const locations = prepared.classLocations[present[Math.floor(classDraw * present.length)]!]!;
    target = unravel(locations[Math.floor(voxelDraw * locations.length)]!, shape);
  }
  let image = c.image.data;
  let labels = c.label?.data;
  let spacing = [...c.image.spacing];
  if (patchShape.length < shape.length) {
    if (shape.length !== 3 || patchShape.length !== 2) {
      throw new RwsegError(
        'INVALID_OPTIONS',
        `patch shape [${patchShape.join(', ')}] does not fit case ${c.id} of shape [${shape.join(', ')}]`,
        { caseId: c.id },
      );
    }
    const sliceDraw = rng.int(shape[sliceAxis]!);
    const index = target ? target[sliceAxis]! : sliceDraw;
    image = sliceAlong(image, shape, C, sliceAxis, index);
    if (labels) labels = sliceAlong(labels, shape, 1, sliceAxis, index);
    if (target) target = target.filter((_, a) => a !== sliceAxis);
    shape = shape.filter((_, a) => a !== sliceAxis);
    spacing = spacing.filter((_, a) => a !== sliceAxis);
  }
  const center = shape.map((size, a) => {
    const p = patchShape[a]!;
    const [lo, hi] = cornerRange(size, p);
    const uniform = lo + rng.int(hi - lo + 1);
    // Centered on the target voxel, shifted by up to a quarter patch so it is not always in the middle, then clamped.
    const jitter = Math.round(rng.uniform(-p / 4, p / 4));
    const corner = target ? Math.min(hi, Math.max(lo, target[a]! - Math.floor(p / 2) + jitter)) : uniform;
    return corner + (p - 1) / 2;
  });
  const matrix = drawSpatialTransform(shape.length, augment, rng);
  const patch = samplePatch(
    { image, ...(labels ? { label: labels } : {}), shape, channels: C },
    patchShape,
    center,
    matrix,
  );
  const augmented = augmentIntensity(patch.image, patchShape, C, augment, rng);
  return { caseId: c.id, image: augmented, labels: patch.label, spacing };
}
