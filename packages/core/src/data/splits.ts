/** Train / validation / test splits: explicit id lists, seeded fractions, or the even/odd rule. */
import { RwsegError } from '../errors.js';
import type { CaseRef } from './dataset.js';
import { createRandom } from './random.js';

export type SplitSpec =
  | { readonly method: 'lists'; readonly train: readonly string[]; readonly validation?: readonly string[]; readonly test?: readonly string[] }
  | { readonly method: 'fraction'; readonly validation: number; readonly test?: number; readonly seed?: number }
  /** Cases in sorted-id order: even positions (0, 2, ...) train, odd positions go to `holdout` (default validation). */
  | { readonly method: 'even-odd'; readonly holdout?: 'validation' | 'test' };

export interface Split {
  readonly train: CaseRef[];
  readonly validation: CaseRef[];
  readonly test: CaseRef[];
}

function bad(message: string): RwsegError {
  return new RwsegError('INVALID_OPTIONS', `split: ${message}`, { option: 'split' });
}

export function splitCases(cases: readonly CaseRef[], spec: SplitSpec): Split {
  const byId = new Map(cases.map((c) => [c.id, c]));
  let split: Split;
  if (spec.method === 'lists') {
    const seen = new Map<string, string>();
    const take = (ids: readonly string[] | undefined, part: string) =>
      (ids ?? []).map((id) => {
        const ref = byId.get(id);
        if (!ref) throw bad(`${part} lists case "${id}", which the dataset does not have`);
        if (seen.has(id)) throw bad(`case "${id}" is in both ${seen.get(id)} and ${part}`);
        seen.set(id, part);
        return ref;
      });
    split = { train: take(spec.train, 'train'), validation: take(spec.validation, 'validation'), test: take(spec.test, 'test') };
  } else if (spec.method === 'fraction') {
    const test = spec.test ?? 0;
    if (!(spec.validation >= 0 && test >= 0 && spec.validation + test < 1)) {
      throw bad(`fractions validation=${spec.validation}, test=${test} must be >= 0 and sum to less than 1`);
    }
    const order = createRandom(spec.seed ?? 0, 'split').shuffled([...cases].sort((a, b) => (a.id < b.id ? -1 : 1)));
    const nVal = Math.round(spec.validation * order.length);
    const nTest = Math.round(test * order.length);
    split = { validation: order.slice(0, nVal), test: order.slice(nVal, nVal + nTest), train: order.slice(nVal + nTest) };
  } else if (spec.method === 'even-odd') {
    const sorted = [...cases].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const even = sorted.filter((_, i) => i % 2 === 0);
    const odd = sorted.filter((_, i) => i % 2 === 1);
    split = spec.holdout === 'test' ? { train: even, validation: [], test: odd } : { train: even, validation: odd, test: [] };
  } else {
    throw bad(`unknown method ${JSON.stringify((spec as { method: unknown }).method)} (lists, fraction, even-odd)`);
  }
  if (split.train.length === 0) throw bad(`leaves no training cases (${cases.length} cases in the dataset)`);
  return split;
}
