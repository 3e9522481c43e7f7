/**
 * The overlap losses: soft Dice / Jaccard (Milletari 2016), Generalized Dice (Sudre 2017), Tversky (Salehi 2017)
 * and Focal Tversky (Abraham & Khan 2019). One package because they are one family: each is a ratio of the same
 * per-class statistics TP, FP = P - TP, FN = Y - TP (overlap.ts); Tversky with alpha = beta = 0.5 is Dice, and
 * Generalized Dice is Dice with the classes weighted inside the ratio. Options follow MONAI's names in camelCase.
 */
import { definePlugin, PLUGIN_API_VERSION } from '@rwseg/core/plugin';
import { dice } from './dice.js';
import { generalizedDice } from './generalized-dice.js';
import { PLUGIN } from './shared-options.js';
import { focalTversky, tversky } from './tversky.js';

export { DICE_PRESETS, dice, diceTerms, type DiceOptions, type DiceSmoothing } from './dice.js';
export {
  generalizedDice,
  generalizedDiceTerms,
  generalizedDiceWeights,
  type GeneralizedDiceOptions,
  type GeneralizedDiceWeighting,
} from './generalized-dice.js';
export { overlapStatistics, safeRatio, type Overlap, type OverlapOptions } from './overlap.js';
export { MONAI_SMOOTHING } from './shared-options.js';
export { focalTversky, tversky, tverskyIndex, type TverskyOptions } from './tversky.js';

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: 'Overlap losses: Dice / Jaccard, Generalized Dice, Tversky, Focal Tversky',
  losses: [dice, generalizedDice, tversky, focalTversky],
});
