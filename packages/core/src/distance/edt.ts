/**
 * Exact Euclidean distance transform of N-D binary masks with anisotropic spacing.
 *
 * Separable and linear time: along the first axis the 1-D distance to the nearest zero comes from two scans
 * over whole rows; every other axis then takes the lower envelope of parabolas (P. Felzenszwalb, D. Huttenlocher,
 * "Distance Transforms of Sampled Functions", Theory of Computing 2012). Work is done in squared physical
 * distances (Float64, exact for sums of squared multiples of the spacing) and the square root is taken once.
 *
 * Conventions (same as the spec, ../shared/spec/region-wise-loss.md): for every nonzero voxel the distance to the
 * nearest zero voxel, 0 at zero voxels, the array border is not a boundary. A mask with no zero voxel at all has
 * no distance to measure: every voxel gets +Infinity (scipy instead measures to a virtual voxel outside the array).
 */
import { checkGrid } from './grid.js';

/** Reusable line buffers; pass one to successive calls to avoid reallocating them. */
export class EdtScratch {
  private capacity = 0;
  private blockCapacity = 0;
  /** A block of lines gathered from a strided axis, line-major. */
  block = new Float64Array(0);
  /** Results of the same block. */
  result = new Float64Array(0);
  /** Envelope: parabola vertices, their values f[v], heights f[v] + p(v)^2, and the boundaries between them. */
  vertex = new Int32Array(0);
  value = new Float64Array(0);
  height = new Float64Array(0);
  bound = new Float64Array(0);

  /** One row of the first axis's scan (steps to the nearest zero below). */
  row = new Float64Array(0);

  ensureRow(length: number): void {
    if (length > this.row.length) this.row = new Float64Array(length);
  }

  ensure(lineLength: number, blockSize: number): void {
    if (lineLength > this.capacity) {
      this.capacity = lineLength;
      this.vertex = new Int32Array(lineLength);
      this.value = new Float64Array(lineLength);
      this.height = new Float64Array(lineLength);
      this.bound = new Float64Array(lineLength + 1);
    }
    if (lineLength * blockSize > this.blockCapacity) {
      this.blockCapacity = lineLength * blockSize;
      this.block = new Float64Array(this.blockCapacity);
      this.result = new Float64Array(this.blockCapacity);
    }
  }
}

export interface EdtOptions {
  /** Where to write the result (length = voxel count); allocated when absent. */
  readonly out?: Float64Array;
  readonly scratch?: EdtScratch;
}

/** Columns gathered per block on strided axes: enough for cache-line-sized reads, small enough to stay in L1. */
export const BLOCK_COLUMNS = 16;

/**
 * Squared distances in physical units (mm^2) from every voxel to the nearest zero voxel of `mask`.
 * Layout: row-major over `shape`, last axis fastest; `spacing[a]` is the voxel size along axis a.
 */
export function squaredDistanceTransform(
  mask: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  options: EdtOptions = {},
): Float64Array {
  return transform(mask, shape, spacing, options, false);
}

/** Euclidean distances (mm) to the nearest zero voxel; see the module comment for the conventions. */
export function euclideanDistanceTransform(
  mask: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  options: EdtOptions = {},
): Float64Array {
  return transform(mask, shape, spacing, options, true);
}

/**
 * Euclidean distances needed only at the voxels where `query` is nonzero (e.g. surface voxels for surface
 * distances): contiguous lines with no query voxel skip the last pass and hold NaN. Exact at every query voxel.
 */
export function euclideanDistanceTransformAt(
  mask: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  query: Uint8Array,
  options: EdtOptions = {},
): Float64Array {
  if (query.length !== mask.length)
    throw new RangeError(`distance transform: query has ${query.length} entries, mask ${mask.length}`);
  return transform(mask, shape, spacing, options, true, query);
}

function transform(
  mask: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  options: EdtOptions,
  root: boolean,
  query?: Uint8Array,
): Float64Array {
  const count = checkGrid('distance transform', mask.length, shape, spacing);
  const out = options.out ?? new Float64Array(count);
  if (out.length !== count)
    throw new RangeError(`distance transform: out has ${out.length} entries, expected ${count}`);
  const scratch = options.scratch ?? new EdtScratch();
  // The binary scan runs along the first axis, whole rows at a time (contiguous); the envelopes then run along
  // the middle axes (gathered in blocks) and last along the contiguous axis, in place, with no gather at all.
  // The square root is taken inside that last pass, saving a sweep over the whole array.
  scratch.ensureRow(count / shape[0]!);
  scanFirstAxis(mask, out, shape[0]!, count / shape[0]!, spacing[0]!, scratch.row);
  const last = shape.length - 1;
  for (let axis = 1; axis <= last; axis++)
    envelopeAlongAxis(
      out,
      shape,
      axis,
      spacing[axis]!,
      scratch,
      root && axis === last,
      axis === last ? query : undefined,
    );
  if (root && last === 0) for (let i = 0; i < count; i++) out[i] = Math.sqrt(out[i]!);
  return out;
}

/**
 * Squared 1-D distance to the nearest zero along axis 0 (Infinity where a column has no zero). The array is
 * viewed as [n, inner]; both sweeps walk whole rows so every access is contiguous.
 */
function scanFirstAxis(
  mask: ArrayLike<number>,
  out: Float64Array,
  n: number,
  inner: number,
  spacing: number,
  steps: Float64Array,
): void {
  // Forward: steps since the last zero above (Infinity before the first one), carried in a row-sized buffer so
  // that `out` is only written.
  const carry = steps;
  for (let j = 0; j < inner; j++) {
    const s = mask[j] === 0 ? 0 : Infinity;
    carry[j] = s;
    out[j] = s;
  }
  for (let i = 1; i < n; i++) {
    const row = i * inner;
    for (let j = 0; j < inner; j++) {
      const s = mask[row + j] === 0 ? 0 : carry[j]! + 1;
      carry[j] = s;
      out[row + j] = s;
    }
  }
  // Backward, fused with the conversion to mm^2: the nearer of that and one more than the row below, whose steps
  // the buffer now carries (the last row's already: its forward steps are final). Each row is visited once.
  const below = carry;
  const last = (n - 1) * inner;
  for (let j = 0; j < inner; j++) {
    const d = below[j]! * spacing;
    out[last + j] = d * d;
  }
  for (let i = n - 2; i >= 0; i--) {
    const row = i * inner;
    for (let j = 0; j < inner; j++) {
      const fromBelow = below[j]! + 1;
      const forward = out[row + j]!;
      const s = fromBelow < forward ? fromBelow : forward;
      below[j] = s;
      const d = s * spacing;
      out[row + j] = d * d;
    }
  }
}

/**
 * Replaces every line along `axis` by its squared-distance lower envelope. The array is viewed as
 * [outer, n, inner]; lines are the columns of each n x inner slab, gathered BLOCK_COLUMNS at a time so that
 * reads and writes run along contiguous rows. Contiguous lines (inner = 1) are transformed in place.
 */
export function envelopeAlongAxis(
  data: Float64Array,
  shape: readonly number[],
  axis: number,
  spacing: number,
  scratch: EdtScratch,
  root: boolean,
  query?: Uint8Array,
): void {
  const n = shape[axis]!;
  if (n === 1) {
    if (root) for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(data[i]!);
    return;
  }
  let inner = 1;
  for (let a = axis + 1; a < shape.length; a++) inner *= shape[a]!;
  const outer = data.length / (n * inner);
  if (inner === 1) {
    scratch.ensure(n, 1);
    for (let o = 0; o < outer; o++) {
      const start = o * n;
      if (query && !anyNonzero(query, start, start + n)) data.fill(Number.NaN, start, start + n);
      else lowerEnvelope(data, data, start, n, spacing, scratch, root);
    }
    return;
  }
  const width = Math.min(BLOCK_COLUMNS, inner);
  scratch.ensure(n, width);
  const { block, result } = scratch;
  for (let o = 0; o < outer; o++) {
    const slab = o * n * inner;
    for (let j0 = 0; j0 < inner; j0 += width) {
      const w = Math.min(width, inner - j0);
      let positive = false;
      for (let i = 0; i < n; i++) {
        const row = slab + i * inner + j0;
        for (let c = 0; c < w; c++) {
          const v = data[row + c]!;
          if (v !== 0) positive = true;
          block[c * n + i] = v;
        }
      }
      // A block of background columns is already final (all 0).
      if (!positive) continue;
      for (let c = 0; c < w; c++) lowerEnvelope(block, result, c * n, n, spacing, scratch, root);
      for (let i = 0; i < n; i++) {
        const row = slab + i * inner + j0;
        for (let c = 0; c < w; c++) data[row + c] = result[c * n + i]!;
      }
    }
  }
}

/**
 * out[q] = min_r (f[r] + ((q - r) * spacing)^2) over the n samples starting at `offset`, in O(n).
 * Background columns are mostly zeros, so zero samples are answered directly and only the ends of zero runs
 * enter the envelope. `out` may be `f` (in place): sample q is read before it is written and vertices keep
 * their own copy of f. With `root`, the output is the square root (the last pass of a Euclidean transform).
 * Samples at +Infinity (no zero reached yet) contribute no parabola.
 */
function lowerEnvelope(
  f: Float64Array,
  out: Float64Array,
  offset: number,
  n: number,
  spacing: number,
  scratch: EdtScratch,
  root: boolean,
): void {
  const k = buildEnvelope(f, offset, n, spacing, scratch);
  if (k < 0) {
    out.fill(Infinity, offset, offset + n);
    return;
  }
  const { vertex, value, bound } = scratch;
  let j = 0;
  for (let q = 0; q < n; q++) {
    if (f[offset + q] === 0) {
      out[offset + q] = 0;
      continue;
    }
    const pq = q * spacing;
    while (bound[j + 1]! < pq) j++;
    const d = pq - vertex[j]! * spacing;
    const squared = d * d + value[j]!;
    out[offset + q] = root ? Math.sqrt(squared) : squared;
  }
}

/**
 * The lower envelope of the parabolas of the n samples of f from `offset`, into scratch.vertex/value/bound:
 * parabola j is lowest on [bound[j], bound[j + 1]]. Returns the index of the last parabola, -1 when every
 * sample is +Infinity. Split from the evaluation so that callers that need only a few positions
 * (nearestSiteDistances) can read just those.
 */
export function buildEnvelope(
  f: Float64Array,
  offset: number,
  n: number,
  spacing: number,
  scratch: EdtScratch,
): number {
  const { vertex, value, height, bound } = scratch;
  let k = -1;
  const lastIndex = n - 1;
  for (let q = 0; q < n; q++) {
    const fq = f[offset + q]!;
    if (fq === Infinity) continue;
    // Inside a run of zeros a parabola is lowest only at its own sample, which is 0 anyway: the run's ends suffice.
    if (fq === 0 && q > 0 && q < lastIndex && f[offset + q - 1] === 0 && f[offset + q + 1] === 0) continue;
    const pq = q * spacing;
    const hq = fq + pq * pq;
    let x = -Infinity;
    while (k >= 0) {
      const pr = vertex[k]! * spacing;
      x = (hq - height[k]!) / (2 * (pq - pr));
      if (x > bound[k]!) break;
      k--;
      x = -Infinity;
    }
    k++;
    vertex[k] = q;
    value[k] = fq;
    height[k] = hq;
    bound[k] = x;
  }
  if (k >= 0) bound[k + 1] = Infinity;
  return k;
}

function anyNonzero(values: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (values[i] !== 0) return true;
  return false;
}
