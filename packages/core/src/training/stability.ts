/**
 * The stability figure of a run, after the paper's observation that some losses make validation Dice oscillate
 * between epochs. Over the validation curve (mean foreground Dice per evaluation):
 * - warm-up: the first 20% of evaluations are ignored (everything jumps while a net starts learning);
 * - drops: consecutive evaluations after warm-up where Dice falls by more than `threshold` (default 0.01);
 *   reported as their count, the largest drop and the sum of drops;
 * - final spread: standard deviation and range (max - min) of Dice over the last 20% of evaluations.
 * A stable run has few, shallow drops and a small final spread.
 */
import { nanSummary } from './validation.js';

export interface StabilityFigure {
  readonly evaluations: number;
  readonly warmupEvaluations: number;
  readonly drops: number;
  readonly largestDrop: number;
  readonly totalDrop: number;
  readonly finalSd: number;
  readonly finalRange: number;
  readonly finalMean: number;
}

export function stabilityFigure(
  dice: readonly number[],
  options: { warmupFraction?: number; finalFraction?: number; threshold?: number } = {},
): StabilityFigure {
  const warmupFraction = options.warmupFraction ?? 0.2;
  const finalFraction = options.finalFraction ?? 0.2;
  const threshold = options.threshold ?? 0.01;
  const values = dice.filter(Number.isFinite);
  const warmupEvaluations = Math.floor(values.length * warmupFraction);
  let drops = 0;
  let largestDrop = 0;
  let totalDrop = 0;
  for (let i = Math.max(1, warmupEvaluations); i < values.length; i++) {
    const drop = values[i - 1]! - values[i]!;
    if (drop > threshold) {
      drops++;
      totalDrop += drop;
      largestDrop = Math.max(largestDrop, drop);
    }
  }
  const final = values.slice(values.length - Math.max(1, Math.ceil(values.length * finalFraction)));
  const summary = nanSummary(final);
  return {
    evaluations: values.length,
    warmupEvaluations,
    drops,
    largestDrop,
    totalDrop,
    finalSd: summary.sd,
    finalRange: final.length ? Math.max(...final) - Math.min(...final) : Number.NaN,
    finalMean: summary.mean,
  };
}
