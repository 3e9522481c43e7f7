/**
 * Shared by every loss that weighs probabilities by a precomputed map (Region-wise, Boundary): the request of
 * the map with errors that name the loss option, the per-(sample, class) term mean_i p * z, and the loss itself.
 */
import { isRwsegError, RwsegError } from '../errors.js';
import type { Loss, LossFactoryTools, MapRequest } from '../plugins/api.js';
import { tf } from '../tf.js';
import { checkProbsAndTarget, requiredMap, type InputCheckOptions } from './input-checks.js';
import {
  describeOwner,
  reduceClassTerms,
  spatialMean,
  type ClassReductionOptions,
  type LossOwner,
} from './vocabulary.js';

/**
 * Asks the registry for a map, re-labeling its errors with the loss option that named the map (`mapOption`,
 * when the user chose it) or carried its options (`mapOptions`), so a user sees which line of their config to fix.
 */
export function requestMapOption(
  owner: LossOwner,
  tools: LossFactoryTools,
  map: string,
  mapOptions: Record<string, unknown> | undefined,
  mapOption?: string,
): MapRequest {
  try {
    return tools.requestMap(map, mapOptions);
  } catch (error) {
    if (!isRwsegError(error)) throw error;
    const unknown = error.code === 'UNKNOWN_NAME';
    const option = unknown ? mapOption : 'mapOptions';
    const where = option === undefined ? `needs map '${map}', which no loaded plugin provides` : `option '${option}'`;
    throw new RwsegError(
      error.code,
      `${describeOwner(owner)}: ${where}: ${error.message}`,
      { ...error.details, ...owner, option },
      { cause: error },
    );
  }
}

/**
 * Region-wise terms [B, K]: mean over pixels of p * z (Valverde & Tohka 2023). Their mean over B and K is the
 * authors' normalization by B*K*N. The map is data
 * (computed from labels), so gradients are taken with respect to probs only.
 */
export function mapWeightedTerms(probs: tf.Tensor, map: tf.Tensor): tf.Tensor {
  return tf.tidy(() => spatialMean(tf.mul(probs, map)));
}

/**
 * The region-wise loss over one map: mean over samples and the selected classes of mapWeightedTerms. Region-wise
 * plugins (and Boundary, which is this loss over the signed distance map) build their losses with it.
 */
export function mapWeightedLoss(
  owner: LossOwner,
  tools: LossFactoryTools,
  map: string,
  mapOptions: Record<string, unknown> | undefined,
  options: ClassReductionOptions & InputCheckOptions,
  mapOption?: string,
): Loss {
  const request = requestMapOption(owner, tools, map, mapOptions, mapOption);
  return {
    name: owner.loss,
    requiredMaps: [request],
    compute: (input) =>
      tf.tidy(() => {
        const { probs } = checkProbsAndTarget(owner, input, options);
        return reduceClassTerms(owner, mapWeightedTerms(probs, requiredMap(owner, input, request)), options, 'mean');
      }),
  };
}
