/**
 * Rectified region-wise maps (Valverde & Tohka, "Region-wise Loss for Biomedical Image Segmentation", Pattern
 * Recognition 2023): inside class k, -EDT/max(EDT) in [-1, 0); outside, a positive constant per class.
 * Output channels-last Float32 [...shape, K].
 */
import { classDistances } from '@rwseg/core/distance';

/**
 * z[i, k] = -EDT_k(i) / max EDT_k where labels[i] == k, else outsideValue[k].
 * Absent class: outsideValue[k] everywhere. Class filling the patch (no voxel to measure to): -1 everywhere.
 * `labels` must already be validated.
 */
export function rectifiedRegionWiseMap(
  labels: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  numClasses: number,
  outsideValue: readonly number[],
): Float32Array {
  const n = labels.length;
  const K = numClasses;
  const { counts, inside } = classDistances(labels, shape, spacing, K, { inside: true, validate: false });
  const out = new Float32Array(n * K);
  for (let k = 0; k < K; k++) {
    const outsideK = outsideValue[k]!;
    if (counts[k] === 0 || counts[k] === n) {
      const value = counts[k] === 0 ? outsideK : -1;
      for (let i = 0; i < n; i++) out[i * K + k] = value;
      continue;
    }
    const d = inside[k]!;
    let max = 0;
    for (let i = 0; i < n; i++) if (d[i]! > max) max = d[i]!;
    const scale = -1 / max;
    for (let i = 0; i < n; i++) out[i * K + k] = labels[i] === k ? d[i]! * scale : outsideK;
  }
  return out;
}

/**
 * Class weights from the patch: w_k = f_k = (voxels of class k) / N. They sum to 1. w_k is what predicting
 * class k costs where k is not the truth, so the frequent class (usually background) is the expensive mistake
 * on the rare class's voxels: a 95 % background patch gives [0.95, 0.05], the spec's example.
 */
export function classFrequencyWeights(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  return counts.map((c) => c / labels.length);
}
