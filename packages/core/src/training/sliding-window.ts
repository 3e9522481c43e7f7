/**
 * Sliding-window inference over a whole image or volume, as nnU-Net does it: patches at a stride of
 * patch * (1 - overlap), each prediction weighted by a Gaussian centred on the patch (sigma = patch / 8) so that
 * border voxels, which see less context, count less; the weighted sum is divided by the summed weights.
 *
 * Layouts: image [...spatial, C] row-major channels-last; result [...spatial, K] probabilities.
 * Images smaller than the patch are zero-padded at the end of each short axis; the padding is cropped away.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../tf.js';

export interface SlidingWindowOptions {
  readonly patch: readonly number[];
  /** Fraction of a patch that neighbouring windows share (default 0.5). */
  readonly overlap?: number;
  /** Windows per forward pass (default 4). */
  readonly batchSize?: number;
}

/** Window start positions along one axis: evenly spread from 0 to size - patch, covering every voxel. */
export function windowStarts(size: number, patch: number, overlap: number): number[] {
  if (size <= patch) return [0];
  const step = Math.max(1, Math.floor(patch * (1 - overlap)));
  const count = Math.ceil((size - patch) / step) + 1;
  const span = size - patch;
  return Array.from({ length: count }, (_, i) => Math.round((i * span) / (count - 1)));
}

/** Separable Gaussian importance map over a patch, max 1, with a floor so no voxel gets zero weight. */
export function gaussianImportance(patch: readonly number[]): Float32Array {
  const axes = patch.map((p) => {
    const sigma = p / 8;
    const centre = (p - 1) / 2;
    return Float32Array.from({ length: p }, (_, i) => Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)));
  });
  const total = patch.reduce((a, b) => a * b, 1);
  const out = new Float32Array(total);
  const index = new Array<number>(patch.length).fill(0);
  for (let i = 0; i < total; i++) {
    let w = 1;
    for (let a = 0; a < patch.length; a++) w *= axes[a]![index[a]!]!;
    out[i] = Math.max(w, 1e-3);
    for (let a = patch.length - 1; a >= 0; a--) {
      if (++index[a]! < patch[a]!) break;
      index[a] = 0;
    }
  }
  return out;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let a = shape.length - 2; a >= 0; a--) s[a] = s[a + 1]! * shape[a + 1]!;
  return s;
}

/** Calls fn(patchOffset, imageOffset) for every voxel of a window at `start` that lies inside the image. */
function forEachWindowVoxel(shape: readonly number[], patch: readonly number[], start: readonly number[], fn: (p: number, v: number) => void): void {
  const total = patch.reduce((a, b) => a * b, 1);
  const imageStrides = strides(shape);
  const index = new Array<number>(patch.length).fill(0);
  for (let p = 0; p < total; p++) {
    let v = 0;
    let inside = true;
    for (let a = 0; a < patch.length; a++) {
      const x = start[a]! + index[a]!;
      if (x >= shape[a]!) inside = false;
      v += x * imageStrides[a]!;
    }
    if (inside) fn(p, v);
    for (let a = patch.length - 1; a >= 0; a--) {
      if (++index[a]! < patch[a]!) break;
      index[a] = 0;
    }
  }
}

/**
 * Probabilities [...shape, K] for a whole image [...shape, C]. Uses the model's first (full-resolution) output.
 * Async because the webgpu backend cannot read tensors synchronously under Node.
 */
export async function slidingWindowPredict(model: tfl.LayersModel, image: Float32Array, shape: readonly number[], channels: number, options: SlidingWindowOptions): Promise<Float32Array> {
  const { patch } = options;
  const overlap = options.overlap ?? 0.5;
  const batchSize = options.batchSize ?? 4;
  const patchVoxels = patch.reduce((a, b) => a * b, 1);
  const voxels = shape.reduce((a, b) => a * b, 1);
  const importance = gaussianImportance(patch);

  const perAxis = shape.map((s, a) => windowStarts(s, patch[a]!, overlap));
  const starts: number[][] = [[]];
  for (const options of perAxis) starts.splice(0, starts.length, ...starts.flatMap((prefix) => options.map((o) => [...prefix, o])));

  let numClasses = 0;
  let sum = new Float32Array(0);
  const weight = new Float32Array(voxels);
  for (let first = 0; first < starts.length; first += batchSize) {
    const group = starts.slice(first, first + batchSize);
    const input = new Float32Array(group.length * patchVoxels * channels);
    group.forEach((start, b) => {
      forEachWindowVoxel(shape, patch, start, (p, v) => {
        for (let c = 0; c < channels; c++) input[(b * patchVoxels + p) * channels + c] = image[v * channels + c]!;
      });
    });
    const head = tf.tidy(() => {
      const output = model.predict(tf.tensor(input, [group.length, ...patch, channels]));
      return Array.isArray(output) ? output[0]! : output;
    });
    const probs = (await head.data()) as Float32Array;
    head.dispose();
    if (numClasses === 0) {
      numClasses = probs.length / (group.length * patchVoxels);
      sum = new Float32Array(voxels * numClasses);
    }
    group.forEach((start, b) => {
      forEachWindowVoxel(shape, patch, start, (p, v) => {
        const w = importance[p]!;
        weight[v]! += w;
        for (let k = 0; k < numClasses; k++) sum[v * numClasses + k]! += w * probs[(b * patchVoxels + p) * numClasses + k]!;
      });
    });
  }
  for (let v = 0; v < voxels; v++) for (let k = 0; k < numClasses; k++) sum[v * numClasses + k]! /= weight[v]!;
  return sum;
}

/** Arg-max over the last axis: [..., K] probabilities -> labels. */
export function argmaxLabels(probs: Float32Array, numClasses: number): Int32Array {
  const out = new Int32Array(probs.length / numClasses);
  for (let v = 0; v < out.length; v++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (probs[v * numClasses + k]! > probs[v * numClasses + best]!) best = k;
    out[v] = best;
  }
  return out;
}
