/**
 * Learning-rate schedules, evaluated per epoch (0-based) over `epochs` epochs. 'poly' is nnU-Net's
 * lr0 * (1 - epoch / epochs)^0.9 (Isensee et al. 2021).
 */
import { z } from 'zod';

export const lrScheduleSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('poly'), power: z.number().positive().default(0.9) }).strict(),
  z.object({ name: z.literal('constant') }).strict(),
  z
    .object({ name: z.literal('step'), every: z.number().int().positive(), gamma: z.number().positive().default(0.1) })
    .strict(),
  z.object({ name: z.literal('cosine'), minLr: z.number().nonnegative().default(0) }).strict(),
]);

export type LrSchedule = z.output<typeof lrScheduleSchema>;

export function learningRateAt(schedule: LrSchedule, lr0: number, epoch: number, epochs: number): number {
  const progress = Math.min(Math.max(epoch / epochs, 0), 1);
  switch (schedule.name) {
    case 'poly':
      return lr0 * (1 - progress) ** schedule.power;
    case 'constant':
      return lr0;
    case 'step':
      return lr0 * schedule.gamma ** Math.floor(epoch / schedule.every);
    case 'cosine':
      return schedule.minLr + 0.5 * (lr0 - schedule.minLr) * (1 + Math.cos(Math.PI * progress));
  }
}
