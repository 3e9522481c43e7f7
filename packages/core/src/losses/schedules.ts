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
  | { kind: 'linear'; start: number; end: number; epochs: number; floor?: number | undefined; shape?: 'linear' | 'cosine' | undefined }
  /** The paper's alpha(e): linear 1 -> 0 over 100 epochs with floor 0.01. */
  | { kind: 'gradual' }
  /** 1 - s(e): the second weight of a Gradual pair. */
  | { kind: 'one-minus'; of: ScheduleSpec };

const constantSchema = z.object({ kind: z.literal('constant'), value: z.number() }).strict();
const stepSchema = z
  .object({ kind: z.literal('step'), values: z.array(z.number()).min(1), milestones: z.array(z.number().int().nonnegative()) })
  .strict()
  .refine((s) => s.values.length === s.milestones.length + 1, { message: 'step schedule needs one more value than milestones', path: ['values'] })
  .refine((s) => s.milestones.every((m, i) => i === 0 || m > s.milestones[i - 1]!), { message: 'milestones must increase', path: ['milestones'] });
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

export const scheduleSchema: z.ZodType<ScheduleSpec> = z.union([
  z.number(),
  constantSchema,
  stepSchema,
  linearSchema,
  gradualSchema,
  z.object({ kind: z.literal('one-minus'), get of() { return scheduleSchema; } }).strict(),
]);

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
