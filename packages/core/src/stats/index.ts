export { benjaminiHochbergAdjust, holmAdjust } from './adjust.js';
export { erfc, normalCdf, normalSf } from './normal.js';
export { median, pairedDifferences, type Alternative, type PairedDifferences } from './paired.js';
export { averageRanks, tieGroupSizes } from './ranks.js';
export { signFlipOnDifferences, signFlipTest, type SignFlipOptions, type SignFlipResult } from './sign-flip.js';
export {
  signedRankTest,
  wilcoxonSignedRank,
  type WilcoxonOptions,
  type WilcoxonResult,
  type ZeroMethod,
} from './wilcoxon.js';
