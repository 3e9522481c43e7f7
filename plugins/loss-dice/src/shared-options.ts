/** Options the overlap losses share, named as MONAI names them (in camelCase). */
import { sigmoidOption, z } from '@rwseg/core/plugin';

export const PLUGIN = '@rwseg/plugin-loss-dice';

/** MONAI's default smoothing: a class absent from target and prediction scores 1e-5 / 1e-5 = 1 (loss 0). */
export const MONAI_SMOOTHING = { smoothNr: 1e-5, smoothDr: 1e-5 } as const;

export const overlapOptions = {
  batch: z
    .boolean()
    .default(false)
    .describe("pool the batch per class before the ratio (reduction none gives [1, K'])"),
  softLabel: z
    .boolean()
    .default(false)
    .describe(
      'targets in [0, 1] (soft labels): the semimetric form, 0 exactly where probs = target (Wang et al. 2023)',
    ),
  sigmoid: sigmoidOption,
};

/** smoothNr / smoothDr defaulting to MONAI's 1e-5 (Tversky, Generalized Dice). */
export const monaiSmoothingOptions = {
  smoothNr: z.number().nonnegative().default(MONAI_SMOOTHING.smoothNr).describe('added to the numerator'),
  smoothDr: z.number().nonnegative().default(MONAI_SMOOTHING.smoothDr).describe('added to the denominator'),
};
