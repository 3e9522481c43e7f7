/**
 * Loss configurations as data (YAML/JSON), validated without TF.js: a single registered loss, or a weighted
 * combination of configurations whose weights may follow a schedule over epochs. combine.ts builds the losses;
 * this half is what a pipeline's schema (and so the model artifact's reader) needs.
 */
import { z } from 'zod';
import { configError, parseSchedule, zodConfigError, type ScheduleSpec } from './schedules.js';

export type LossConfig =
  | string
  | { loss: string; options?: Record<string, unknown> | undefined }
  | { combine: LossConfig[]; weights?: CombineWeights | undefined; name?: string | undefined };

/** 'equal': every part weighs 1; 'gradual' (two parts): the paper's alpha(e), 1 - alpha(e); or one per part. */
export type CombineWeights = 'equal' | 'gradual' | ScheduleSpec[];

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

function parseWeights(raw: unknown, path: string): CombineWeights | undefined {
  if (raw === undefined || raw === 'equal' || raw === 'gradual') return raw;
  if (!Array.isArray(raw))
    throw configError(
      path,
      `expected 'equal', 'gradual' or one number or schedule per loss, got ${JSON.stringify(raw)}`,
    );
  return raw.map((item, i) => parseSchedule(item, `${path}[${i}]`));
}
