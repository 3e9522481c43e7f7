/**
 * `@rwseg/core/stats`: paired tests between two losses' per-case metrics (Wilcoxon signed-rank, sign-flip) and
 * multiple-comparison adjustments (Holm, Benjamini-Hochberg), as docs/statistics.md describes.
 */
export {
  signedRankTest,
  wilcoxonSignedRank,
  type WilcoxonOptions,
  type WilcoxonResult,
  type ZeroMethod,
} from '../stats/wilcoxon.js';
export { signFlipOnDifferences, signFlipTest, type SignFlipOptions, type SignFlipResult } from '../stats/sign-flip.js';
export { benjaminiHochbergAdjust, holmAdjust } from '../stats/adjust.js';
export type { Alternative } from '../stats/paired.js';
