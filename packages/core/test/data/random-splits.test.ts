import test from 'ava';
import { createRandom, isRwsegError, Random, splitCases, type CaseRef } from '../../src/index.js';
import { hashSeed } from '../../src/data/random.js';

test('data: mulberry32 matches an independent Python implementation', (t) => {
  const rng = new Random(42);
  const expected = [0.6011037519201636, 0.44829055899754167, 0.8524657934904099];
  for (const value of expected) t.is(rng.next(), value);
  const zero = createRandom(0);
  t.is(zero.next(), 0.26642920868471265);
  t.is(zero.next(), 0.0003297457005828619);
});

test('data: Random draws have the right moments and are reproducible', (t) => {
  const a = createRandom('run', 7);
  const b = createRandom('run', 7);
  const n = 20000;
  let sum = 0,
    sum2 = 0,
    nsum = 0,
    nsum2 = 0;
  for (let i = 0; i < n; i++) {
    const u = a.next();
    t.is(u, b.next());
    sum += u;
    sum2 += u * u;
    const z = a.normal();
    t.is(z, b.normal());
    nsum += z;
    nsum2 += z * z;
  }
  t.true(Math.abs(sum / n - 0.5) < 0.01);
  t.true(Math.abs(sum2 / n - 1 / 3) < 0.01);
  t.true(Math.abs(nsum / n) < 0.03);
  t.true(Math.abs(nsum2 / n - 1) < 0.04);
  const ints = new Array(5).fill(0);
  for (let i = 0; i < 5000; i++) ints[a.int(5)]++;
  for (const count of ints) t.true(count > 900 && count < 1100, `int(5) histogram ${ints}`);
  const shuffled = a.shuffled([1, 2, 3, 4, 5, 6, 7, 8]);
  t.deepEqual([...shuffled].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.not(hashSeed(1, 2), hashSeed(2, 1));
  t.not(hashSeed('a'), hashSeed('b'));
  // A fork does not consume the parent's stream.
  const parent = createRandom(5);
  const twin = createRandom(5);
  parent.fork('x').next();
  t.is(parent.next(), twin.next());
});

const cases: CaseRef[] = Array.from({ length: 10 }, (_, i) => ({ id: `case${i}`, images: [] }));
const ids = (refs: readonly CaseRef[]) => refs.map((r) => r.id);

test('data: splits by lists, seeded fraction and the even/odd rule', (t) => {
  const lists = splitCases(cases, {
    method: 'lists',
    train: ['case1', 'case2'],
    validation: ['case3'],
    test: ['case9'],
  });
  t.deepEqual(ids(lists.train), ['case1', 'case2']);
  t.deepEqual(ids(lists.validation), ['case3']);
  t.deepEqual(ids(lists.test), ['case9']);

  const f1 = splitCases(cases, { method: 'fraction', validation: 0.2, test: 0.1, seed: 4 });
  const f2 = splitCases([...cases].reverse(), { method: 'fraction', validation: 0.2, test: 0.1, seed: 4 });
  t.deepEqual(f1, f2, 'the split depends on the seed and the ids, not on the input order');
  t.is(f1.validation.length, 2);
  t.is(f1.test.length, 1);
  t.is(f1.train.length, 7);
  t.deepEqual([...ids(f1.train), ...ids(f1.validation), ...ids(f1.test)].sort(), ids(cases).sort());
  const f3 = splitCases(cases, { method: 'fraction', validation: 0.2, test: 0.1, seed: 5 });
  t.notDeepEqual(ids(f1.validation).concat(ids(f1.test)), ids(f3.validation).concat(ids(f3.test)));

  const evenOdd = splitCases(cases, { method: 'even-odd' });
  t.deepEqual(ids(evenOdd.train), ['case0', 'case2', 'case4', 'case6', 'case8']);
  t.deepEqual(ids(evenOdd.validation), ['case1', 'case3', 'case5', 'case7', 'case9']);
  t.deepEqual(ids(splitCases(cases, { method: 'even-odd', holdout: 'test' }).test), ids(evenOdd.validation));
});

test('data: bad splits name the problem', (t) => {
  const unknown = t.throws(() => splitCases(cases, { method: 'lists', train: ['nope'] }));
  t.true(isRwsegError(unknown, 'INVALID_OPTIONS') && unknown.message.includes('"nope"'));
  const overlap = t.throws(() => splitCases(cases, { method: 'lists', train: ['case1'], test: ['case1'] }));
  t.true(overlap!.message.includes('both train and test'));
  const fraction = t.throws(() => splitCases(cases, { method: 'fraction', validation: 0.7, test: 0.3 }));
  t.true(fraction!.message.includes('validation=0.7'));
  const empty = t.throws(() => splitCases(cases, { method: 'lists', train: [], validation: ['case1'] }));
  t.true(empty!.message.includes('no training cases'));
});
