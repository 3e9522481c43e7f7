/**
 * Checks on what a loss receives, so a wrong tensor fails with its shape or its first bad value named instead of
 * deep in TF.js or as a silent NaN. Shapes are always checked; values (finite probabilities in [0, 1], targets
 * 0/1 or in [0, 1] for soft labels, one-hot rows summing to 1) unless the loss's `validateInputs` is false.
 * Class-index targets ([B, ...spatial] or [B, ...spatial, 1] with K > 1) are converted to one-hot here, once.
 */
import { RwsegError } from '../errors.js';
import type { LossInput, MapRequest } from '../plugins/api.js';
import { tf } from '../tf.js';
import { deviceCountsMatch, ROW_TOLERANCE, VALUE_TOLERANCE } from './device-counts.js';
import { describeOwner, type LossOwner } from './vocabulary.js';

const shapeText = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/** Backends that cannot read a tensor back synchronously in Node. */
const NO_SYNC_READBACK: ReadonlySet<string> = new Set(['webgpu']);

/**
 * 'one-hot': softmax probabilities, each pixel's target row sums to 1 (one class per pixel);
 * 'multi-label': sigmoid probabilities, each channel its own binary region, channels may overlap (nnU-Net
 * regions, BraTS whole tumour / tumour core / enhancing tumour) or all be 0.
 */
export type TargetLayout = 'one-hot' | 'multi-label';

/** The layout a loss's `sigmoid` option selects. */
export const targetLayoutOf = (sigmoid: boolean): TargetLayout => (sigmoid ? 'multi-label' : 'one-hot');

export interface InputCheckOptions {
  /** false skips the value checks (one pass over the values on host backends, a small read-back on GPU ones). */
  readonly validateInputs?: boolean | undefined;
  readonly layout?: TargetLayout | undefined;
  /** Targets may hold any value in [0, 1] (soft labels), not only 0 and 1. */
  readonly softLabel?: boolean | undefined;
}

/**
 * Validates probs and target and returns the input with the target as one-hot [B, ...spatial, K]. Call it inside
 * the loss's tf.tidy: a class-index target is converted into a new tensor.
 */
export function checkProbsAndTarget(owner: LossOwner, input: LossInput, options: InputCheckOptions = {}): LossInput {
  const { probs } = input;
  if (probs.rank < 2) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${describeOwner(owner)}: probs must be [B, ...spatial, K], got shape ${shapeText(probs)}`,
      { ...owner },
    );
  }
  // TF.js's webgpu backend reads back synchronously through OffscreenCanvas, which Node does not have, and a loss
  // runs synchronously inside the gradient: there the value checks are skipped (the trainer's NaN guard remains).
  const validate = (options.validateInputs ?? true) && !NO_SYNC_READBACK.has(tf.getBackend());
  const target = oneHotTarget(owner, probs, input.target, validate);
  if (validate) checkValues(owner, probs, target, options.layout ?? 'one-hot', options.softLabel ?? false);
  return target === input.target ? input : { ...input, target };
}

/** The target as one-hot: as given when shaped like probs, converted from class indices otherwise. */
function oneHotTarget(owner: LossOwner, probs: tf.Tensor, target: tf.Tensor, validate: boolean): tf.Tensor {
  if (sameShape(probs.shape, target.shape)) return target;
  const numClasses = probs.shape[probs.rank - 1]!;
  const leading = probs.shape.slice(0, -1);
  const indices =
    (target.rank === probs.rank - 1 && sameShape(target.shape, leading)) ||
    (numClasses > 1 &&
      target.rank === probs.rank &&
      sameShape(target.shape.slice(0, -1), leading) &&
      target.shape[target.rank - 1] === 1);
  if (!indices) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${describeOwner(owner)}: target shape ${shapeText(target)} differs from probs shape ${shapeText(probs)}` +
        ` (and is not class indices [${leading.join(', ')}] or [${leading.join(', ')}, 1])`,
      { ...owner },
    );
  }
  const flat = tf.reshape(target, leading);
  if (validate) {
    const values = flat.dataSync();
    const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= numClasses);
    if (bad >= 0) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${describeOwner(owner)}: target class index ${values[bad]} at ${position(bad, leading)}` +
          ` is not an integer in 0..${numClasses - 1}`,
        { ...owner, tensor: 'target', index: bad },
      );
    }
  }
  return tf.oneHot(tf.cast(flat, 'int32'), numClasses, 1, 0, 'float32');
}

/** Backends whose tensors live in this process's memory: reading them back costs a copy at most. */
const HOST_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

/**
 * On a host backend, one pass over the values in JS. On a GPU backend, a few reductions on the device count the
 * valid entries and only three numbers are read back; the values are read and scanned only when one count is
 * short, to name the first bad position. Comparisons are false for NaN, so NaN and Inf fail.
 */
function checkValues(
  owner: LossOwner,
  probs: tf.Tensor,
  target: tf.Tensor,
  layout: TargetLayout,
  softLabel: boolean,
): void {
  if (HOST_BACKENDS.has(tf.getBackend()) || !deviceCountsMatch(probs, target, layout, softLabel)) {
    scanValues(owner, probs.dataSync(), target.dataSync(), probs.shape, layout, softLabel);
  }
}

const inUnitInterval = (v: number): boolean => v >= -VALUE_TOLERANCE && v <= 1 + VALUE_TOLERANCE;
const isBinary = (v: number): boolean => v === 0 || v === 1;

/** Throws at the first bad probability, then target value, then one-hot row. */
function scanValues(
  owner: LossOwner,
  probs: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  layout: TargetLayout,
  softLabel: boolean,
): void {
  for (let i = 0; i < probs.length; i++) {
    const v = probs[i]!;
    if (!inUnitInterval(v)) {
      throw valueError(
        owner,
        'probs',
        `probs[${position(i, shape)}] = ${v} is ${Number.isFinite(v) ? 'outside [0, 1]' : 'not finite'}`,
        i,
      );
    }
  }
  const targetOk = softLabel ? inUnitInterval : isBinary;
  for (let i = 0; i < target.length; i++) {
    const v = target[i]!;
    if (!targetOk(v)) {
      const hint = softLabel ? 'outside [0, 1]' : 'not 0 or 1 (soft labels need softLabel: true)';
      throw valueError(owner, 'target', `target[${position(i, shape)}] = ${v} is ${hint}`, i);
    }
  }
  if (layout !== 'one-hot') return;
  const numClasses = shape[shape.length - 1]!;
  for (let row = 0; row < target.length / numClasses; row++) {
    let sum = 0;
    for (let k = 0; k < numClasses; k++) sum += target[row * numClasses + k]!;
    if (!(Math.abs(sum - 1) <= ROW_TOLERANCE)) {
      throw valueError(
        owner,
        'target',
        `the target row at [${position(row, shape.slice(0, -1))}] sums to ${sum}, not 1: a one-hot target has one` +
          ' class per pixel (a label >= K upstream gives 0; multi-label targets need sigmoid: true)',
        row * numClasses,
      );
    }
  }
}

function valueError(owner: LossOwner, tensor: string, what: string, index: number): RwsegError {
  return new RwsegError('INVALID_INPUT', `${describeOwner(owner)}: ${what} (validateInputs: false skips this check)`, {
    ...owner,
    tensor,
    index,
  });
}

/** "b, i, j, k" of a flat row-major index. */
function position(index: number, shape: readonly number[]): string {
  const coords: number[] = [];
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    coords.unshift(index % shape[axis]!);
    index = Math.floor(index / shape[axis]!);
  }
  return coords.join(', ');
}

/** The map a loss requested, checked to be present and shaped like probs. */
export function requiredMap(owner: LossOwner, input: LossInput, request: MapRequest): tf.Tensor {
  const map = input.maps[request.key];
  if (map === undefined) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${describeOwner(owner)}: map '${request.map}' (key ${request.key}) is missing from the input maps; present: ${Object.keys(input.maps).join(', ') || '(none)'}`,
      { ...owner, map: request.key },
    );
  }
  if (!sameShape(map.shape, input.probs.shape)) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${describeOwner(owner)}: map '${request.map}' has shape ${shapeText(map)} but probs has ${shapeText(input.probs)}`,
      {
        ...owner,
        map: request.key,
      },
    );
  }
  return map;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
