/**
 * In-graph padding to the network's size grid and cropping back, with shapes computed from the input's Shape so
 * one graph takes any spatial size. Zeros are added after normalization (so they sit at the image mean), split
 * around the image as rwseg's whole-image inference splits them (packages/core/src/inference: floor(extra / 2)
 * before, the rest after), so the network sees the same padded image and the labels agree with `rwseg predict`.
 */
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';

export interface GridPadding {
  /** The padded value, every spatial size a multiple of the grid. */
  padded: OnnxValue;
  /** Where the image starts in the padded value and its sizes ([S] int64 each), for cropping outputs back. */
  offsets: string;
  spatialSizes: string;
}

/** Pads channels-first `x` around each spatial axis up to a multiple of `grid` (one per spatial axis). */
export function padToGrid(b: GraphBuilder, x: OnnxValue, grid: number[], base = 'grid'): GridPadding {
  const sizes = b.op('Shape', [x.name], `${base}_sizes`, { start: 2 });
  const g = b.addInt64(`${base}_multiple`, grid);
  // (grid - size % grid) % grid: 0 when the size is already on the grid.
  const rest = b.op('Mod', [sizes, g], `${base}_rest`);
  const extra = b.op('Mod', [b.op('Sub', [g, rest], `${base}_missing`), g], `${base}_extra`);
  // Integer Div truncates, which is floor for these non-negative counts.
  const before = b.op('Div', [extra, b.addInt64(`${base}_two`, [2])], `${base}_before`);
  const after = b.op('Sub', [extra, before], `${base}_after`);
  // Pad's pads are [begin of every axis..., end of every axis...]; N and C get none.
  const none = b.addInt64(`${base}_nc`, [0, 0]);
  const pads = b.op('Concat', [none, before, none, after], `${base}_pads`, { axis: 0 });
  const padded = b.op('Pad', [x.name, pads], `${base}_padded`, { mode: 'constant' });
  return { padded: { ...x, name: padded }, offsets: before, spatialSizes: sizes };
}

/** Crops channels-first `y` back to the image `padToGrid` padded, keeping N and C. */
export function cropToImage(b: GraphBuilder, y: OnnxValue, padding: GridPadding, base = 'crop'): OnnxValue {
  const spatial = y.rank - 2;
  const ends = b.op('Add', [padding.offsets, padding.spatialSizes], `${base}_ends`);
  const axes = b.addInt64(
    `${base}_axes`,
    Array.from({ length: spatial }, (_, i) => i + 2),
  );
  return { ...y, name: b.op('Slice', [y.name, padding.offsets, ends, axes], base) };
}
