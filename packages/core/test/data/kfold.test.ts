import test from 'ava';
import { isRwsegError, kfoldParts, splitCases, type CaseRef } from '../../src/index.js';

const cases = (n: number): CaseRef[] =>
  Array.from({ length: n }, (_, i) => ({ id: `case_${String(i).padStart(2, '0')}` }) as CaseRef);
const ids = (refs: readonly CaseRef[]) => refs.map((c) => c.id).sort();

test('kfold: the validation parts are disjoint, cover every case, and each fold trains on the rest', (t) => {
  const all = cases(23);
  const validations = [0, 1, 2, 3, 4].map((fold) => splitCases(all, { method: 'kfold', folds: 5, fold, seed: 7 }));
  const seen = validations.flatMap((s) => ids(s.validation));
  t.deepEqual([...seen].sort(), ids(all));
  t.is(new Set(seen).size, 23);
  // 23 = 5 + 5 + 5 + 4 + 4: the first n % folds parts take one more, as sklearn's KFold deals them.
  t.deepEqual(
    validations.map((s) => s.validation.length),
    [5, 5, 5, 4, 4],
  );
  for (const s of validations) {
    t.deepEqual([...ids(s.train), ...ids(s.validation)].sort(), ids(all));
    t.false(s.train.some((c) => s.validation.includes(c)));
    t.deepEqual(s.test, []);
  }
});

test('kfold: deterministic, independent of the input order, and moved by the split seed', (t) => {
  const all = cases(12);
  const a = kfoldParts(
    all.map((c) => c.id),
    3,
    1,
  );
  t.deepEqual(
    kfoldParts(
      [...all].reverse().map((c) => c.id),
      3,
      1,
    ),
    a,
  );
  t.deepEqual(
    kfoldParts(
      all.map((c) => c.id),
      3,
      1,
    ),
    a,
  );
  t.notDeepEqual(
    kfoldParts(
      all.map((c) => c.id),
      3,
      2,
    ),
    a,
  );
  // Shuffled, not dealt in sorted order.
  t.notDeepEqual(a[0], ['case_00', 'case_01', 'case_02', 'case_03']);
  const fold1 = splitCases(all, { method: 'kfold', folds: 3, fold: 1, seed: 1 });
  t.deepEqual(ids(fold1.validation), [...a[1]!].sort());
});

test('kfold: test cases are held out before the folds are dealt', (t) => {
  const all = cases(10);
  const test_ = ['case_03', 'case_07'];
  const folds = [0, 1, 2, 3].map((fold) => splitCases(all, { method: 'kfold', folds: 4, fold, test: test_ }));
  for (const s of folds) {
    t.deepEqual(ids(s.test), test_);
    t.false([...s.train, ...s.validation].some((c) => test_.includes(c.id)));
  }
  t.is(folds.flatMap((s) => s.validation).length, 8);
});

test('kfold: folds < 2, more folds than cases, a fold out of range and an unknown test id are clear errors', (t) => {
  const all = cases(4);
  const error = (spec: Parameters<typeof splitCases>[1]) => {
    const e = t.throws(() => splitCases(all, spec));
    t.true(isRwsegError(e, 'INVALID_OPTIONS'));
    return e!.message;
  };
  t.regex(error({ method: 'kfold', folds: 1, fold: 0 }), /folds >= 2 \(got 1\)/);
  t.regex(error({ method: 'kfold', folds: 5, fold: 0 }), /5 folds needs at least 5 cases, and 4 are left/);
  t.regex(
    error({ method: 'kfold', folds: 3, fold: 2, test: ['case_00', 'case_01'] }),
    /3 folds needs at least 3 cases, and 2/,
  );
  t.regex(error({ method: 'kfold', folds: 4, fold: 4 }), /fold 4 is out of range: with 4 folds, fold is 0\.\.3/);
  t.regex(error({ method: 'kfold', folds: 4, fold: -1 }), /fold -1 is out of range/);
  t.regex(error({ method: 'kfold', folds: 2, fold: 0, test: ['nope'] }), /test lists case "nope"/);
});
