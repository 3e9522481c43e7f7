/**
 * Loss configurations as data (YAML/JSON) and the losses they build: a single registered loss, or a weighted
 * combination of configurations whose weights may follow a schedule over epochs. The paper's Equal combination
 * is `weights: equal` (A + B) and its Gradual one `weights: gradual` (alpha(e) A + (1 - alpha(e)) B).
 */
import { z } from 'zod';
import { isRwsegError, RwsegError } from '../errors.js';
import type { Loss, LossFactoryTools, LossInput, MapRequest } from '../plugins/api.js';
import { tf } from '../tf.js';
import { weightedSum } from './weighted-sum.js';
import {
  configError,
  PAPER_GRADUAL,
  parseSchedule,
  scheduleAt,
  zodConfigError,
  type ScheduleSpec,
} from './schedules.js';

export type LossConfig =
  | string
  | { loss: string; options?: Record<string, unknown> | undefined }
  | { combine: LossConfig[]; weights?: CombineWeights | undefined; name?: string | undefined };

/** 'equal': every part weighs 1; 'gradual' (two parts): the paper's alpha(e), 1 - alpha(e); or one per part. */
export type CombineWeights = 'equal' | 'gradual' | ScheduleSpec[];

/** A combination, with the weights it applies at an epoch (for logs and plots). */
export interface CombinedLoss extends Loss {
  readonly parts: readonly Loss[];
  weightsAt(epoch: number): number[];
}

const leafSchema = z
  .object({ loss: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() })
  .strict();
const combineSchema = z
  .object({
    combine: z.array(z.unknown()).min(1),
    weights: z.unknown().optional(),
    name: z.string().min(1).optional(),
  })
  .strict();

/**
 * Validates a loss configuration, naming the path of the first problem (e.g. `loss.combine[1].weights[0]`).
 * Loss names and options are checked later by `buildLoss`, against the registry.
 */
export function parseLossConfig(raw: unknown, path = 'loss'): LossConfig {
  if (typeof raw === 'string') {
    if (raw.length === 0) throw configError(path, 'a loss name must not be empty');
    return raw;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw configError(
      path,
      `expected a loss name, { loss: name, options? } or { combine: [...], weights? }, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`,
    );
  }
  if ('combine' in raw) {
    const parsed = combineSchema.safeParse(raw);
    if (!parsed.success) throw zodConfigError(path, parsed.error);
    const { combine, name } = parsed.data;
    const parts = combine.map((part, i) => parseLossConfig(part, `${path}.combine[${i}]`));
    const weights = parseWeights(parsed.data.weights, `${path}.weights`);
    if (weights === 'gradual' && parts.length !== 2) {
      throw configError(
        `${path}.weights`,
        `'gradual' weighs exactly two losses (alpha(e) A + (1 - alpha(e)) B), but combine has ${parts.length}`,
      );
    }
    if (Array.isArray(weights) && weights.length !== parts.length) {
      throw configError(`${path}.weights`, `has ${weights.length} entries but combine has ${parts.length} losses`);
    }
    return { combine: parts, ...(weights === undefined ? {} : { weights }), ...(name === undefined ? {} : { name }) };
  }
  if ('loss' in raw) {
    const parsed = leafSchema.safeParse(raw);
    if (!parsed.success) throw zodConfigError(path, parsed.error);
    return parsed.data;
  }
  throw configError(
    path,
    `expected a 'loss' or a 'combine' key, got keys ${
      Object.keys(raw)
        .map((k) => `'${k}'`)
        .join(', ') || '(none)'
    }`,
  );
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

function parseWeights(raw: unknown, path: string): CombineWeights | undefined {
  if (raw === undefined || raw === 'equal' || raw === 'gradual') return raw;
  if (!Array.isArray(raw))
    throw configError(
      path,
      `expected 'equal', 'gradual' or one number or schedule per loss, got ${JSON.stringify(raw)}`,
    );
  return raw.map((item, i) => parseSchedule(item, `${path}[${i}]`));
}
