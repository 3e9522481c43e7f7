/**
 * In-graph padding to the network's size grid and cropping back, with shapes computed from the input's Shape so
 * one graph takes any spatial size. Zeros are added at the end of each spatial axis (after normalization, so
 * they sit at the image mean), as rwseg's inference pads an image smaller than its patch.
 */
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';

export interface GridPadding {
  /** The padded value, every spatial size a multiple of the grid. */
  padded: OnnxValue;
  /** The input's spatial sizes ([S] int64), for cropping outputs back. */
  spatialSizes: string;
}

/** Pads channels-first `x` at the end of each spatial axis up to a multiple of `grid` (one per spatial axis). */
export function padToGrid(b: GraphBuilder, x: OnnxValue, grid: number[], base = 'grid'): GridPadding {
  const sizes = b.op('Shape', [x.name], `${base}_sizes`, { start: 2 });
  const g = b.addInt64(`${base}_multiple`, grid);
  // (grid - size % grid) % grid: 0 when the size is already on the grid.
  const extra = b.op(
    'Mod',
    [b.op('Sub', [g, b.op('Mod', [sizes, g], `${base}_rest`)], `${base}_missing`), g],
    `${base}_extra`,
  );
  // Pad's pads are [begin of every axis..., end of every axis...]: nothing at the start, nothing on N and C.
  const pads = b.op(
    'Concat',
    [b.addInt64(`${base}_pads_fixed`, new Array<number>(x.rank + 2).fill(0)), extra],
    `${base}_pads`,
    { axis: 0 },
  );
  const padded = b.op('Pad', [x.name, pads], `${base}_padded`, { mode: 'constant' });
  return { padded: { ...x, name: padded }, spatialSizes: sizes };
}

/** Crops channels-first `y` back to `spatialSizes` (from `padToGrid`), keeping N and C. */
export function cropToSizes(b: GraphBuilder, y: OnnxValue, spatialSizes: string, base = 'crop'): OnnxValue {
  const spatial = y.rank - 2;
  const starts = b.addInt64(`${base}_starts`, new Array<number>(spatial).fill(0));
  const axes = b.addInt64(
    `${base}_axes`,
    Array.from({ length: spatial }, (_, i) => i + 2),
  );
  return { ...y, name: b.op('Slice', [y.name, starts, spatialSizes, axes], base) };
}
