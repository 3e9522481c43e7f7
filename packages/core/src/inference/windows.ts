/**
 * Where sliding windows go and how much each voxel of a window counts, as nnU-Net does it (Isensee et al.,
 * Nature Methods 2021): windows at a stride of patch * (1 - overlap), the last one flush with the end of the axis;
 * each window's probabilities weighted by a Gaussian centered on the patch (sigma = patch / 8 per axis), so border
 * voxels, which saw less context, count less.
 */

/** sigma of the Gaussian importance map as a fraction of the patch, per axis (nnU-Net's 1/8). */
export const GAUSSIAN_SIGMA_SCALE = 1 / 8;

/**
 * Smallest weight any window voxel gets. With sigma = patch / 8 the Gaussian falls to exp(-8) = 3.4e-4 at the
 * middle of a patch edge and to 1e-7 (2D) or 4e-11 (3D) in its corners; a floor far below the edge value changes
 * only those corners and keeps every weight positive, so a voxel that only a window's corner covers is still
 * defined (nnU-Net likewise only replaces zeros). A floor of 1e-3 would flatten the whole patch border.
 */
export const GAUSSIAN_FLOOR = 1e-6;

/** Window start positions along one axis: evenly spread from 0 to size - patch, covering every voxel. */
export function windowStarts(size: number, patch: number, overlap: number): number[] {
  if (size <= patch) return [0];
  const step = Math.max(1, Math.floor(patch * (1 - overlap)));
  const count = Math.ceil((size - patch) / step) + 1;
  const span = size - patch;
  return Array.from({ length: count }, (_, i) => Math.round((i * span) / (count - 1)));
}

/**
 * Separable Gaussian importance map over a patch ([...patch] row-major), peak 1 at the center, floored at
 * GAUSSIAN_FLOOR. Computed in float64 and stored once as float32, so every caller weights with the same numbers.
 */
export function gaussianImportance(patch: readonly number[]): Float32Array {
  const axes = patch.map((p) => {
    const sigma = p * GAUSSIAN_SIGMA_SCALE;
    const center = (p - 1) / 2;
    return Float64Array.from({ length: p }, (_, i) => Math.exp(-((i - center) ** 2) / (2 * sigma * sigma)));
  });
  const total = patch.reduce((a, b) => a * b, 1);
  const out = new Float32Array(total);
  const index = new Array<number>(patch.length).fill(0);
  for (let i = 0; i < total; i++) {
    let w = 1;
    for (let a = 0; a < patch.length; a++) w *= axes[a]![index[a]!]!;
    out[i] = Math.max(w, GAUSSIAN_FLOOR);
    for (let a = patch.length - 1; a >= 0; a--) {
      if (++index[a]! < patch[a]!) break;
      index[a] = 0;
    }
  }
  return out;
}

/**
 * Zero padding that brings an axis of `size` up to `target` (no padding when it is already as long): split as
 * nnU-Net does, the odd voxel after, so the image sits in the middle of the window the model sees.
 */
export function centeredPadding(size: number, target: number): { before: number; padded: number } {
  if (size >= target) return { before: 0, padded: size };
  return { before: Math.floor((target - size) / 2), padded: target };
}

/** The next size >= `size` that is a multiple of `grid` (a U-Net of depth d takes multiples of 2^(d-1)). */
export function roundUpToGrid(size: number, grid: number): number {
  return Math.ceil(size / grid) * grid;
}
