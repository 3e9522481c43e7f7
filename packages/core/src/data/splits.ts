/** Train / validation / test splits: explicit id lists, seeded fractions, the even/odd rule, or k-fold folds. */
import { RwsegError } from '../errors.js';
import type { CaseRef } from './dataset.js';
import { createRandom } from './random.js';

export type SplitSpec =
  | {
      readonly method: 'lists';
      readonly train: readonly string[];
      readonly validation?: readonly string[];
      readonly test?: readonly string[];
    }
  | { readonly method: 'fraction'; readonly validation: number; readonly test?: number; readonly seed?: number }
  /** Cases in sorted-id order: even positions (0, 2, ...) train, odd positions go to `holdout` (default validation). */
  | { readonly method: 'even-odd'; readonly holdout?: 'validation' | 'test' }
  /**
   * k-fold cross-validation as nnU-Net deals it: the cases left after the `test` ids are held out, sorted by id,
   * shuffled with `seed` (fixed per dataset, not the run seed, so every loss and seed sees the same folds), and
   * dealt into `folds` parts; fold `fold` validates on its part and trains on the others.
   */
  | {
      readonly method: 'kfold';
      readonly folds: number;
      readonly fold: number;
      readonly seed?: number;
      readonly test?: readonly string[];
    };

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
    split = {
      train: take(spec.train, 'train'),
      validation: take(spec.validation, 'validation'),
      test: take(spec.test, 'test'),
    };
  } else if (spec.method === 'fraction') {
    const test = spec.test ?? 0;
    if (!(spec.validation >= 0 && test >= 0 && spec.validation + test < 1)) {
      throw bad(`fractions validation=${spec.validation}, test=${test} must be >= 0 and sum to less than 1`);
    }
    const order = createRandom(spec.seed ?? 0, 'split').shuffled([...cases].sort((a, b) => (a.id < b.id ? -1 : 1)));
    const nVal = Math.round(spec.validation * order.length);
    const nTest = Math.round(test * order.length);
    split = {
      validation: order.slice(0, nVal),
      test: order.slice(nVal, nVal + nTest),
      train: order.slice(nVal + nTest),
    };
  } else if (spec.method === 'even-odd') {
    const sorted = [...cases].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const even = sorted.filter((_, i) => i % 2 === 0);
    const odd = sorted.filter((_, i) => i % 2 === 1);
    split =
      spec.holdout === 'test' ? { train: even, validation: [], test: odd } : { train: even, validation: odd, test: [] };
  } else if (spec.method === 'kfold') {
    split = kfoldSplit(cases, byId, spec);
  } else {
    throw bad(
      `unknown method ${JSON.stringify((spec as { method: unknown }).method)} (lists, fraction, even-odd, kfold)`,
    );
  }
  if (split.train.length === 0) throw bad(`leaves no training cases (${cases.length} cases in the dataset)`);
  return split;
}

/** The ids of every fold's validation part, fold 0 first (what `kfold` deals; exported for plans and tests). */
export function kfoldParts(ids: readonly string[], folds: number, seed = 0): string[][] {
  const sorted = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const order = createRandom(seed, 'kfold').shuffled(sorted);
  // Dealt in contiguous runs as sklearn's KFold (nnU-Net's) does: the first n % folds parts get one case more.
  const parts: string[][] = [];
  let at = 0;
  for (let k = 0; k < folds; k++) {
    const size = Math.floor(order.length / folds) + (k < order.length % folds ? 1 : 0);
    parts.push(order.slice(at, at + size));
    at += size;
  }
  return parts;
}

function kfoldSplit(
  cases: readonly CaseRef[],
  byId: Map<string, CaseRef>,
  spec: Extract<SplitSpec, { method: 'kfold' }>,
): Split {
  const test = (spec.test ?? []).map((id) => {
    const ref = byId.get(id);
    if (!ref) throw bad(`test lists case "${id}", which the dataset does not have`);
    return ref;
  });
  const held = new Set(test.map((c) => c.id));
  const pool = cases.filter((c) => !held.has(c.id));
  if (!Number.isInteger(spec.folds) || spec.folds < 2) throw bad(`kfold needs folds >= 2 (got ${spec.folds})`);
  if (spec.folds > pool.length) {
    throw bad(
      `kfold with ${spec.folds} folds needs at least ${spec.folds} cases, and ${pool.length} are left after the test cases`,
    );
  }
  if (!Number.isInteger(spec.fold) || spec.fold < 0 || spec.fold >= spec.folds) {
    throw bad(`fold ${spec.fold} is out of range: with ${spec.folds} folds, fold is 0..${spec.folds - 1}`);
  }
  const validationIds = new Set(
    kfoldParts(
      pool.map((c) => c.id),
      spec.folds,
      spec.seed ?? 0,
    )[spec.fold],
  );
  return {
    train: pool.filter((c) => !validationIds.has(c.id)),
    validation: pool.filter((c) => validationIds.has(c.id)),
    test,
  };
}
