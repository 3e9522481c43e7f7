/**
 * Layout rules. TF.js tensors are channels-last; inside the ONNX graph rank-4/5 tensors are channels-first
 * (NCHW / NCDHW), the layout ONNX's Conv, pooling, Resize and InstanceNormalization expect. These helpers map a
 * TF.js axis to the ONNX axis of a value and insert the Transposes that cross between the two.
 */
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';

/** Ranks that live channels-first inside the graph. */
export function prefersChannelsFirst(rank: number): boolean {
  return rank === 4 || rank === 5;
}

/** Permutation taking channels-last to channels-first: [0, r-1, 1, ..., r-2]. */
export function toChannelsFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Permutation taking channels-first back to channels-last: [0, 2, ..., r-1, 1]. */
export function toChannelsLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** The ONNX axis holding TF.js axis `tfAxis` (negative counts from the end) of `value`. */
export function onnxAxis(value: OnnxValue, tfAxis: number): number {
  const r = value.rank;
  const a = tfAxis < 0 ? tfAxis + r : tfAxis;
  if (a < 0 || a >= r) throw new RangeError(`axis ${tfAxis} is out of range for a rank-${r} tensor`);
  if (!value.channelsFirst || a === 0) return a;
  return a === r - 1 ? 1 : a + 1;
}

export function toChannelsFirst(b: GraphBuilder, v: OnnxValue, base: string): OnnxValue {
  if (v.channelsFirst || !prefersChannelsFirst(v.rank)) return v;
  return {
    name: b.op('Transpose', [v.name], `${base}_nchw`, { perm: toChannelsFirstPerm(v.rank) }),
    rank: v.rank,
    channelsFirst: true,
  };
}

export function toChannelsLast(b: GraphBuilder, v: OnnxValue, base: string): OnnxValue {
  if (!v.channelsFirst) return v;
  return {
    name: b.op('Transpose', [v.name], `${base}_nhwc`, { perm: toChannelsLastPerm(v.rank) }),
    rank: v.rank,
    channelsFirst: false,
  };
}

/** Puts a value in the layout its rank prefers (used after shape-changing ops computed channels-last). */
export function toPreferred(b: GraphBuilder, v: OnnxValue, base: string): OnnxValue {
  return prefersChannelsFirst(v.rank) ? toChannelsFirst(b, v, base) : toChannelsLast(b, v, base);
}
