/**
 * Distances from query voxels to the nearest site voxel, both given as sorted lists of row-major voxel indices:
 * the surface distances of the segmentation metrics (queries: one mask's surface, sites: the other's). Both sets
 * are sparse (about 1 % of a volume for surfaces), and two stages use that:
 *
 * 1. Nearby search. Around each query the offsets of a small ball (about NEARBY_VOXELS voxels in the spacing's
 *    metric) are visited nearest first; the first site met is the nearest site, exactly, since every nearer
 *    offset was visited before it. The surfaces of a prediction and its reference mostly lie within a few voxels
 *    of each other, so this answers most queries in a few dozen lookups.
 * 2. The rest, exactly, by the separable transform of euclideanDistanceTransform with the sites as its zeros,
 *    arranged around the sparsity:
 *    - the first axis needs no dense pass: the sites of each column along it are kept in a compact list, and
 *      the 1-D distance of a voxel is read from the nearest listed site above and below;
 *    - the volume is processed one slab (index along the first axis) at a time, in a buffer the size of one
 *      slab that stays in cache; slabs without a remaining query are skipped entirely;
 *    - within a slab the middle axes take the usual lower envelopes, the one across rows is written back only
 *      on rows holding a query, and the last, contiguous axis builds its envelope only on those rows and reads
 *      it only at the queries.
 * Both stages give the Euclidean distance to the nearest site; they differ only in the rounding of the sum of
 * squares (about 1e-16 relative). Nothing volume-sized is transformed; one volume-sized byte mask marks the sites.
 */
import { RwsegError } from '../errors.js';
import { BLOCK_COLUMNS, buildEnvelope, EdtScratch, envelopeAlongAxis } from './edt.js';
import { checkGrid } from './grid.js';

/**
 * For each query voxel (in the order given), the Euclidean distance in mm to the nearest site voxel; +Infinity
 * when there is no site. `sites` and `queries` are strictly ascending row-major voxel indices on `shape`.
 */
export function nearestSiteDistances(
  sites: Int32Array,
  queries: Int32Array,
  shape: readonly number[],
  spacing: readonly number[],
  scratch: EdtScratch = new EdtScratch(),
): Float64Array {
  const what = 'nearest-site distances';
  const count = checkGrid(
    what,
    shape.reduce((p, n) => p * n, 1),
    shape,
    spacing,
  );
  checkIndexList(what, 'sites', sites, count);
  checkIndexList(what, 'queries', queries, count);
  const out = new Float64Array(queries.length);
  if (queries.length === 0) return out;
  if (sites.length === 0) return out.fill(Infinity);
  const far = searchNearby(sites, queries, shape, spacing, out);
  if (far.length === 0) return out;
  const farDistances = separableDistances(
    sites,
    Int32Array.from(far, (q) => queries[q]!),
    shape,
    spacing,
    scratch,
  );
  for (let t = 0; t < far.length; t++) out[far[t]!] = farDistances[t]!;
  return out;
}

/** Offsets searched around each query: about this many voxels, the ball of the spacing's metric that holds them. */
const NEARBY_VOXELS = 300;

/**
 * Answers the queries whose nearest site lies within a small ball around them by visiting the ball's offsets in
 * order of distance (the first site met is the nearest: every nearer offset was visited before it). Most
 * surface voxels of two similar masks are within a few voxels of the other surface, so this answers most of them
 * for a few dozen lookups each. Returns the positions (into `queries`) of the others, left for the exact
 * separable transform.
 */
function searchNearby(
  sites: Int32Array,
  queries: Int32Array,
  shape: readonly number[],
  spacing: readonly number[],
  out: Float64Array,
): number[] {
  const rank = shape.length;
  const count = shape.reduce((p, n) => p * n, 1);
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, n) => p * n, 1));
  // Radius of the ball holding about NEARBY_VOXELS voxels: volume of the unit n-ball (V_n = V_(n-2) 2 pi / n).
  let unitBall = rank % 2 === 0 ? 1 : 2;
  for (let n = rank % 2 === 0 ? 2 : 3; n <= rank; n += 2) unitBall *= (2 * Math.PI) / n;
  const voxel = spacing.reduce((p, s) => p * s, 1);
  const radius = Math.pow((NEARBY_VOXELS * voxel) / unitBall, 1 / rank);
  const reach = spacing.map((s, a) => Math.min(shape[a]! - 1, Math.floor(radius / s)));
  // Every offset within the radius, nearest first.
  const offsets: { delta: number[]; index: number; distance: number }[] = [];
  const delta = reach.map((r) => -r);
  for (;;) {
    let squared = 0;
    for (let a = 0; a < rank; a++) squared += (delta[a]! * spacing[a]!) ** 2;
    const distance = Math.sqrt(squared);
    if (distance <= radius) {
      offsets.push({ delta: [...delta], index: delta.reduce((p, d, a) => p + d * strides[a]!, 0), distance });
    }
    let a = rank - 1;
    while (a >= 0 && delta[a] === reach[a]) {
      delta[a] = -reach[a]!;
      a--;
    }
    if (a < 0) break;
    delta[a]!++;
  }
  offsets.sort((x, y) => x.distance - y.distance);
  const offsetIndex = Int32Array.from(offsets, (o) => o.index);
  const offsetDistance = Float64Array.from(offsets, (o) => o.distance);
  const offsetDelta = Int32Array.from(offsets.flatMap((o) => o.delta));
  const isSite = new Uint8Array(count);
  for (let s = 0; s < sites.length; s++) isSite[sites[s]!] = 1;
  const far: number[] = [];
  const coord = new Array<number>(rank);
  for (let q = 0; q < queries.length; q++) {
    const index = queries[q]!;
    let rest = index;
    let inside = true;
    for (let a = rank - 1; a >= 0; a--) {
      const n = shape[a]!;
      const c = rest % n;
      rest = (rest - c) / n;
      coord[a] = c;
      if (c < reach[a]! || c >= n - reach[a]!) inside = false;
    }
    let found = -1;
    if (inside) {
      // Far enough from the grid's edges for every offset to stay on the grid.
      for (let t = 0; t < offsetIndex.length; t++) {
        if (isSite[index + offsetIndex[t]!] === 1) {
          found = t;
          break;
        }
      }
    } else {
      for (let t = 0; t < offsetIndex.length; t++) {
        let on = true;
        for (let a = 0; a < rank && on; a++) {
          const c = coord[a]! + offsetDelta[t * rank + a]!;
          on = c >= 0 && c < shape[a]!;
        }
        if (on && isSite[index + offsetIndex[t]!] === 1) {
          found = t;
          break;
        }
      }
    }
    if (found >= 0) out[q] = offsetDistance[found]!;
    else far.push(q);
  }
  return far;
}

/** The exact separable transform of the module comment, for any queries. */
function separableDistances(
  sites: Int32Array,
  queries: Int32Array,
  shape: readonly number[],
  spacing: readonly number[],
  scratch: EdtScratch,
): Float64Array {
  const count = shape.reduce((p, n) => p * n, 1);
  const out = new Float64Array(queries.length);
  const n0 = shape[0]!;
  const s0 = spacing[0]!;
  const inner = count / n0;
  // Sites grouped by column (position within a slab), each column's slab indices ascending: counting sort.
  const start = new Int32Array(inner + 1);
  for (let s = 0; s < sites.length; s++) start[(sites[s]! % inner) + 1]!++;
  for (let c = 0; c < inner; c++) start[c + 1]! += start[c]!;
  const cursor = start.slice(0, inner);
  const slabOf = new Int32Array(sites.length);
  for (let s = 0; s < sites.length; s++) {
    const index = sites[s]!;
    const c = index % inner;
    slabOf[cursor[c]!++] = (index - c) / inner;
  }
  cursor.set(start.subarray(0, inner));
  let columnsWithSites = 0;
  for (let c = 0; c < inner; c++) if (start[c + 1]! > start[c]!) columnsWithSites++;
  const siteColumns = new Int32Array(columnsWithSites);
  for (let c = 0, t = 0; c < inner; c++) if (start[c + 1]! > start[c]!) siteColumns[t++] = c;
  const slabShape = shape.slice(1);
  const slabSpacing = spacing.slice(1);
  const last = slabShape.length - 1;
  const rowLength = last >= 0 ? slabShape[last]! : 1;
  const rowSpacing = last >= 0 ? slabSpacing[last]! : 1;
  const slab = new Float64Array(inner);
  const neededRows = new Int32Array(inner / rowLength);
  scratch.ensure(rowLength, 1);
  let q = 0;
  while (q < queries.length) {
    const i = Math.floor(queries[q]! / inner);
    const slabStart = i * inner;
    // Squared distance along the first axis, in mm^2, from the nearest site of the column above or below. The
    // cursor of a column only moves forward, so the whole sweep costs one visit per site plus one per voxel;
    // columns without any site stay +Infinity.
    slab.fill(Infinity);
    for (let t = 0; t < siteColumns.length; t++) {
      const c = siteColumns[t]!;
      let p = cursor[c]!;
      const end = start[c + 1]!;
      while (p < end && slabOf[p]! < i) p++;
      cursor[c] = p;
      let steps = p < end ? slabOf[p]! - i : Infinity;
      if (p > start[c]! && i - slabOf[p - 1]! < steps) steps = i - slabOf[p - 1]!;
      const d = steps * s0;
      slab[c] = d * d;
    }
    // Rows of this slab that hold a query: the only ones the pass across rows has to write.
    let neededCount = 0;
    for (let r = q; r < queries.length && queries[r]! < slabStart + inner; r++) {
      const row = Math.floor((queries[r]! - slabStart) / rowLength);
      if (neededCount === 0 || neededRows[neededCount - 1] !== row) neededRows[neededCount++] = row;
    }
    for (let axis = 0; axis < last - 1; axis++) {
      envelopeAlongAxis(slab, slabShape, axis, slabSpacing[axis]!, scratch, false);
    }
    if (last >= 1) {
      const [across, acrossSpacing] = [slabShape[last - 1]!, slabSpacing[last - 1]!];
      envelopeAcrossRows(slab, inner / rowLength, rowLength, across, acrossSpacing, neededRows, neededCount, scratch);
    }
    // The last axis: one envelope per row holding queries, read at those queries only.
    while (q < queries.length && queries[q]! < slabStart + inner) {
      const rowStart = slabStart + Math.floor((queries[q]! - slabStart) / rowLength) * rowLength;
      const offset = rowStart - slabStart;
      const k = buildEnvelope(slab, offset, rowLength, rowSpacing, scratch);
      const { vertex, value, bound } = scratch;
      let j = 0;
      for (; q < queries.length && queries[q]! < rowStart + rowLength; q++) {
        const x = queries[q]! - rowStart;
        if (k < 0) out[q] = Infinity;
        else if (slab[offset + x] === 0) out[q] = 0;
        else {
          const px = x * rowSpacing;
          while (bound[j + 1]! < px) j++;
          const d = px - vertex[j]! * rowSpacing;
          out[q] = Math.sqrt(d * d + value[j]!);
        }
      }
    }
  }
  return out;
}

/**
 * The envelope pass along the axis just before the contiguous one (the slab viewed as [outer, n, rowLength],
 * lines running across rows), gathered BLOCK_COLUMNS lines at a time as in the EDT, but written back only on
 * the rows listed in `rows` (indices over outer * n, ascending): the last pass reads no other row.
 */
function envelopeAcrossRows(
  slab: Float64Array,
  rowCount: number,
  rowLength: number,
  n: number,
  spacing: number,
  rows: Int32Array,
  rowsCount: number,
  scratch: EdtScratch,
): void {
  const width = Math.min(BLOCK_COLUMNS, rowLength);
  scratch.ensure(n, width);
  const { block } = scratch;
  let first = 0;
  for (let o = 0; o * n < rowCount; o++) {
    // The listed rows in this group of n.
    let end = first;
    while (end < rowsCount && rows[end]! < (o + 1) * n) end++;
    if (end === first) continue;
    const group = o * n * rowLength;
    for (let j0 = 0; j0 < rowLength; j0 += width) {
      const w = Math.min(width, rowLength - j0);
      let positive = false;
      for (let i = 0; i < n; i++) {
        const at = group + i * rowLength + j0;
        for (let c = 0; c < w; c++) {
          const v = slab[at + c]!;
          if (v !== 0) positive = true;
          block[c * n + i] = v;
        }
      }
      // Lines of sites only are already final (all 0).
      if (!positive) continue;
      for (let c = 0; c < w; c++) {
        const offset = c * n;
        const k = buildEnvelope(block, offset, n, spacing, scratch);
        const { vertex, value, bound } = scratch;
        let j = 0;
        for (let r = first; r < end; r++) {
          const i = rows[r]! - o * n;
          const at = group + i * rowLength + j0 + c;
          if (k < 0) slab[at] = Infinity;
          else if (block[offset + i] === 0) slab[at] = 0;
          else {
            const pi = i * spacing;
            while (bound[j + 1]! < pi) j++;
            const d = pi - vertex[j]! * spacing;
            slab[at] = d * d + value[j]!;
          }
        }
      }
    }
    first = end;
  }
}

function checkIndexList(what: string, name: string, list: Int32Array, count: number): void {
  if (!(list instanceof Int32Array)) {
    throw new RwsegError('INVALID_INPUT', `${what}: ${name} must be an Int32Array of voxel indices`, {});
  }
  let previous = -1;
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (v <= previous || v >= count) {
      const problem = v >= count ? `is outside the grid of ${count} voxels` : 'breaks the strictly ascending order';
      throw new RwsegError('INVALID_INPUT', `${what}: ${name}[${i}] = ${v} ${problem}`, { index: i, value: v });
    }
    previous = v;
  }
}
