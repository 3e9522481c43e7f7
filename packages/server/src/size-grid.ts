/**
 * The spatial sizes a fully convolutional model can take. A U-Net of depth d halves its input d-1 times and
 * concatenates skips on the way up, so each spatial side must be a multiple of 2^(d-1); other sizes fail deep
 * inside onnxruntime. the model artifact (rwseg.json) states the grid as `sizeGrid`, one multiple per
 * spatial axis; requests are checked against it before onnxruntime runs, and the 400 names the nearest valid sizes.
 */
import { badRequest } from './http-error.js';
import type { TensorSpec } from './models.js';

/** The multiple per spatial axis for a model input of the given rank ([N, ...spatial, C]), from the artifact. */
export function sizeGridOf(grid: readonly number[] | null | undefined, inputRank: number): number[] | undefined {
  const spatial = inputRank - 2;
  if (spatial < 1 || !grid || grid.length < spatial) return undefined;
  return grid.slice(grid.length - spatial);
}

/** The valid sizes around `size` on a grid of `multiple` (for the error message). */
function nearest(size: number, multiple: number): string {
  const lower = Math.floor(size / multiple) * multiple;
  const upper = lower + multiple;
  return lower > 0 ? `${lower} or ${upper}` : `${upper}`;
}

/** 400 when a dynamic spatial axis of `dims` is off the grid. */
export function checkSizeGrid(
  model: string,
  spec: TensorSpec,
  dims: readonly number[],
  grid: readonly number[] | undefined,
): void {
  if (!grid || dims.length !== spec.shape.length) return;
  const bad: string[] = [];
  for (let a = 0; a < grid.length; a++) {
    const size = dims[1 + a];
    if (size % grid[a] !== 0 || size === 0) bad.push(`axis ${1 + a} is ${size}: use ${nearest(size, grid[a])}`);
  }
  if (bad.length > 0) {
    throw badRequest(
      `input '${spec.name}' of model '${model}' has spatial size [${dims.slice(1, -1).join(',')}], ` +
        `off the model's size grid ` +
        `(each spatial side a multiple of [${grid.join(',')}]): ${bad.join('; ')}`,
    );
  }
}
