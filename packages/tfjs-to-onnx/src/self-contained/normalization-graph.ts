/**
 * Intensity normalization as ONNX nodes, per sample and channel, on a channels-first value [N, C, ...spatial].
 * The value is viewed as [N, C, M] (M voxels) so every statistic is a reduction over one axis. Statistics and the
 * normalized values are computed in float64 and cast back to float32, the arithmetic of rwseg's
 * `normalizeChannels` (float32 voxels, double sums), so an exported model sees what the trained one saw.
 */
import { TfjsToOnnxError } from '../errors.js';
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';
import { DataType } from '../onnx/proto.js';
import type { InGraphNormalization } from './options.js';

/** Below this std a channel is constant and normalizes to zeros (preprocess.ts uses the same threshold). */
export const CONSTANT_CHANNEL_STD = 1e-8;

/** The q-th percentile (0..100) of each row of `sorted` ([N, C, M] ascending, float64), numpy's linear rule. */
function percentileOfRows(b: GraphBuilder, sorted: string, countMinusOne: string, q: number, base: string): string {
  // h = (M - 1) * q / 100 in double, in preprocess.ts's order of operations; lo = floor(h), hi = min(lo + 1, M - 1).
  const h = b.op(
    'Div',
    [
      b.op('Mul', [countMinusOne, b.addDouble(`${base}_q`, [q], [1])], `${base}_hq`),
      b.addDouble(`${base}_100`, [100], [1]),
    ],
    `${base}_h`,
  );
  const lo = b.op('Floor', [h], `${base}_lo`);
  const hi = b.op(
    'Min',
    [b.op('Add', [lo, b.addDouble(`${base}_one`, [1], [1])], `${base}_lo1`), countMinusOne],
    `${base}_hi`,
  );
  const gather = (index: string, name: string) =>
    b.op('Gather', [sorted, b.op('Cast', [index], `${name}_index`, { to: DataType.INT64 })], name, { axis: 2 });
  const vLo = gather(lo, `${base}_vlo`);
  const vHi = gather(hi, `${base}_vhi`);
  const frac = b.op('Sub', [h, lo], `${base}_frac`);
  return b.op('Add', [vLo, b.op('Mul', [frac, b.op('Sub', [vHi, vLo], `${base}_span`)], `${base}_step`)], base);
}

/** Z-scores each row of a float64 [N, C, M] value over its last axis; returns float64. */
function zscoreRows(b: GraphBuilder, x: string, base: string): string {
  const mean = b.reduce('ReduceMean', x, [2], `${base}_mean`);
  const centered = b.op('Sub', [x, mean], `${base}_centered`);
  const variance = b.reduce('ReduceMean', b.op('Mul', [centered, centered], `${base}_sq`), [2], `${base}_var`);
  const std = b.op('Sqrt', [variance], `${base}_std`);
  const varies = b.op('Greater', [std, b.addDouble(`${base}_floor`, [CONSTANT_CHANNEL_STD], [])], `${base}_varies`);
  const scale = b.op(
    'Where',
    [varies, b.op('Reciprocal', [std], `${base}_inv_std`), b.addDouble(`${base}_zero`, [0], [])],
    `${base}_scale`,
  );
  return b.op('Mul', [centered, scale], base);
}

/** One constant per channel from one for all or one each; names the option when the count fits neither. */
export function perChannel(v: number | number[], channels: number, what: 'mean' | 'std'): number[] {
  const list = typeof v === 'number' ? [v] : v;
  if (list.length !== 1 && list.length !== channels) {
    throw new TfjsToOnnxError(
      'INVALID_OPTION',
      `selfContained.normalization.${what} has ${list.length} values for a model with ${channels} input channels`,
    );
  }
  return list.length === 1 ? new Array<number>(channels).fill(list[0]!) : list;
}

/**
 * Appends the nodes normalizing `x` (channels-first, `channels` known) and returns the normalized value.
 * 'none' returns `x` itself.
 */
export function normalizeInGraph(
  b: GraphBuilder,
  x: OnnxValue,
  channels: number,
  n: InGraphNormalization,
  base = 'normalization',
): OnnxValue {
  if (n.method === 'none') return x;
  if (n.method === 'fixed') {
    // In double, as the artifact's affine normalization computes (x - shift) / scale in JS numbers.
    const shape = [channels, ...new Array<number>(x.rank - 2).fill(1)];
    const mean = b.addDouble(`${base}_mean`, perChannel(n.mean, channels, 'mean'), shape);
    const std = b.addDouble(`${base}_std`, perChannel(n.std, channels, 'std'), shape);
    const xD = b.op('Cast', [x.name], `${base}_f64`, { to: DataType.DOUBLE });
    const y = b.op('Div', [b.op('Sub', [xD, mean], `${base}_centered`), std], `${base}_scaled`);
    return { ...x, name: b.op('Cast', [y], base, { to: DataType.FLOAT }) };
  }
  // [N, C, M]: Reshape's 0 copies N and C, -1 gathers the voxels.
  const rows = b.op('Reshape', [x.name, b.addInt64(`${base}_rows_shape`, [0, 0, -1])], `${base}_rows`);
  let values = rows;
  if (n.method === 'percentile') {
    const count = b.op('Shape', [rows], `${base}_count`, { start: 2, end: 3 });
    const sorted = b.node('TopK', [rows, count], [`${base}_sorted`, `${base}_order`], {
      axis: 2,
      largest: 0,
      sorted: 1,
    })[0]!;
    const sortedD = b.op('Cast', [sorted], `${base}_sorted_f64`, { to: DataType.DOUBLE });
    const countMinusOne = b.op(
      'Sub',
      [b.op('Cast', [count], `${base}_count_f64`, { to: DataType.DOUBLE }), b.addDouble(`${base}_one`, [1], [1])],
      `${base}_last`,
    );
    const [pl, ph] = n.percentiles ?? [0.5, 99.5];
    const lo = percentileOfRows(b, sortedD, countMinusOne, pl, `${base}_p_lo`);
    const hi = percentileOfRows(b, sortedD, countMinusOne, ph, `${base}_p_hi`);
    // Clipping in float32 against the float32-rounded bounds equals clipping in double and rounding (monotone).
    const loF = b.op('Cast', [lo], `${base}_p_lo_f32`, { to: DataType.FLOAT });
    const hiF = b.op('Cast', [hi], `${base}_p_hi_f32`, { to: DataType.FLOAT });
    values = b.op('Min', [b.op('Max', [rows, loF], `${base}_clip_lo`), hiF], `${base}_clipped`);
  }
  if (n.method === 'minmax') {
    const lo = b.op('Cast', [b.reduce('ReduceMin', rows, [2], `${base}_min`)], `${base}_min_f64`, {
      to: DataType.DOUBLE,
    });
    const hi = b.op('Cast', [b.reduce('ReduceMax', rows, [2], `${base}_max`)], `${base}_max_f64`, {
      to: DataType.DOUBLE,
    });
    const range = b.op('Sub', [hi, lo], `${base}_range`);
    const varies = b.op('Greater', [range, b.addDouble(`${base}_zero_range`, [0], [])], `${base}_varies`);
    const inverse = b.op('Reciprocal', [range], `${base}_inv_range`);
    const scale = b.op('Where', [varies, inverse, b.addDouble(`${base}_zero`, [0], [])], `${base}_scale`);
    const shifted = b.op('Sub', [b.op('Cast', [rows], `${base}_f64`, { to: DataType.DOUBLE }), lo], `${base}_shifted`);
    const m = b.op('Cast', [b.op('Mul', [shifted, scale], `${base}_m`)], `${base}_f32`, { to: DataType.FLOAT });
    return { ...x, name: b.op('Reshape', [m, b.op('Shape', [x.name], `${base}_shape`)], base) };
  }
  const z = zscoreRows(b, b.op('Cast', [values], `${base}_f64`, { to: DataType.DOUBLE }), `${base}_z`);
  const zF = b.op('Cast', [z], `${base}_f32`, { to: DataType.FLOAT });
  return { ...x, name: b.op('Reshape', [zF, b.op('Shape', [x.name], `${base}_shape`)], base) };
}
