/**
 * Whole-case prediction with a model whose patch has the case's dimensionality (sliding window over the case) or
 * one dimension fewer (a 2D model on a 3D volume, as the paper trained nnU-Net 2D on hippocampus slices): then
 * every slice along `sliceAxis` goes through the 2D sliding window and the slices' probabilities are stacked back
 * into the volume, so metrics are computed per 3D volume with the volume's own spacing (mm).
 *
 * Layouts: image [...spatial, C] row-major channels-last; result [...spatial, K] probabilities.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { sliceAlong } from '../data/preprocess.js';
import { RwsegError } from '../errors.js';
import { slidingWindowPredict, type SlidingWindowOptions } from './sliding-window.js';

export interface CasePredictionOptions extends SlidingWindowOptions {
  /** Axis of a 3D case that a 2D model's slices are taken along (default 0); unused when the ranks agree. */
  readonly sliceAxis?: number;
}

/** Writes a slice [...other axes, K] back into a [...shape, K] array at `index` along `axis` (sliceAlong's inverse). */
function placeSlice(out: Float32Array, slice: Float32Array, shape: readonly number[], channels: number, axis: number, index: number): void {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1) * channels;
  for (let o = 0; o < outer; o++) out.set(slice.subarray(o * inner, (o + 1) * inner), (o * shape[axis]! + index) * inner);
}

/**
 * Probabilities [...shape, K] for one case [...shape, C]: `options.patch` of the same rank as `shape` slides over
 * the case; one rank fewer predicts slice by slice along `options.sliceAxis`. Any other rank is an error.
 */
export async function predictCase(model: tfl.LayersModel, image: Float32Array, shape: readonly number[], channels: number, options: CasePredictionOptions): Promise<Float32Array> {
  const { patch } = options;
  if (patch.length === shape.length) return slidingWindowPredict(model, image, shape, channels, options);
  if (patch.length !== shape.length - 1) {
    throw new RwsegError('INVALID_INPUT', `cannot apply a ${patch.length}D model (patch [${patch.join(', ')}]) to a ${shape.length}D case of shape [${shape.join(', ')}]: the case must be ${patch.length}D, or ${patch.length + 1}D to be predicted slice by slice`, { patch: [...patch], shape: [...shape] });
  }
  const axis = options.sliceAxis ?? 0;
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new RwsegError('INVALID_OPTIONS', `sliceAxis ${axis} is not an axis of the ${shape.length}D case of shape [${shape.join(', ')}]`, { sliceAxis: axis, shape: [...shape] });
  }
  const sliceShape = shape.filter((_, a) => a !== axis);
  let out: Float32Array | undefined;
  for (let index = 0; index < shape[axis]!; index++) {
    const probs = await slidingWindowPredict(model, sliceAlong(image, shape, channels, axis, index), sliceShape, channels, options);
    const numClasses = probs.length / sliceShape.reduce((a, b) => a * b, 1);
    out ??= new Float32Array(shape.reduce((a, b) => a * b, 1) * numClasses);
    placeSlice(out, probs, shape, numClasses, axis, index);
  }
  return out ?? new Float32Array(0);
}
