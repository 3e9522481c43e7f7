/**
 * What the paired tests share: the sides of an alternative, and the paired differences x - y with the pairs
 * where either value is not a finite number (e.g. HD95 of a case where one loss predicted nothing: NaN) dropped
 * and counted.
 */
import { RwsegError } from '../errors.js';

/** scipy's names: 'greater' means the differences x - y tend to be positive. */
export type Alternative = 'two-sided' | 'less' | 'greater';

export interface PairedDifferences {
  /** x[i] - y[i] for the pairs where both are finite. */
  readonly differences: number[];
  /** How many pairs had a NaN (or an infinity) on either side and were left out. */
  readonly dropped: number;
}

export function pairedDifferences(x: readonly number[], y: readonly number[], what = 'paired test'): PairedDifferences {
  if (x.length !== y.length) {
    throw new RwsegError('INVALID_INPUT', `${what}: x has ${x.length} values but y has ${y.length}; pairs need both`, {
      x: x.length,
      y: y.length,
    });
  }
  const differences: number[] = [];
  let dropped = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) dropped++;
    else differences.push(x[i]! - y[i]!);
  }
  return { differences, dropped };
}

export function checkAlternative(alternative: string, what: string): asserts alternative is Alternative {
  if (alternative !== 'two-sided' && alternative !== 'less' && alternative !== 'greater') {
    throw new RwsegError('INVALID_OPTIONS', `${what}: alternative '${alternative}': use two-sided, less or greater`, {
      option: 'alternative',
    });
  }
}

/** Median of the values (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
