/**
 * The distance fields of the Hausdorff DT loss: for each (sample, channel) the mask value > 0.5, and for every voxel
 * the distance to the nearest voxel on the other side of the mask's border, |signed distance| (MONAI's
 * EDT(mask) + EDT(1 - mask)); 0 everywhere when the mask is empty or full (no border, as MONAI). Exact Euclidean
 * distances from the core's transform, in voxels (unit spacing, as MONAI and Karimi): the loss sees tensors, not
 * the volume's spacing.
 */
import { EdtScratch, signedDistanceTransform } from '@rwseg/core/distance';

/**
 * d^alpha of `values` laid out channels-last [B, ...spatial, K], returned in the same layout. Pure, on the CPU:
 * the thresholded masks are constants for the gradient.
 */
export function poweredDistanceFields(
  values: ArrayLike<number>,
  shape: readonly number[],
  alpha: number,
): Float32Array {
  const batch = shape[0]!;
  const numClasses = shape[shape.length - 1]!;
  const spatial = shape.slice(1, -1);
  const n = spatial.reduce((a, b) => a * b, 1);
  const unit = spatial.map(() => 1);
  const out = new Float32Array(values.length);
  const mask = new Uint8Array(n);
  const scratch = new EdtScratch();
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < numClasses; k++) {
      let count = 0;
      for (let i = 0; i < n; i++) count += mask[i] = values[(b * n + i) * numClasses + k]! > 0.5 ? 1 : 0;
      if (count === 0 || count === n) continue;
      const field = signedDistanceTransform(mask, spatial, unit, scratch);
      for (let i = 0; i < n; i++) out[(b * n + i) * numClasses + k] = Math.abs(field[i]!) ** alpha;
    }
  }
  return out;
}
