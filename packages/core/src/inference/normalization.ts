/**
 * Intensity normalisation at inference, as the model was trained: per image and channel statistics
 * (normalizeChannels, the function training's loader uses, so inference sees what training saw), or the fixed
 * statistics an exported model may carry. One implementation for predict, evaluate and the server.
 */
import { normalizeChannels, type Normalization } from '../data/preprocess.js';

export type NormalizationSpec =
  | { readonly method: 'none' }
  /** Without mean and std: per image and channel. */
  | { readonly method: 'zscore'; readonly mean?: number; readonly std?: number }
  /** Clip to the percentiles (default [0.5, 99.5]), then z-score, per image and channel. */
  | { readonly method: 'percentile'; readonly percentiles?: readonly [number, number] }
  /** Without min and max: the image's own range per channel; a constant channel becomes zeros. */
  | { readonly method: 'minmax'; readonly min?: number; readonly max?: number };

/** Training's normalisation setting (preprocessing.normalization) as a spec. */
export function normalizationSpecOf(normalization: Normalization, percentiles?: readonly [number, number]): NormalizationSpec {
  if (normalization === 'percentile') return percentiles ? { method: 'percentile', percentiles } : { method: 'percentile' };
  return { method: normalization };
}

/** A normalised float32 copy of a channels-last image ([..., C] row-major). */
export function normalizeImage(data: ArrayLike<number>, channels: number, spec: NormalizationSpec): Float32Array {
  const out = Float32Array.from(data);
  switch (spec.method) {
    case 'none':
      return out;
    case 'zscore':
      if (spec.mean !== undefined && spec.std !== undefined) return affine(out, spec.mean, spec.std);
      normalizeChannels(out, channels, { normalization: 'zscore' });
      return out;
    case 'percentile':
      normalizeChannels(out, channels, { normalization: 'percentile', ...(spec.percentiles ? { percentiles: [spec.percentiles[0], spec.percentiles[1]] } : {}) });
      return out;
    case 'minmax': {
      if (spec.min !== undefined && spec.max !== undefined) return affine(out, spec.min, spec.max - spec.min);
      for (let c = 0; c < channels; c++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = c; i < out.length; i += channels) {
          lo = Math.min(lo, out[i]!);
          hi = Math.max(hi, out[i]!);
        }
        const scale = hi > lo ? 1 / (hi - lo) : 0;
        for (let i = c; i < out.length; i += channels) out[i] = (out[i]! - lo) * scale;
      }
      return out;
    }
  }
}

function affine(data: Float32Array, shift: number, scale: number): Float32Array {
  for (let i = 0; i < data.length; i++) data[i] = (data[i]! - shift) / scale;
  return data;
}
