/**
 * Applies an artifact's normalization to a channels-last image ([..., C] row-major): the one place inference
 * (predict, evaluate, the server's /segment) turns raw intensities into what the model saw in training. Per-image
 * statistics go through data/preprocess.ts normalizeChannels, the function training uses.
 */
import { normalizeChannels } from '../data/preprocess.js';
import type { ArtifactNormalization } from './schema.js';

/** Returns a new Float32Array; `data` is left as it is. */
export function applyNormalization(
  data: ArrayLike<number>,
  channels: number,
  spec: ArtifactNormalization,
): Float32Array {
  const out = Float32Array.from(data);
  switch (spec.method) {
    case 'none':
      return out;
    case 'zscore':
      if (spec.scope === 'fixed') return affinePerChannel(out, channels, spec.mean!, spec.std!);
      normalizeChannels(out, channels, { normalization: 'zscore' });
      return out;
    case 'percentile':
      normalizeChannels(out, channels, { normalization: 'percentile', percentiles: spec.percentiles });
      return out;
    case 'minmax': {
      if (spec.scope === 'fixed') {
        const range = spec.max!.map((hi, c) => hi - (spec.min![c] ?? spec.min![0]!));
        return affinePerChannel(out, channels, spec.min!, range);
      }
      for (let c = 0; c < channels; c++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = c; i < out.length; i += channels) {
          lo = Math.min(lo, out[i]!);
          hi = Math.max(hi, out[i]!);
        }
        // A constant channel has no range: it maps to zeros, as normalizeChannels does for zscore.
        const scale = hi > lo ? 1 / (hi - lo) : 0;
        for (let i = c; i < out.length; i += channels) out[i] = (out[i]! - lo) * scale;
      }
      return out;
    }
  }
}

/** (x - shift[c]) / scale[c]; a one-value list applies to every channel. */
function affinePerChannel(
  data: Float32Array,
  channels: number,
  shift: readonly number[],
  scale: readonly number[],
): Float32Array {
  for (let i = 0; i < data.length; i++) {
    const c = i % channels;
    data[i] = (data[i]! - (shift[c] ?? shift[0]!)) / (scale[c] ?? scale[0]!);
  }
  return data;
}
