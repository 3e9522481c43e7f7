/**
 * Options of a self-contained export: a graph a Triton or KServe user can call on raw whole images, with no
 * client code. Each part is opt-in; `resolveSelfContained` validates them up front and names the bad option.
 */
import { TfjsToOnnxError } from '../errors.js';

/**
 * Normalization computed inside the graph, per sample and channel of the raw input:
 * - `zscore`: (x - mean) / std over the image (population std; a channel with std <= 1e-8 becomes zeros), as
 *   rwseg trains (packages/core/src/data/preprocess.ts);
 * - `percentile`: clip to the image's own lower/upper percentiles (linear interpolation, numpy's default), then
 *   z-score the clipped values, as rwseg trains CT;
 * - `minmax`: (x - min) / (max - min) over the image (a constant channel becomes zeros), as the model
 *   artifact's per-image minmax (packages/core/src/artifact/normalization.ts);
 * - `fixed`: (x - mean[c]) / std[c] with constants (one per channel, or one for all);
 * - `none`: the input is fed as it is.
 */
export type InGraphNormalization =
  | { method: 'none' }
  | { method: 'zscore' }
  | { method: 'minmax' }
  | { method: 'percentile'; percentiles?: [number, number] }
  | { method: 'fixed'; mean: number | number[]; std: number | number[] };

export interface SelfContainedOptions {
  /**
   * Spatial dims of the graph's input: 'any' (default) accepts every size, padding each axis with zeros up to the
   * next multiple of the size grid (after normalization; floor(extra / 2) before the image, the rest after, as
   * rwseg's whole-image inference pads) and cropping the output back; 'grid'
   * accepts sizes on the grid only (no padding; other sizes fail in onnxruntime); 'fixed' keeps the model's.
   */
  dynamicSpatial?: 'any' | 'grid' | 'fixed';
  /** The size grid (one per spatial axis, or one for all); default: the network's total downsampling factor. */
  sizeGrid?: number | number[];
  /** Normalization inside the graph (default none). */
  normalization?: InGraphNormalization;
  /** Adds a uint8 label output (ArgMax over classes) beside the probabilities: true for 'labels', or its name. */
  argmaxOutput?: boolean | string;
}

export interface ResolvedSelfContained {
  dynamicSpatial: 'any' | 'grid' | 'fixed';
  sizeGrid: number[] | undefined;
  normalization: InGraphNormalization;
  labelsName: string | null;
}

export const DEFAULT_PERCENTILES: [number, number] = [0.5, 99.5];
export const DEFAULT_LABELS_NAME = 'labels';

function invalid(message: string): TfjsToOnnxError {
  return new TfjsToOnnxError('INVALID_OPTION', `selfContained.${message}`);
}

function checkNormalization(n: InGraphNormalization): InGraphNormalization {
  const method = (n as { method?: unknown })?.method;
  switch (method) {
    case 'none':
    case 'zscore':
    case 'minmax':
      return { method };
    case 'percentile': {
      const p = (n as { percentiles?: unknown }).percentiles ?? DEFAULT_PERCENTILES;
      if (
        !Array.isArray(p) ||
        p.length !== 2 ||
        !p.every((v) => typeof v === 'number' && v >= 0 && v <= 100) ||
        p[0] > p[1]
      ) {
        throw invalid(
          `normalization.percentiles must be [lower, upper] with 0 <= lower <= upper <= 100, got ${JSON.stringify(p)}`,
        );
      }
      return { method, percentiles: [p[0], p[1]] };
    }
    case 'fixed': {
      const { mean, std } = n as { mean: unknown; std: unknown };
      const list = (v: unknown) => (typeof v === 'number' ? [v] : v);
      const m = list(mean);
      const s = list(std);
      if (!Array.isArray(m) || !m.length || !m.every(Number.isFinite))
        throw invalid(`normalization.mean must be a number or a list of numbers, got ${JSON.stringify(mean)}`);
      if (!Array.isArray(s) || !s.length || !s.every((v) => Number.isFinite(v) && v > 0))
        throw invalid(`normalization.std must be a positive number or a list of them, got ${JSON.stringify(std)}`);
      return { method, mean: m as number[], std: s as number[] };
    }
    default:
      throw invalid(
        "normalization.method must be 'zscore', 'percentile', 'minmax', 'fixed' or 'none', " +
          `got ${JSON.stringify(method)}`,
      );
  }
}

export function resolveSelfContained(options: SelfContainedOptions): ResolvedSelfContained {
  const dynamicSpatial = options.dynamicSpatial ?? 'any';
  if (!['any', 'grid', 'fixed'].includes(dynamicSpatial))
    throw invalid(`dynamicSpatial must be 'any', 'grid' or 'fixed', got ${JSON.stringify(dynamicSpatial)}`);
  let sizeGrid: number[] | undefined;
  if (options.sizeGrid !== undefined) {
    sizeGrid = typeof options.sizeGrid === 'number' ? [options.sizeGrid] : options.sizeGrid;
    if (!Array.isArray(sizeGrid) || !sizeGrid.length || !sizeGrid.every((g) => Number.isInteger(g) && g >= 1)) {
      throw invalid(`sizeGrid must be a positive integer or a list of them, got ${JSON.stringify(options.sizeGrid)}`);
    }
  }
  const a = options.argmaxOutput;
  if (a !== undefined && typeof a !== 'boolean' && (typeof a !== 'string' || !a))
    throw invalid(`argmaxOutput must be true, false or an output name, got ${JSON.stringify(a)}`);
  const labelsName = a === true ? DEFAULT_LABELS_NAME : typeof a === 'string' ? a : null;
  return {
    dynamicSpatial,
    sizeGrid,
    normalization: checkNormalization(options.normalization ?? { method: 'none' }),
    labelsName,
  };
}

/**
 * The in-graph normalization for a recorded one: rwseg.json's `normalisation` ({ method: 'zscore' } per image,
 * { method: 'zscore', mean, std } fixed, { method: 'minmax', min, max } fixed, { method: 'percentile',
 * percentiles }, { method: 'none' }) or the model artifact's `normalization` (the same methods with
 * `scope: 'per-image-and-channel' | 'fixed'`), so an export embeds what its metadata documents.
 */
export function normalizationFromMetadata(record: { method: string; [key: string]: unknown }): InGraphNormalization {
  const { method } = record;
  const stated = record['scope'];
  const hasConstants = ['mean', 'std', 'min', 'max'].some((k) => record[k] !== undefined);
  const fixed = stated === undefined ? hasConstants : stated === 'fixed';
  if (stated !== undefined && stated !== 'fixed' && stated !== 'per-image-and-channel') {
    throw invalid(`normalization: scope '${String(stated)}' is neither 'per-image-and-channel' nor 'fixed'`);
  }
  const list = (v: unknown) => ([] as unknown[]).concat(v ?? []) as number[];
  switch (method) {
    case 'none':
      return { method };
    case 'percentile': {
      const percentiles = (record['percentiles'] as [number, number] | undefined) ?? DEFAULT_PERCENTILES;
      return checkNormalization({ method, percentiles });
    }
    case 'zscore':
      return fixed
        ? checkNormalization({ method: 'fixed', mean: list(record['mean']), std: list(record['std']) })
        : { method };
    case 'minmax': {
      if (!fixed) return { method };
      const lo = list(record['min']);
      const hi = list(record['max']);
      if (lo.length !== hi.length) {
        throw invalid(`normalization: minmax min and max have ${lo.length} and ${hi.length} values`);
      }
      // (x - min) / (max - min): a fixed affine map, the range computed in double as the artifact does.
      return checkNormalization({ method: 'fixed', mean: lo, std: hi.map((h, i) => h - lo[i]!) });
    }
    default:
      throw invalid(
        `normalization: the recorded method '${String(method)}' cannot be embedded in the graph ` +
          '(known: zscore, percentile, minmax, none)',
      );
  }
}
