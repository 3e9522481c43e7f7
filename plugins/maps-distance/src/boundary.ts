/**
 * Boundary-distance maps: signed distances to the class contour, negative inside, positive outside.
 * - boundary (Kervadec et al., "Boundary loss for highly unbalanced segmentation", MIDL 2019):
 *   -(EDT(y) - 1) inside (0 on the inner border at unit spacing), +EDT(1 - y) outside;
 * - boundary-rw (the RW paper's variant): -EDT(y) inside, +EDT(1 - y) outside.
 * Distances in the units of `spacing`; the -1 offset is in those units too, as in Kervadec's code. Absent class
 * and class filling the patch (no contour): 0 everywhere. Output channels-last Float32 [...shape, K].
 */
import { classDistances } from '@rwseg/core/distance';

export function boundaryDistanceMap(
  labels: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  numClasses: number,
  insideOffset: number,
): Float32Array {
  const n = labels.length;
  const K = numClasses;
  const { counts, inside, outside } = classDistances(labels, shape, spacing, K, {
    inside: true,
    outside: true,
    validate: false,
  });
  const out = new Float32Array(n * K);
  for (let k = 0; k < K; k++) {
    // Float32Array starts at 0, which is the value for an absent class or one filling the patch.
    if (counts[k] === 0 || counts[k] === n) continue;
    const dIn = inside[k]!;
    const dOut = outside[k]!;
    for (let i = 0; i < n; i++) out[i * K + k] = labels[i] === k ? insideOffset - dIn[i]! : dOut[i]!;
  }
  return out;
}
