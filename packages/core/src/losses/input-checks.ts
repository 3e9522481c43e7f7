/**
 * Checks on what a loss receives, so a wrong tensor fails with its shape or its first bad value named instead of
 * deep in TF.js or as a silent NaN. Shapes are always checked; values (finite probabilities in [0, 1], targets
 * 0/1 or in [0, 1] for soft labels, one-hot rows summing to 1) unless the loss's `validateInputs` is false.
 * Class-index targets ([B, ...spatial] or [B, ...spatial, 1] with K > 1) are converted to one-hot here, once.
 */
import { RwsegError } from '../errors.js';
import type { LossInput, MapRequest } from '../plugin-api.js';
import { tf } from '../tf.js';
import { describeOwner, type LossOwner } from './vocabulary.js';

const shapeText = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/**
 * 'one-hot': softmax probabilities, each pixel's target row sums to 1 (one class per pixel);
 * 'multi-label': sigmoid probabilities, each channel its own binary region, channels may overlap (nnU-Net
 * regions, BraTS whole tumour / tumour core / enhancing tumour) or all be 0.
 */
export type TargetLayout = 'one-hot' | 'multi-label';

export interface InputCheckOptions {
  /** false skips the value checks (they cost a few reductions and one small read-back per call). */
  readonly validateInputs?: boolean | undefined;
  readonly layout?: TargetLayout | undefined;
  /** Targets may hold any value in [0, 1] (soft labels), not only 0 and 1. */
  readonly softLabel?: boolean | undefined;
}

/** Slack for float32 rounding: softmax outputs and soft-label rows are exact to about 1e-7. */
const VALUE_TOLERANCE = 1e-6;
const ROW_TOLERANCE = 1e-3;

/**
 * Validates probs and target and returns the input with the target as one-hot [B, ...spatial, K]. Call it inside
 * the loss's tf.tidy: a class-index target is converted into a new tensor.
 */
export function checkProbsAndTarget(owner: LossOwner, input: LossInput, options: InputCheckOptions = {}): LossInput {
  const { probs } = input;
  if (probs.rank < 2) {
    throw new RwsegError('INVALID_INPUT', `${describeOwner(owner)}: probs must be [B, ...spatial, K], got shape ${shapeText(probs)}`, { ...owner });
  }
  const validate = options.validateInputs ?? true;
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
    (numClasses > 1 && target.rank === probs.rank && sameShape(target.shape.slice(0, -1), leading) && target.shape[target.rank - 1] === 1);
  if (!indices) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${describeOwner(owner)}: target shape ${shapeText(target)} differs from probs shape ${shapeText(probs)} (and is not class indices [${leading.join(', ')}] or [${leading.join(', ')}, 1])`,
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
        `${describeOwner(owner)}: target class index ${values[bad]} at ${position(bad, leading)} is not an integer in 0..${numClasses - 1}`,
        { ...owner, tensor: 'target', index: bad },
      );
    }
  }
  return tf.oneHot(tf.cast(flat, 'int32'), numClasses, 1, 0, 'float32');
}

/**
 * Counts the valid entries with a few TF.js reductions and reads back three numbers; only when one is short does
 * it read the whole tensor to name the first bad position. Comparisons are false for NaN, so NaN and Inf fail.
 */
function checkValues(owner: LossOwner, probs: tf.Tensor, target: tf.Tensor, layout: TargetLayout, softLabel: boolean): void {
  const numClasses = probs.shape[probs.rank - 1]!;
  const rows = probs.size / numClasses;
  const counts = tf.tidy(() => {
    const inUnit = (x: tf.Tensor): tf.Tensor =>
      tf.sum(tf.mul(tf.cast(tf.greaterEqual(x, -VALUE_TOLERANCE), 'float32'), tf.cast(tf.lessEqual(x, 1 + VALUE_TOLERANCE), 'float32')));
    const goodProbs = inUnit(probs);
    const goodTarget = softLabel ? inUnit(target) : tf.sum(tf.add(tf.cast(tf.equal(target, 0), 'float32'), tf.cast(tf.equal(target, 1), 'float32')));
    const goodRows =
      layout === 'one-hot' ? tf.sum(tf.cast(tf.lessEqual(tf.abs(tf.sub(tf.sum(target, -1), 1)), ROW_TOLERANCE), 'float32')) : tf.scalar(rows);
    return tf.stack([goodProbs, goodTarget, goodRows]);
  });
  const [okProbs, okTarget, okRows] = counts.dataSync();
  counts.dispose();
  if (okProbs !== probs.size) {
    const values = probs.dataSync();
    const i = values.findIndex((v) => !(v >= -VALUE_TOLERANCE && v <= 1 + VALUE_TOLERANCE));
    const what = Number.isFinite(values[i]) ? 'outside [0, 1]' : 'not finite';
    throw valueError(owner, 'probs', `probs[${position(i, probs.shape)}] = ${values[i]} is ${what}`, i);
  }
  if (okTarget !== target.size) {
    const values = target.dataSync();
    const ok = softLabel ? (v: number) => v >= -VALUE_TOLERANCE && v <= 1 + VALUE_TOLERANCE : (v: number) => v === 0 || v === 1;
    const i = values.findIndex((v) => !ok(v));
    const hint = softLabel ? 'outside [0, 1]' : 'not 0 or 1 (soft labels need softLabel: true)';
    throw valueError(owner, 'target', `target[${position(i, target.shape)}] = ${values[i]} is ${hint}`, i);
  }
  if (okRows !== rows) {
    const values = target.dataSync();
    let row = 0;
    let sum = 0;
    for (; row < rows; row++) {
      sum = 0;
      for (let k = 0; k < numClasses; k++) sum += values[row * numClasses + k]!;
      if (!(Math.abs(sum - 1) <= ROW_TOLERANCE)) break;
    }
    const where = position(row, probs.shape.slice(0, -1));
    throw valueError(
      owner,
      'target',
      `the target row at [${where}] sums to ${sum}, not 1: a one-hot target has one class per pixel (a label >= K upstream gives 0; multi-label targets need sigmoid: true)`,
      row * numClasses,
    );
  }
}

function valueError(owner: LossOwner, tensor: string, what: string, index: number): RwsegError {
  return new RwsegError('INVALID_INPUT', `${describeOwner(owner)}: ${what} (validateInputs: false skips this check)`, { ...owner, tensor, index });
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
    throw new RwsegError('INVALID_INPUT', `${describeOwner(owner)}: map '${request.map}' has shape ${shapeText(map)} but probs has ${shapeText(input.probs)}`, {
      ...owner,
      map: request.key,
    });
  }
  return map;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
