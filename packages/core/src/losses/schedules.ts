/**
 * Weight schedules for loss combinations, as data a YAML file can hold. The paper's Gradual schedule is
 * alpha(e) = max((100 - e) / 100, 0.01) (Valverde & Tohka 2023), e the 0-based epoch; `linear` generalises it.
 */
import { z } from 'zod';
import { RwsegError } from '../errors.js';

export type ScheduleSpec =
  | number
  | { kind: 'constant'; value: number }
  /** values[j] from epoch milestones[j-1] on (values[0] before the first milestone). */
  | { kind: 'step'; values: number[]; milestones: number[] }
  /** start -> end over `epochs` epochs along `shape`, then end; never below `floor` when given. */
  | {
      kind: 'linear';
      start: number;
      end: number;
      epochs: number;
      floor?: number | undefined;
      shape?: 'linear' | 'cosine' | undefined;
    }
  /** The paper's alpha(e): linear 1 -> 0 over 100 epochs with floor 0.01. */
  | { kind: 'gradual' }
  /** 1 - s(e): the second weight of a Gradual pair. */
  | { kind: 'one-minus'; of: ScheduleSpec };

const constantSchema = z.object({ kind: z.literal('constant'), value: z.number() }).strict();
const stepSchema = z
  .object({
    kind: z.literal('step'),
    values: z.array(z.number()).min(1),
    milestones: z.array(z.number().int().nonnegative()),
  })
  .strict()
  .refine((s) => s.values.length === s.milestones.length + 1, {
    message: 'step schedule needs one more value than milestones',
    path: ['values'],
  })
  .refine((s) => s.milestones.every((m, i) => i === 0 || m > s.milestones[i - 1]!), {
    message: 'milestones must increase',
    path: ['milestones'],
  });
const linearSchema = z
  .object({
    kind: z.literal('linear'),
    start: z.number(),
    end: z.number(),
    epochs: z.number().positive(),
    floor: z.number().optional(),
    shape: z.enum(['linear', 'cosine']).optional(),
  })
  .strict();
const gradualSchema = z.object({ kind: z.literal('gradual') }).strict();

const KIND_SCHEMAS = {
  constant: constantSchema,
  step: stepSchema,
  linear: linearSchema,
  gradual: gradualSchema,
  'one-minus': z.object({ kind: z.literal('one-minus'), of: z.unknown() }).strict(),
} as const;

/**
 * Validates a schedule written in a configuration, naming the path of the first problem
 * (`loss.weights[1].epochs: ...`).
 */
export function parseSchedule(raw: unknown, path: string): ScheduleSpec {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw configError(path, `a constant weight must be finite, got ${raw}`);
    return raw;
  }
  const kind =
    raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as { kind?: unknown }).kind : undefined;
  if (typeof kind !== 'string' || !(kind in KIND_SCHEMAS)) {
    throw configError(
      path,
      `expected a number or a schedule { kind: ${Object.keys(KIND_SCHEMAS).join(' | ')}, ... }, got ${JSON.stringify(raw)}`,
    );
  }
  const parsed = KIND_SCHEMAS[kind as keyof typeof KIND_SCHEMAS].safeParse(raw);
  if (!parsed.success) throw zodConfigError(path, parsed.error);
  if (kind === 'one-minus') return { kind: 'one-minus', of: parseSchedule((raw as { of: unknown }).of, `${path}.of`) };
  return parsed.data as ScheduleSpec;
}

/** An INVALID_CONFIG error whose message starts with the configuration path. */
export function configError(path: string, message: string): RwsegError {
  return new RwsegError('INVALID_CONFIG', `${path}: ${message}`, { configPath: path });
}

/** The first zod issue as a config error, its path appended to `path` (`a.b[2].c`). */
export function zodConfigError(path: string, error: z.ZodError): RwsegError {
  const issue = error.issues[0]!;
  const where = issue.path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    path,
  );
  const unknownKeys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.map((k) => `'${k}'`).join(', ')})` : '';
  return configError(where, `${issue.message}${unknownKeys}`);
}

/** The paper's Gradual alpha as a linear schedule. */
export const PAPER_GRADUAL: ScheduleSpec = { kind: 'linear', start: 1, end: 0, epochs: 100, floor: 0.01 };

/** The schedule's value at a 0-based epoch. */
export function scheduleAt(spec: ScheduleSpec, epoch: number): number {
  if (!Number.isFinite(epoch) || epoch < 0) {
    throw new RwsegError('INVALID_INPUT', `schedules take a 0-based epoch >= 0, got ${epoch}`, { epoch });
  }
  if (typeof spec === 'number') return spec;
  switch (spec.kind) {
    case 'constant':
      return spec.value;
    case 'step':
      return spec.values[spec.milestones.filter((m) => epoch >= m).length]!;
    case 'linear': {
      const t = Math.min(epoch / spec.epochs, 1);
      const fraction = spec.shape === 'cosine' ? (1 - Math.cos(Math.PI * t)) / 2 : t;
      const value = spec.start + (spec.end - spec.start) * fraction;
      return spec.floor === undefined ? value : Math.max(value, spec.floor);
    }
    case 'gradual':
      return scheduleAt(PAPER_GRADUAL, epoch);
    case 'one-minus':
      return 1 - scheduleAt(spec.of, epoch);
  }
}
