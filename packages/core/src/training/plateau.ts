/**
 * When validation Dice has stopped improving: the rule a comparison at a real budget trains each run to (issue
 * #20), rather than a fixed step count that leaves some losses far from converged.
 *
 * Walking the validated epochs in order, an epoch "improves" when its mean Dice exceeds the best so far by more
 * than `minDelta`; the plateau is reached once `patience` validations in a row have not improved. It is a
 * function of the history alone, so a resumed run reaches the same decision as an uninterrupted one.
 */
import { z } from 'zod';

export const plateauSchema = z
  .object({
    /** Validations in a row without an improvement of more than minDelta that end the run. */
    patience: z.number().int().positive(),
    /** The least gain in mean validation Dice that counts as an improvement (default 0.001). */
    minDelta: z.number().nonnegative().default(0.001),
  })
  .strict();

export type PlateauRule = z.output<typeof plateauSchema>;

export interface PlateauState {
  /** 1-based epoch of the last improvement (undefined before any finite validation). */
  readonly lastImprovement?: number;
  /** Validations since then that did not improve. */
  readonly since: number;
  readonly reached: boolean;
}

export function plateauState(
  history: readonly { readonly epoch: number; readonly validation?: { readonly meanDice: number } }[],
  rule: PlateauRule,
): PlateauState {
  let reference = Number.NEGATIVE_INFINITY;
  let lastImprovement: number | undefined;
  let since = 0;
  for (const entry of history) {
    if (!entry.validation) continue;
    const dice = entry.validation.meanDice;
    if (Number.isFinite(dice) && dice > reference + rule.minDelta) {
      reference = dice;
      lastImprovement = entry.epoch;
      since = 0;
    } else {
      since++;
    }
  }
  return { ...(lastImprovement !== undefined ? { lastImprovement } : {}), since, reached: since >= rule.patience };
}
