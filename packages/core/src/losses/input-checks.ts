/** Checks on what a loss receives, so a wrong tensor fails with its shape named instead of deep in TF.js. */
import { RwsegError } from '../errors.js';
import type { LossInput, MapRequest } from '../plugin-api.js';
import type { tf } from '../tf.js';
import { describeOwner, type LossOwner } from './vocabulary.js';

const shapeText = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/** probs and target must both be channels-last [B, ...spatial, K] with the same shape. */
export function checkProbsAndTarget(owner: LossOwner, input: LossInput): void {
  const { probs, target } = input;
  if (probs.rank < 2) {
    throw new RwsegError('INVALID_INPUT', `${describeOwner(owner)}: probs must be [B, ...spatial, K], got shape ${shapeText(probs)}`, { ...owner });
  }
  if (!sameShape(probs.shape, target.shape)) {
    throw new RwsegError('INVALID_INPUT', `${describeOwner(owner)}: target shape ${shapeText(target)} differs from probs shape ${shapeText(probs)}`, { ...owner });
  }
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
