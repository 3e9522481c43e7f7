/**
 * The principle checker of the spec (../shared/spec/region-wise-loss.md, "The principle"): given any registered
 * map generator and label maps, it measures what makes an RW map train stably.
 *   P1  at every voxel the true class g has the strictly smallest value: z[g] < z[k] for k != g;
 *   P2  margins z[k] - z[g] are bounded and scale-free: they stay put when the label is upsampled x2 (nearest,
 *       same spacing per voxel, i.e. every object spans twice as many voxels);
 *   P3  the per-voxel gradient of L_RW is bounded by (max_k z - min_k z) / M with M = K * N (B = 1).
 * Maps are generated at the label map's spacing, so the verdict is the one for that spacing: maps with an offset in
 * mm (Kervadec's boundary map, -(EDT - 1) inside) tie at their inner border at spacing 0.5 mm and violate P1 below.
 */
import { RwsegError } from '../errors.js';
import { checkLabelMap, unravel } from '../distance/grid.js';
import type { LabelMapInput } from '../plugins/api.js';
import type { BoundMapGenerator } from '../plugins/registry.js';
import { upsampleNearest } from './upsample.js';

export interface MarginStats {
  /** Voxels where another class has a smaller value than the true class. */
  readonly violations: number;
  /** Voxels without violation where another class has the same value as the true class. */
  readonly ties: number;
  /** Smallest and largest z[k] - z[g] over voxels and k != g (NaN when K = 1). */
  readonly minMargin: number;
  readonly maxMargin: number;
  /** maxMargin / minMargin: how far apart the weakest and strongest pushes are. */
  readonly marginRatio: number;
  readonly maxAbs: number;
  /** max over voxels of (max_k z - min_k z) / (K * N): the bound on |dL/da| at a voxel. */
  readonly gradientBound: number;
  /** Where the smallest margin is: voxel coordinates, the true class and the class closest to it. */
  readonly minMarginAt?:
    { readonly voxel: readonly number[]; readonly trueClass: number; readonly otherClass: number } | undefined;
}

export interface PrincipleReport extends MarginStats {
  readonly map: string;
  readonly shape: readonly number[];
  /** The spacing (mm) the maps were generated at: the verdict holds for it. */
  readonly spacing: readonly number[];
  readonly numClasses: number;
  /** P1: no violation and no tie. */
  readonly strictMinimum: boolean;
  readonly upsampled: MarginStats & {
    readonly factor: number;
    /** upsampled.maxMargin / maxMargin and the same for minMargin. */
    readonly maxMarginRatio: number;
    readonly minMarginRatio: number;
  };
  /** P2: the largest margin changed by at most `scaleTolerance` (relative) under upsampling. */
  readonly scaleFree: boolean;
  /** strictMinimum && scaleFree. */
  readonly pass: boolean;
}

export interface PrincipleCheckOptions {
  /** Upsampling factor of the scale test (default 2). */
  readonly factor?: number;
  /** Relative change of the largest margin still called scale-free (default 0.1). */
  readonly scaleTolerance?: number;
}

/** Runs the generator on the label map and on its upsampled copy and reports P1-P3. */
export function checkMapPrinciples(
  generator: BoundMapGenerator,
  input: LabelMapInput,
  options: PrincipleCheckOptions = {},
): PrincipleReport {
  const factor = options.factor ?? 2;
  const tolerance = options.scaleTolerance ?? 0.1;
  if (!Number.isInteger(factor) || factor < 1)
    throw new RwsegError(
      'INVALID_OPTIONS',
      `principle check: factor must be a positive integer, got ${String(factor)}`,
      { factor },
    );
  if (!(tolerance >= 0))
    throw new RwsegError('INVALID_OPTIONS', `principle check: scaleTolerance must be >= 0, got ${String(tolerance)}`, {
      tolerance,
    });
  checkLabelMap(
    `principle check of map '${generator.map}'`,
    input.labels,
    input.shape,
    input.spacing,
    input.numClasses,
  );
  const base = marginStats(generator, input);
  const up = upsampleNearest(input.labels, input.shape, factor);
  const upStats = marginStats(generator, { ...input, labels: up.labels, shape: up.shape });
  const maxMarginRatio = upStats.maxMargin / base.maxMargin;
  const minMarginRatio = upStats.minMargin / base.minMargin;
  const strictMinimum = base.violations === 0 && base.ties === 0;
  const scaleFree = Math.abs(maxMarginRatio - 1) <= tolerance;
  return {
    map: generator.key,
    shape: [...input.shape],
    spacing: [...input.spacing],
    numClasses: input.numClasses,
    ...base,
    strictMinimum,
    upsampled: { ...upStats, factor, maxMarginRatio, minMarginRatio },
    scaleFree,
    pass: strictMinimum && scaleFree,
  };
}

/** Margin statistics of the generator's map on one label map. */
export function marginStats(generator: BoundMapGenerator, input: LabelMapInput): MarginStats {
  const { labels, numClasses: K } = input;
  const n = labels.length;
  const z = generator.generate(input);
  if (!(z instanceof Float32Array) || z.length !== n * K) {
    throw new RwsegError(
      'INVALID_PLUGIN',
      `map '${generator.map}' returned ${describe(z)}; expected a Float32Array of ${n} voxels x ${K} classes = ${n * K} values`,
      {
        map: generator.map,
      },
    );
  }
  let violations = 0;
  let ties = 0;
  let minMargin = Infinity;
  let maxMargin = -Infinity;
  let maxAbs = 0;
  let widest = 0;
  let minAt: { voxel: number; otherClass: number } | undefined;
  for (let i = 0; i < n; i++) {
    const row = i * K;
    const truth = z[row + labels[i]!]!;
    let lo = Infinity;
    let hi = -Infinity;
    let violated = false;
    let tied = false;
    for (let k = 0; k < K; k++) {
      const v = z[row + k]!;
      if (!Number.isFinite(v)) {
        throw new RwsegError(
          'NUMERICAL_ERROR',
          `map '${generator.map}' has a non-finite value ${v} at voxel ${i}, class ${k}`,
          { map: generator.map, voxel: i, class: k },
        );
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      const a = Math.abs(v);
      if (a > maxAbs) maxAbs = a;
      if (k === labels[i]) continue;
      const margin = v - truth;
      if (margin < 0) violated = true;
      else if (margin === 0) tied = true;
      if (margin < minMargin) {
        minMargin = margin;
        minAt = { voxel: i, otherClass: k };
      }
      if (margin > maxMargin) maxMargin = margin;
    }
    if (violated) violations++;
    else if (tied) ties++;
    if (hi - lo > widest) widest = hi - lo;
  }
  if (K === 1) {
    minMargin = Number.NaN;
    maxMargin = Number.NaN;
  }
  const minMarginAt = minAt && {
    voxel: unravel(minAt.voxel, input.shape),
    trueClass: labels[minAt.voxel]!,
    otherClass: minAt.otherClass,
  };
  const gradientBound = widest / (K * n);
  return {
    violations,
    ties,
    minMargin,
    maxMargin,
    marginRatio: maxMargin / minMargin,
    maxAbs,
    gradientBound,
    minMarginAt,
  };
}

function describe(value: unknown): string {
  if (value instanceof Float32Array) return `a Float32Array of ${value.length} values`;
  if (value === null || value === undefined) return String(value);
  return `a ${(value as object).constructor?.name ?? typeof value}`;
}
