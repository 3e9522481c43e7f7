/**
 * The paired permutation test of the mean difference: under the null hypothesis each pair's two values are
 * exchangeable, so each difference d = x - y keeps its size and takes either sign. The null distribution is the
 * mean of d with every sign pattern: enumerated exactly (2^n patterns, the observed one included) for small n,
 * sampled otherwise.
 *
 * p-values follow scipy.stats.permutation_test(permutation_type='samples') 1.10.1: a null value counts as at
 * least as extreme when it is within gamma = max(1e-14, 1e-14 |observed|) of the observed mean; exact:
 * count / 2^n; Monte Carlo: (count + 1) / (B + 1), the observed pattern counted as one of the resamples
 * (Phipson and Smyth 2010), so a p-value is never 0; two-sided: twice the smaller one-sided p, at most 1.
 * Effect sizes: the mean difference and Cohen's d_z (mean / sample sd of the differences).
 */
import { RwsegError } from '../errors.js';
import { Random } from '../data/random.js';
import { checkAlternative, pairedDifferences, type Alternative } from './paired.js';

export interface SignFlipOptions {
  /** Default 'two-sided'. 'greater': x - y tends to be positive. */
  readonly alternative?: Alternative;
  /** Enumerate all 2^n sign patterns up to this n (default 20, about a million means); sample above it. */
  readonly maxExact?: number;
  /** Monte Carlo resamples B (default 9999, scipy's default n_resamples). */
  readonly resamples?: number;
  /** Seed of the Monte Carlo signs (default 0), so a table is reproducible. */
  readonly seed?: number;
}

export interface SignFlipResult {
  /** The observed mean difference. */
  readonly statistic: number;
  /** NaN when there are no pairs; `reason` says why. */
  readonly pvalue: number;
  readonly method: 'exact' | 'monte-carlo' | 'none';
  /** Pairs used. */
  readonly n: number;
  /** Pairs left out for a NaN or infinite value. */
  readonly dropped: number;
  /** Null values the p-value is over: 2^n exact, B Monte Carlo. */
  readonly resamples: number;
  readonly meanDifference: number;
  /** Sample standard deviation of the differences (NaN for n < 2). */
  readonly sdDifference: number;
  /** Cohen's d_z = mean / sd of the differences. */
  readonly cohenDz: number;
  readonly reason?: string;
}

export function signFlipTest(
  x: readonly number[],
  y: readonly number[],
  options: SignFlipOptions = {},
): SignFlipResult {
  const { differences, dropped } = pairedDifferences(x, y, 'sign-flip permutation test');
  return { ...signFlipOnDifferences(differences, options), dropped };
}

/** The test on differences already formed (all finite). */
export function signFlipOnDifferences(d: readonly number[], options: SignFlipOptions = {}): SignFlipResult {
  const alternative = options.alternative ?? 'two-sided';
  checkAlternative(alternative, 'sign-flip permutation test');
  const maxExact = options.maxExact ?? 20;
  const resamples = options.resamples ?? 9999;
  if (!Number.isInteger(resamples) || resamples < 1) {
    const message = `sign-flip permutation test: resamples ${resamples}: use a positive integer`;
    throw new RwsegError('INVALID_OPTIONS', message, { option: 'resamples' });
  }
  if (!Number.isInteger(maxExact) || maxExact < 0 || maxExact > 26) {
    const message = `sign-flip permutation test: maxExact ${maxExact}: use an integer in 0..26`;
    throw new RwsegError('INVALID_OPTIONS', message, { option: 'maxExact' });
  }
  const n = d.length;
  const sum = d.reduce((a, b) => a + b, 0);
  const mean = n > 0 ? sum / n : Number.NaN;
  const sd = n > 1 ? Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : Number.NaN;
  const effects = { statistic: mean, n, dropped: 0, meanDifference: mean, sdDifference: sd, cohenDz: mean / sd };
  if (n === 0) {
    const reason = 'no pairs with finite values on both sides';
    return { ...effects, pvalue: Number.NaN, method: 'none', resamples: 0, reason };
  }
  // Compared on sums (n times the means): the same order, and gamma scaled by n with them.
  const gamma = n * Math.max(1e-14, Math.abs(1e-14 * mean));
  let atMost = 0;
  let atLeast = 0;
  const tally = (s: number) => {
    if (s <= sum + gamma) atMost++;
    if (s >= sum - gamma) atLeast++;
  };
  let method: SignFlipResult['method'];
  let count: number;
  if (n <= maxExact) {
    enumerateSignedSums(d, tally);
    method = 'exact';
    count = 2 ** n;
  } else {
    const random = new Random(options.seed ?? 0);
    for (let b = 0; b < resamples; b++) {
      let s = 0;
      let bits = 0;
      for (let i = 0; i < n; i++) {
        // One 32-bit draw gives the signs of 32 differences.
        if (i % 32 === 0) bits = random.next() * 4294967296;
        s += (bits >>> (i % 32)) & 1 ? -d[i]! : d[i]!;
      }
      tally(s);
    }
    method = 'monte-carlo';
    count = resamples;
  }
  const adjustment = method === 'exact' ? 0 : 1;
  const less = (atMost + adjustment) / (count + adjustment);
  const greater = (atLeast + adjustment) / (count + adjustment);
  const p = alternative === 'less' ? less : alternative === 'greater' ? greater : 2 * Math.min(less, greater);
  return { ...effects, pvalue: Math.min(1, p), method, resamples: count };
}

/**
 * Every signed sum sum_i s_i d_i, s in {-1, +1}^n, as a low-half sum plus a high-half sum: one addition per
 * pattern, so no rounding accumulates along the enumeration (theoretically equal sums stay within gamma).
 */
function enumerateSignedSums(d: readonly number[], visit: (sum: number) => void): void {
  const half = d.length >> 1;
  const low = halfSums(d.slice(0, half));
  const high = halfSums(d.slice(half));
  for (let i = 0; i < high.length; i++) {
    const h = high[i]!;
    for (let j = 0; j < low.length; j++) visit(h + low[j]!);
  }
}

/** The 2^m signed sums of m values, each summed directly. */
function halfSums(values: readonly number[]): Float64Array {
  const m = values.length;
  const sums = new Float64Array(2 ** m);
  for (let pattern = 0; pattern < sums.length; pattern++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += pattern & (1 << i) ? -values[i]! : values[i]!;
    sums[pattern] = s;
  }
  return sums;
}
