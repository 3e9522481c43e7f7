/**
 * The Wilcoxon signed-rank test for paired samples, as scipy.stats.wilcoxon 1.10.1 (Debian bookworm's scipy)
 * computes it, plus effect sizes: the matched-pairs rank-biserial correlation (Kerby 2014), the median of the
 * differences and the Hodges-Lehmann estimate (median of the Walsh averages).
 *
 * Differences are d = x - y. Zeros: 'wilcox' drops them (Wilcoxon 1945), 'pratt' ranks them and then drops
 * their ranks (Pratt 1959; normal approximation adjusted as Cureton 1967), 'zsplit' splits their ranks between
 * the two sums. Pairs with a NaN on either side are dropped first (the NaN policy of rwseg's metrics).
 *
 * p-values: scipy's method 'auto' takes the exact null distribution of r+ when n <= 50 and no difference is
 * zero, and the normal approximation with the tie correction otherwise (`correction` adds scipy's continuity
 * correction). One deliberate difference: scipy 1.10.1 also takes the exact path when |d| has ties, truncating
 * the half-integer rank sum to an integer; here ties send 'auto' (and 'exact') to the normal approximation,
 * whose tie correction is what ties call for.
 */
import { RwsegError } from '../errors.js';
import { normalCdf, normalSf } from './normal.js';
import { checkAlternative, median, pairedDifferences, type Alternative } from './paired.js';
import { averageRanks, tieGroupSizes } from './ranks.js';

export type ZeroMethod = 'wilcox' | 'pratt' | 'zsplit';

export interface WilcoxonOptions {
  /** Default 'wilcox' (zero differences dropped), as scipy. */
  readonly zeroMethod?: ZeroMethod;
  /** Continuity correction of the normal approximation (default false, as scipy). */
  readonly correction?: boolean;
  /** Default 'two-sided'. 'greater': x - y tends to be positive. */
  readonly alternative?: Alternative;
  /** Default 'auto': exact for n <= 50 without zeros or ties, the normal approximation otherwise. */
  readonly method?: 'auto' | 'exact' | 'approx';
}

export interface WilcoxonResult {
  /** scipy's statistic: min(r+, r-) two-sided, r+ one-sided. */
  readonly statistic: number;
  /** NaN when the test cannot be computed; `reason` says why. */
  readonly pvalue: number;
  /** The normal approximation's z (NaN on the exact path). */
  readonly zStatistic: number;
  readonly method: 'exact' | 'approx' | 'none';
  /** How many differences were ranked (zeros included for 'pratt' and 'zsplit'). */
  readonly n: number;
  /** Zero differences among the finite pairs. */
  readonly zeros: number;
  /** Pairs left out for a NaN or infinite value. */
  readonly dropped: number;
  /** Sums of the ranks of the positive and the negative differences. */
  readonly rankSumPositive: number;
  readonly rankSumNegative: number;
  /** (r+ - r-) / (r+ + r-): +1 when every nonzero difference is positive, -1 when every one is negative. */
  readonly rankBiserial: number;
  /** Median of the finite differences, zeros included. */
  readonly medianDifference: number;
  /** Median of the Walsh averages (d_i + d_j) / 2, i <= j, zeros included. */
  readonly hodgesLehmann: number;
  readonly reason?: string;
  /** Set when the normal approximation ran on fewer than 10 differences (scipy warns there too). */
  readonly warning?: string;
}

/** Walsh averages grow as n^2; past this many differences the estimate is left out (NaN). */
const HODGES_LEHMANN_MAX_N = 4000;

export function wilcoxonSignedRank(
  x: readonly number[],
  y: readonly number[],
  options: WilcoxonOptions = {},
): WilcoxonResult {
  const { differences, dropped } = pairedDifferences(x, y, 'wilcoxon');
  return { ...signedRankTest(differences, options), dropped };
}

/** The test on differences already formed (all finite). */
export function signedRankTest(differences: readonly number[], options: WilcoxonOptions = {}): WilcoxonResult {
  const zeroMethod = options.zeroMethod ?? 'wilcox';
  const alternative = options.alternative ?? 'two-sided';
  const requested = options.method ?? 'auto';
  checkAlternative(alternative, 'wilcoxon');
  if (!['wilcox', 'pratt', 'zsplit'].includes(zeroMethod)) {
    const message = `wilcoxon: zeroMethod '${zeroMethod}': use wilcox, pratt or zsplit`;
    throw new RwsegError('INVALID_OPTIONS', message, { option: 'zeroMethod' });
  }
  if (!['auto', 'exact', 'approx'].includes(requested)) {
    const message = `wilcoxon: method '${requested}': use auto, exact or approx`;
    throw new RwsegError('INVALID_OPTIONS', message, { option: 'method' });
  }
  const all = differences;
  const zeros = all.filter((d) => d === 0).length;
  const effects = { medianDifference: median(all), hodgesLehmann: hodgesLehmann(all) };
  const none = (reason: string, n: number): WilcoxonResult => ({
    statistic: Number.NaN,
    pvalue: Number.NaN,
    zStatistic: Number.NaN,
    method: 'none',
    n,
    zeros,
    dropped: 0,
    rankSumPositive: Number.NaN,
    rankSumNegative: Number.NaN,
    rankBiserial: Number.NaN,
    ...effects,
    reason,
  });
  if (all.length === 0) return none('no pairs with finite values on both sides', 0);
  if (zeros === all.length && zeroMethod !== 'zsplit') {
    return none(`every difference is zero (zeroMethod '${zeroMethod}' has nothing to rank)`, 0);
  }

  const d = zeroMethod === 'wilcox' ? all.filter((v) => v !== 0) : [...all];
  const n = d.length;
  const ranks = averageRanks(d.map(Math.abs));
  let rPlus = 0;
  let rMinus = 0;
  let rZero = 0;
  d.forEach((v, i) => {
    if (v > 0) rPlus += ranks[i]!;
    else if (v < 0) rMinus += ranks[i]!;
    else rZero += ranks[i]!;
  });
  if (zeroMethod === 'zsplit') {
    rPlus += rZero / 2;
    rMinus += rZero / 2;
  }
  const statistic = alternative === 'two-sided' ? Math.min(rPlus, rMinus) : rPlus;
  const ties = tieGroupSizes(ranks);
  // scipy's rule (n counted before zeros are dropped), except that ties also need the approximation.
  const small = requested === 'exact' || (requested === 'auto' && all.length <= 50);
  const exact = small && zeros === 0 && ties.length === 0;
  const common = {
    statistic,
    n,
    zeros,
    dropped: 0,
    rankSumPositive: rPlus,
    rankSumNegative: rMinus,
    rankBiserial: rPlus + rMinus > 0 ? (rPlus - rMinus) / (rPlus + rMinus) : Number.NaN,
    ...effects,
  };
  if (exact) return { ...common, pvalue: exactPValue(n, rPlus, alternative), zStatistic: Number.NaN, method: 'exact' };

  let mean = (n * (n + 1)) / 4;
  let variance = n * (n + 1) * (2 * n + 1);
  let tiedRanks: ArrayLike<number> = ranks;
  if (zeroMethod === 'pratt') {
    // Cureton (1967): the zeros' ranks 1..n0 are out of both sums; ties are counted among the nonzero ranks.
    mean -= (zeros * (zeros + 1)) / 4;
    variance -= zeros * (zeros + 1) * (2 * zeros + 1);
    tiedRanks = ranks.filter((_, i) => d[i] !== 0);
  }
  for (const t of tieGroupSizes(tiedRanks)) variance -= 0.5 * t * (t * t - 1);
  const se = Math.sqrt(variance / 24);
  let shift = 0;
  if (options.correction) {
    shift = alternative === 'two-sided' ? 0.5 * Math.sign(statistic - mean) : alternative === 'less' ? -0.5 : 0.5;
  }
  const z = (statistic - mean - shift) / se;
  const pvalue =
    alternative === 'two-sided' ? 2 * normalSf(Math.abs(z)) : alternative === 'greater' ? normalSf(z) : normalCdf(z);
  const why = zeros > 0 ? 'zero differences' : ties.length > 0 ? 'tied |differences|' : 'more than 50 pairs';
  const warning = n < 10 ? `normal approximation on ${n} difference(s) (${why} rule out the exact test)` : undefined;
  return { ...common, pvalue, zStatistic: z, method: 'approx', ...(warning ? { warning } : {}) };
}

const nullCounts = new Map<number, Float64Array>();

/**
 * Null distribution of r+ for n untied nonzero differences: counts of the subsets of {1..n} with each sum
 * (exact in doubles up to n = 50: at most 2^50), from the recursion c_k(s) = c_{k-1}(s) + c_{k-1}(s - k).
 */
function signedRankCounts(n: number): Float64Array {
  let counts = nullCounts.get(n);
  if (counts) return counts;
  counts = new Float64Array(1).fill(1);
  for (let k = 1; k <= n; k++) {
    const next = new Float64Array((k * (k + 1)) / 2 + 1);
    next.set(counts);
    for (let s = 0; s < counts.length; s++) next[s + k] += counts[s]!;
    counts = next;
  }
  nullCounts.set(n, counts);
  return counts;
}

/** scipy's exact p-value: tails of the pmf at r+, two-sided as twice the smaller tail, 1 at the center. */
function exactPValue(n: number, rPlus: number, alternative: Alternative): number {
  const counts = signedRankCounts(n);
  const total = 2 ** n;
  const r = Math.round(rPlus);
  let lower = 0;
  for (let s = 0; s <= r; s++) lower += counts[s]!;
  let upper = 0;
  for (let s = r; s < counts.length; s++) upper += counts[s]!;
  let p: number;
  if (alternative === 'greater') p = upper / total;
  else if (alternative === 'less') p = lower / total;
  else p = r === Math.floor((counts.length - 1) / 2) ? 1 : (2 * Math.min(lower, upper)) / total;
  return Math.min(1, Math.max(0, p));
}

function hodgesLehmann(d: readonly number[]): number {
  const n = d.length;
  if (n === 0 || n > HODGES_LEHMANN_MAX_N) return Number.NaN;
  const walsh = new Float64Array((n * (n + 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) walsh[k++] = (d[i]! + d[j]!) / 2;
  walsh.sort();
  const mid = walsh.length >> 1;
  return walsh.length % 2 === 1 ? walsh[mid]! : (walsh[mid - 1]! + walsh[mid]!) / 2;
}
