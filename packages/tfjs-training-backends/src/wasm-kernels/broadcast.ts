/** Shape tests shared by the elementwise and batch-norm kernels: which broadcasts their SIMD paths handle. */
import { tf } from '../tf.js';
import type { TensorInfo } from './stock.js';

export const size = (info: TensorInfo): number => tf.util.sizeFromShape(info.shape);
export const sameShape = (a: TensorInfo, b: TensorInfo): boolean => tf.util.arraysEqual(a.shape, b.shape);

/** True when `v` broadcasts along the last axis of `x` only: shape [C] or [1, ..., 1, C] of rank <= x's. */
export function isChannelVector(v: TensorInfo, x: TensorInfo): boolean {
  const rank = x.shape.length;
  if (rank < 2 || v.shape.length < 1 || v.shape.length > rank) return false;
  const channels = x.shape[rank - 1] as number;
  return v.shape[v.shape.length - 1] === channels && size(v) === channels;
}

/**
 * True when `v` is one channel vector per sample: shape [B, 1, ..., 1, C] against x [B, ..., C] of the same rank
 * (instance norm's per-sample mean and variance, and their gradients).
 */
export function isSampleChannelVector(v: TensorInfo, x: TensorInfo): boolean {
  const rank = x.shape.length;
  if (rank < 3 || v.shape.length !== rank) return false;
  if (v.shape[0] !== x.shape[0] || v.shape[rank - 1] !== x.shape[rank - 1]) return false;
  return v.shape.slice(1, -1).every((d) => d === 1);
}
