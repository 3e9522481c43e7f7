/**
 * The inference engine's core: class probabilities for a whole image or volume, from any WindowPredictor.
 *
 * - sliding-window (default): windows of the training patch at windowStarts() per axis, batched `batchSize` at a
 *   time, each window's probabilities weighted by gaussianImportance() and the weighted sum divided by the summed
 *   weights. An axis shorter than the patch is zero-padded to it, centered (after normalization zero is the mean);
 *   the padding is never written back.
 * - whole-image: one window per image (or slice), each axis zero-padded, centered, up to the next multiple of the
 *   model's size grid (a U-Net of depth d takes multiples of 2^(d-1)); for fully convolutional models whose
 *   runtime takes any size on that grid. No weighting: every voxel is covered once.
 * - A model of one rank fewer than the image (a 2D U-Net on a 3D volume) predicts it slice by slice along
 *   `sliceAxis`; the slices' windows are batched together and written straight into the volume.
 *
 * Determinism across runtimes: windows are visited in one fixed order (slice, then window starts row-major, last
 * axis fastest), voxels within a window row-major, and the accumulators are Float32Array: each weighted
 * probability is added in float64 and the sum stored back as float32, in that order, whatever the batch size.
 * Nothing depends on the runtime but the probabilities it returns, so a TF.js model and its ONNX export give
 * byte-identical labels wherever their probabilities agree; they differ in the last bits (~2e-6), so only a voxel
 * whose two best classes are that close can flip.
 *
 * Layouts: image [...spatial, C] row-major channels-last; result [...spatial, K].
 */
import { RwsegError } from '../errors.js';
import { centeredPadding, gaussianImportance, roundUpToGrid, windowStarts } from './windows.js';
import type { WindowPredictor } from './window-predictor.js';

export type InferenceMode = 'sliding-window' | 'whole-image';

export interface InferenceOptions {
  /** Default 'sliding-window'. */
  readonly mode?: InferenceMode;
  /** Window per model axis (the training patch); default: the model's fixed input window. */
  readonly patch?: readonly number[];
  /** Fraction of a patch that neighboring windows share, in [0, 1) (default 0.5). */
  readonly overlap?: number;
  /** Windows per predictor call (default 4). */
  readonly batchSize?: number;
  /** Sizes the model takes are multiples of this, per model axis or one for all (default 1); whole-image pads to it. */
  readonly sizeGrid?: number | readonly number[];
  /** A model of one rank fewer than the image: the image axis slices are taken along (default 0). */
  readonly sliceAxis?: number;
  /** Names the image in error messages (a file, 'the request body'). */
  readonly imageName?: string;
  /**
   * Sees each predictor call's windows and their probabilities [n, ...window, K] before they are accumulated
   * (validation computes the training loss on them: no second forward pass). Awaited in window order.
   */
  readonly onWindows?: (batch: WindowBatch) => void | Promise<void>;
}

/** One window: the slice it lies in (0 when not slice-wise) and its start per model axis, padding included. */
export interface WindowPosition {
  readonly slice: number;
  readonly start: readonly number[];
}

/** What `onWindows` gets: the windows of one predictor call, in order, with their probabilities. */
export interface WindowBatch {
  readonly plan: WindowPlan;
  /** Index of the first of these windows in the image's window order. */
  readonly first: number;
  readonly windows: readonly WindowPosition[];
  /** [n, ...plan.window, K], the predictor's output. */
  readonly probabilities: Float32Array;
  readonly classes: number;
}

export interface ProbabilityMap {
  /** [...spatial, K] */
  readonly probabilities: Float32Array;
  readonly classes: number;
}

/** How windows cover the image: the model axes' image axes, window size, padding and starts per axis. */
export interface WindowPlan {
  readonly mode: InferenceMode;
  /** Image axis of each model axis. */
  readonly axes: readonly number[];
  /** The image axis slices are taken along, or -1. */
  readonly sliceAxis: number;
  readonly slices: number;
  readonly window: readonly number[];
  /** Zero padding before the image, per model axis. */
  readonly before: readonly number[];
  readonly starts: readonly (readonly number[])[];
}

const DEFAULT_OVERLAP = 0.5;
const DEFAULT_BATCH = 4;

function describe(name: string | undefined, shape: readonly number[]): string {
  return `${name ?? 'the image'} (${shape.length}D, shape [${shape.join(', ')}])`;
}

/** Checks the image against the model and options, and lays out the windows. Bad input is an RwsegError. */
export function planWindows(
  predictor: WindowPredictor,
  shape: readonly number[],
  channels: number,
  options: InferenceOptions = {},
): WindowPlan {
  const mode = options.mode ?? 'sliding-window';
  const rank = options.patch?.length ?? predictor.inputWindow.length;
  const what = describe(options.imageName, shape);
  if (predictor.channels !== null && predictor.channels !== channels) {
    throw new RwsegError('INVALID_INPUT', `${what} has ${channels} channel(s); the model takes ${predictor.channels}`, {
      channels,
      modelChannels: predictor.channels,
    });
  }
  if (predictor.inputWindow.length !== rank) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `patch [${options.patch!.join(', ')}] has ${rank} axes; the model is ${predictor.inputWindow.length}D`,
      { patch: options.patch },
    );
  }
  if (shape.length !== rank && shape.length !== rank + 1) {
    throw new RwsegError(
      'INVALID_INPUT',
      `cannot apply a ${rank}D model to ${what}: the image must be ` +
        `${rank}D, or ${rank + 1}D to be predicted slice by slice`,
      { shape: [...shape] },
    );
  }
  if (shape.some((s) => !Number.isInteger(s) || s < 1))
    throw new RwsegError('INVALID_INPUT', `${what} is empty`, { shape: [...shape] });
  let sliceAxis = -1;
  if (shape.length === rank + 1) {
    sliceAxis = options.sliceAxis ?? 0;
    if (!Number.isInteger(sliceAxis) || sliceAxis < 0 || sliceAxis >= shape.length) {
      throw new RwsegError('INVALID_OPTIONS', `sliceAxis ${sliceAxis} is not an axis of ${what}`, {
        sliceAxis,
        shape: [...shape],
      });
    }
  }
  const axes = shape.map((_, a) => a).filter((a) => a !== sliceAxis);
  const sizes = axes.map((a) => shape[a]!);
  const overlap = options.overlap ?? DEFAULT_OVERLAP;
  if (!(overlap >= 0 && overlap < 1))
    throw new RwsegError('INVALID_OPTIONS', `overlap ${overlap} is not in [0, 1)`, { option: 'overlap' });
  let window: number[];
  if (mode === 'sliding-window') {
    const patch = options.patch ?? predictor.inputWindow;
    if (patch.some((p) => p === null)) {
      throw new RwsegError(
        'INVALID_OPTIONS',
        `the model takes any window size: give the training patch ` +
          `for sliding-window inference, or use whole-image mode`,
        {},
      );
    }
    window = (patch as readonly number[]).map((p, a) => {
      const fixed = predictor.inputWindow[a];
      if (!Number.isInteger(p) || p < 1)
        throw new RwsegError('INVALID_OPTIONS', `patch [${patch.join(', ')}] must be positive integers`, { patch });
      if (fixed !== null && fixed !== undefined && fixed !== p) {
        throw new RwsegError(
          'INVALID_OPTIONS',
          `patch [${patch.join(', ')}] is not the model's input window [${predictor.inputWindow.join(', ')}]`,
          { patch },
        );
      }
      return p;
    });
  } else if (mode === 'whole-image') {
    const grid =
      typeof options.sizeGrid === 'number' || options.sizeGrid === undefined
        ? sizes.map(() => (options.sizeGrid as number | undefined) ?? 1)
        : [...options.sizeGrid];
    if (grid.length !== rank || grid.some((g) => !Number.isInteger(g) || g < 1))
      throw new RwsegError('INVALID_OPTIONS', `sizeGrid [${grid.join(', ')}] needs ${rank} positive integers`, {
        sizeGrid: grid,
      });
    window = sizes.map((size, a) => {
      const fixed = predictor.inputWindow[a];
      if (fixed === null || fixed === undefined) return roundUpToGrid(size, grid[a]!);
      if (size > fixed) {
        throw new RwsegError(
          'INVALID_INPUT',
          `${what} is larger than the model's fixed input window [${predictor.inputWindow.join(', ')}]: ` +
            `whole-image inference needs a model that takes any size; use sliding-window`,
          { shape: [...shape] },
        );
      }
      return fixed;
    });
  } else {
    throw new RwsegError('INVALID_OPTIONS', `unknown inference mode '${String(mode)}' (sliding-window, whole-image)`, {
      option: 'mode',
    });
  }
  const padding = sizes.map((size, a) => centeredPadding(size, window[a]!));
  const perAxis = padding.map((p, a) => (mode === 'whole-image' ? [0] : windowStarts(p.padded, window[a]!, overlap)));
  const starts: number[][] = [[]];
  for (const axisStarts of perAxis)
    starts.splice(0, starts.length, ...starts.flatMap((prefix) => axisStarts.map((s) => [...prefix, s])));
  return {
    mode,
    axes,
    sliceAxis,
    slices: sliceAxis < 0 ? 1 : shape[sliceAxis]!,
    window,
    before: padding.map((p) => p.before),
    starts,
  };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let a = shape.length - 2; a >= 0; a--) s[a] = s[a + 1]! * shape[a + 1]!;
  return s;
}

/**
 * Visits the runs of window voxels inside the image, row by row (a row: all model axes but the last fixed):
 * visit(windowOffset, imageVoxel, count, imageStep) for voxels windowOffset.. of the window, whose image voxels
 * are imageVoxel, imageVoxel + imageStep, ... Row-major order over the window.
 */
function forEachRow(
  shape: readonly number[],
  plan: WindowPlan,
  slice: number,
  start: readonly number[],
  visit: (windowOffset: number, imageVoxel: number, count: number, imageStep: number) => void,
): void {
  const imageStrides = strides(shape);
  const r = plan.window.length;
  const last = r - 1;
  const rowLength = plan.window[last]!;
  const rows = plan.window.reduce((a, b) => a * b, 1) / rowLength;
  const sliceOffset = plan.sliceAxis < 0 ? 0 : slice * imageStrides[plan.sliceAxis]!;
  const lastSize = shape[plan.axes[last]!]!;
  const firstX = Math.max(0, plan.before[last]! - start[last]!);
  const endX = Math.min(rowLength, lastSize + plan.before[last]! - start[last]!);
  if (endX <= firstX) return;
  const step = imageStrides[plan.axes[last]!]!;
  const coord = new Array<number>(r).fill(0);
  for (let row = 0; row < rows; row++) {
    let base = sliceOffset;
    let inside = true;
    for (let a = 0; a < last; a++) {
      const pos = start[a]! + coord[a]! - plan.before[a]!;
      if (pos < 0 || pos >= shape[plan.axes[a]!]!) inside = false;
      base += pos * imageStrides[plan.axes[a]!]!;
    }
    if (inside)
      visit(row * rowLength + firstX, base + (start[last]! + firstX - plan.before[last]!) * step, endX - firstX, step);
    for (let a = last - 1; a >= 0; a--) {
      if (++coord[a]! < plan.window[a]!) break;
      coord[a] = 0;
    }
  }
}

/**
 * Copies window `position` of `values` [...shape, channels] into `out` [...plan.window, channels] at window
 * `index` (out holds a batch of windows). Voxels outside the image (padding) are left as they are: zero in a
 * new array. The engine cuts its model inputs with it; validation cuts the label windows the same way.
 */
export function cropWindow(
  values: ArrayLike<number>,
  shape: readonly number[],
  channels: number,
  plan: WindowPlan,
  position: WindowPosition,
  out: { [i: number]: number },
  index = 0,
): void {
  const windowVoxels = plan.window.reduce((a, b) => a * b, 1);
  forEachRow(shape, plan, position.slice, position.start, (p, v, n, step) => {
    let dst = (index * windowVoxels + p) * channels;
    for (let i = 0, src = v * channels; i < n; i++, src += step * channels)
      for (let c = 0; c < channels; c++) out[dst++] = values[src + c]!;
  });
}

/** Class probabilities [...shape, K] for an image [...shape, C] (already normalized as the model was trained). */
export async function predictProbabilities(
  predictor: WindowPredictor,
  image: Float32Array,
  shape: readonly number[],
  channels: number,
  options: InferenceOptions = {},
): Promise<ProbabilityMap> {
  const plan = planWindows(predictor, shape, channels, options);
  const voxels = shape.reduce((a, b) => a * b, 1);
  if (image.length !== voxels * channels) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${describe(options.imageName, shape)} with ${channels} channel(s) ` +
        `needs ${voxels * channels} values, got ${image.length}`,
      {},
    );
  }
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH));
  const windowVoxels = plan.window.reduce((a, b) => a * b, 1);
  const weighted = plan.mode === 'sliding-window';
  const importance = weighted ? gaussianImportance(plan.window) : new Float32Array(0);
  const windows: WindowPosition[] = [];
  for (let slice = 0; slice < plan.slices; slice++) for (const start of plan.starts) windows.push({ slice, start });

  let classes = 0;
  let acc = new Float32Array(0);
  const weightSum = new Float32Array(weighted ? voxels : 0);
  for (let first = 0; first < windows.length; first += batchSize) {
    const group = windows.slice(first, first + batchSize);
    const input = new Float32Array(group.length * windowVoxels * channels);
    group.forEach((w, b) => cropWindow(image, shape, channels, plan, w, input, b));
    const out = await predictor.predict(input, group.length, plan.window);
    if (classes === 0) {
      classes = out.classes;
      acc = new Float32Array(voxels * classes);
    }
    if (out.classes !== classes || out.data.length !== group.length * windowVoxels * classes) {
      throw new Error(
        `the model returned ${out.data.length} values (${out.classes} classes) ` +
          `for ${group.length} window(s) of [${plan.window.join(', ')}]`,
      );
    }
    const probs = out.data;
    await options.onWindows?.({ plan, first, windows: group, probabilities: probs, classes });
    group.forEach((w, b) =>
      forEachRow(shape, plan, w.slice, w.start, (p, v, n, step) => {
        for (let i = 0; i < n; i++, v += step) {
          const src = (b * windowVoxels + p + i) * classes;
          const dst = v * classes;
          if (!weighted) {
            for (let k = 0; k < classes; k++) acc[dst + k] = probs[src + k]!;
            continue;
          }
          const weight = importance[p + i]!;
          weightSum[v] += weight;
          for (let k = 0; k < classes; k++) acc[dst + k] += weight * probs[src + k]!;
        }
      }),
    );
  }
  if (weighted)
    for (let v = 0; v < voxels; v++) for (let k = 0; k < classes; k++) acc[v * classes + k] /= weightSum[v]!;
  return { probabilities: acc, classes };
}
