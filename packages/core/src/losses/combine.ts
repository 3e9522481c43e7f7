/**
 * The losses that loss configurations (loss-config.ts: YAML/JSON data) build: a single registered loss, or a
 * weighted combination whose weights may follow a schedule over epochs. The paper's Equal combination
 * is `weights: equal` (A + B) and its Gradual one `weights: gradual` (alpha(e) A + (1 - alpha(e)) B).
 */
import { isRwsegError, RwsegError } from '../errors.js';
import type { Loss, LossFactoryTools, LossInput, MapRequest } from '../plugins/api.js';
import { tf } from '../tf.js';
import { parseLossConfig, type CombineWeights, type LossConfig } from './loss-config.js';
import { configError, PAPER_GRADUAL, scheduleAt, type ScheduleSpec } from './schedules.js';
import { weightedSum } from './weighted-sum.js';

/** A combination, with the weights it applies at an epoch (for logs and plots). */
export interface CombinedLoss extends Loss {
  readonly parts: readonly Loss[];
  weightsAt(epoch: number): number[];
}

/**
 * Builds the loss a configuration describes. `registry` is a PluginRegistry (or a loss factory's tools).
 * The result's requiredMaps is the union of its parts' maps, each key once.
 */
export function buildLoss(registry: Pick<LossFactoryTools, 'createLoss'>, config: unknown, path = 'loss'): Loss {
  return build(registry, parseLossConfig(config, path), path);
}

function build(registry: Pick<LossFactoryTools, 'createLoss'>, config: LossConfig, path: string): Loss {
  if (typeof config === 'string') return createAt(registry, config, undefined, path);
  if ('loss' in config) return createAt(registry, config.loss, config.options, path);
  const parts = config.combine.map((part, i) => build(registry, part, `${path}.combine[${i}]`));
  return combineLosses(parts, config.weights ?? 'equal', { name: config.name, path });
}

/** Weighted sum of scalar losses; weights fixed or scheduled by epoch. */
export function combineLosses(
  parts: readonly Loss[],
  weights: CombineWeights = 'equal',
  options: { name?: string | undefined; path?: string } = {},
): CombinedLoss {
  const path = options.path ?? 'loss';
  const schedules: ScheduleSpec[] =
    weights === 'equal'
      ? parts.map(() => 1)
      : weights === 'gradual'
        ? [PAPER_GRADUAL, { kind: 'one-minus', of: PAPER_GRADUAL }]
        : weights;
  if (schedules.length !== parts.length) {
    throw configError(`${path}.weights`, `has ${schedules.length} entries but combine has ${parts.length} losses`);
  }
  const weightsAt = (epoch: number): number[] => schedules.map((s) => scheduleAt(s, epoch));
  return {
    name: options.name ?? `combine(${parts.map((p) => p.name).join(', ')})`,
    parts,
    requiredMaps: uniqueMaps(parts.flatMap((p) => p.requiredMaps)),
    weightsAt,
    compute(input: LossInput): tf.Tensor {
      const w = weightsAt(input.context.epoch);
      return tf.tidy(() =>
        weightedSum(
          w,
          (i) => parts[i]!.compute(input),
          (i, shape) =>
            configError(
              `${path}.combine[${i}]`,
              `loss '${parts[i]!.name}' returned shape [${shape.join(', ')}]; combinations need scalars (reduction mean or sum)`,
            ),
        ),
      );
    },
  };
}

/** De-duplicates map requests by key, keeping the first. */
export function uniqueMaps(requests: readonly MapRequest[]): MapRequest[] {
  const byKey = new Map<string, MapRequest>();
  for (const r of requests) if (!byKey.has(r.key)) byKey.set(r.key, r);
  return [...byKey.values()];
}

function createAt(
  registry: Pick<LossFactoryTools, 'createLoss'>,
  name: string,
  options: Record<string, unknown> | undefined,
  path: string,
): Loss {
  try {
    return registry.createLoss(name, options);
  } catch (error) {
    if (!isRwsegError(error)) throw error;
    throw new RwsegError(
      error.code,
      `${path}: ${error.message}`,
      { ...error.details, configPath: path },
      { cause: error },
    );
  }
}
