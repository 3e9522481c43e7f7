/**
 * Per-case preprocessing, done once when a case is loaded: intensity normalization per channel, optional
 * resampling to a target spacing (images linear, labels nearest), and 2D slices of 3D volumes.
 * Layouts: images channels-last [...spatial, C], labels [...spatial], row-major, last axis fastest.
 */
import { RwsegError } from '../errors.js';
import { percentileOfSorted } from '../metrics/percentile.js';
import { voxelCount } from '../volume.js';
import type { Case } from './dataset.js';

export type Normalization = 'zscore' | 'percentile' | 'none';

export interface PreprocessOptions {
  /**
   * zscore: (x - mean) / std per image and channel (MRI, microscopy). percentile: clip to the given percentiles
   * first, then z-score (CT, where metal and air would dominate the statistics). Default zscore.
   */
  normalization?: Normalization;
  /** Lower and upper percentiles for `percentile` (default [0.5, 99.5]). */
  percentiles?: [number, number];
  /** Resample every case to this spacing (mm, same axis order as the volume) before sampling. */
  targetSpacing?: number[];
}

/** Normalizes each channel of a channels-last image in place. A constant channel becomes all zeros. */
export function normalizeChannels(
  data: Float32Array,
  channels: number,
  options: Pick<PreprocessOptions, 'normalization' | 'percentiles'> = {},
): void {
  const mode = options.normalization ?? 'zscore';
  if (mode === 'none') return;
  const n = data.length / channels;
  const values = new Float32Array(n);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) values[i] = data[i * channels + c]!;
    let lo = -Infinity;
    let hi = Infinity;
    if (mode === 'percentile') {
      const sorted = Float64Array.from(values).sort();
      const [pl, ph] = options.percentiles ?? [0.5, 99.5];
      lo = percentileOfSorted(sorted, pl);
      hi = percentileOfSorted(sorted, ph);
      for (let i = 0; i < n; i++) values[i] = Math.min(hi, Math.max(lo, values[i]!));
    }
    let mean = 0;
    for (let i = 0; i < n; i++) mean += values[i]!;
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (values[i]! - mean) ** 2;
    const std = Math.sqrt(variance / n);
    const scale = std > 1e-8 ? 1 / std : 0;
    for (let i = 0; i < n; i++) data[i * channels + c] = (values[i]! - mean) * scale;
  }
}

/**
 * Resamples one axis of a channels-last array to `size` samples. Sample centers are aligned (voxel i of the output
 * sits at (i + 0.5) * old/new - 0.5 in the input), positions outside clamp to the edge.
 */
export function resampleAxis<T extends Float32Array | Int32Array>(
  data: T,
  shape: readonly number[],
  channels: number,
  axis: number,
  size: number,
  mode: 'linear' | 'nearest',
): T {
  const old = shape[axis]!;
  const outer = voxelCount(shape.slice(0, axis));
  const inner = voxelCount(shape.slice(axis + 1)) * channels;
  const out = new (data.constructor as new (n: number) => T)(outer * size * inner);
  const ratio = old / size;
  for (let i = 0; i < size; i++) {
    const pos = Math.min(old - 1, Math.max(0, (i + 0.5) * ratio - 0.5));
    const i0 = mode === 'nearest' ? Math.min(old - 1, Math.round(pos)) : Math.floor(pos);
    const i1 = Math.min(old - 1, i0 + 1);
    const w = mode === 'nearest' ? 0 : pos - i0;
    for (let o = 0; o < outer; o++) {
      const src0 = (o * old + i0) * inner;
      const src1 = (o * old + i1) * inner;
      const dst = (o * size + i) * inner;
      for (let k = 0; k < inner; k++)
        out[dst + k] = w === 0 ? data[src0 + k]! : data[src0 + k]! * (1 - w) + data[src1 + k]! * w;
    }
  }
  return out;
}

/** Resamples a case to `target` spacing: images linear, labels nearest, one axis at a time (separable). */
export function resampleCase(c: Case, target: readonly number[]): Case {
  const spatial = c.image.shape.slice(0, -1);
  if (target.length !== spatial.length || target.some((t) => !(t > 0))) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `targetSpacing [${target.join(', ')}] does not fit case ${c.id} with ${spatial.length} spatial axes`,
      { option: 'targetSpacing' },
    );
  }
  let image = c.image.data;
  let label = c.label?.data;
  let shape = [...spatial];
  for (let axis = 0; axis < shape.length; axis++) {
    const size = Math.max(1, Math.round((shape[axis]! * c.image.spacing[axis]!) / target[axis]!));
    if (size === shape[axis]) continue;
    image = resampleAxis(image, shape, c.image.channels, axis, size, 'linear');
    if (label) label = resampleAxis(label, shape, 1, axis, size, 'nearest');
    shape = shape.map((s, a) => (a === axis ? size : s));
  }
  return {
    ...c,
    image: { data: image, shape: [...shape, c.image.channels], spacing: [...target], channels: c.image.channels },
    ...(label ? { label: { data: label, shape, spacing: [...target] } } : {}),
  };
}

/** One slice of a channels-last array along `axis`, as [...other axes, C]. */
export function sliceAlong<T extends Float32Array | Int32Array>(
  data: T,
  shape: readonly number[],
  channels: number,
  axis: number,
  index: number,
): T {
  const outer = voxelCount(shape.slice(0, axis));
  const inner = voxelCount(shape.slice(axis + 1)) * channels;
  const out = new (data.constructor as new (n: number) => T)(outer * inner);
  for (let o = 0; o < outer; o++)
    out.set(data.subarray((o * shape[axis]! + index) * inner, (o * shape[axis]! + index + 1) * inner), o * inner);
  return out;
}

/** Applies normalization and resampling as configured; the label is left untouched except for resampling. */
export function preprocessCase(c: Case, options: PreprocessOptions = {}): Case {
  const resampled = options.targetSpacing ? resampleCase(c, options.targetSpacing) : c;
  const data = resampled === c ? Float32Array.from(c.image.data) : resampled.image.data;
  normalizeChannels(data, c.image.channels, options);
  return { ...resampled, image: { ...resampled.image, data } };
}
