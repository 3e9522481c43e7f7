/** The brute-force reference maps of @rwseg/core/testing against the scipy maps of the spec's test vector. */
import test from 'ava';
import { mapsFor, maxAbsDiff, referenceRegistry, SPEC_VECTOR as SPEC } from '../../src/entry/testing.js';
import { useBackend } from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const K = SPEC.numClasses;

test('the reference map generators reproduce the scipy maps of the spec vector', (t) => {
  const registry = referenceRegistry();
  for (const name of Object.keys(SPEC.maps) as (keyof typeof SPEC.maps)[]) {
    const ours = mapsFor(registry, name, {}, [SPEC.labels], SPEC.shape, K);
    t.true(maxAbsDiff(ours.dataSync(), SPEC.maps[name]) < 1e-6, name);
  }
});
