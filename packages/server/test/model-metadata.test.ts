/** rwseg.json as the exporter writes it, and the normalisations the segment route applies. */
import test from 'ava';
import { normalizeChannels } from '@rwseg/core';
import { normalise, parseModelMetadata } from '../src/index.js';

test("the exporter's rwseg.json: {index, name} classes, { method } normalisation, tensor names from model", (t) => {
  const meta = parseModelMetadata(
    {
      schema: 'rwseg-model-metadata/1',
      classes: [{ index: 1, name: 'liver' }, { index: 0, name: 'background' }],
      normalisation: { method: 'zscore', mean: 71.2, std: 12.5 },
      patchSize: [128, 128],
      spacing: [0.8, 0.8],
      model: { inputs: [{ name: 'input', shape: [-1, -1, -1, 1] }], outputs: [{ name: 'output', shape: [-1, -1, -1, 2] }] },
      loss: { name: 'rrw' },
    },
    'rwseg.json',
  );
  t.deepEqual(meta.classes, ['background', 'liver']);
  t.deepEqual(meta.normalisation, { kind: 'zscore', mean: 71.2, std: 12.5 });
  t.deepEqual(meta.patchSize, [128, 128]);
  t.is(meta.input, 'input');
  t.is(meta.output, 'output');
  t.deepEqual(parseModelMetadata({ normalisation: null }, 'x').normalisation, { kind: 'none' });
  t.deepEqual(parseModelMetadata({ normalization: { kind: 'percentile', percentiles: [1, 99] } }, 'x').normalisation, { kind: 'percentile', percentiles: [1, 99] });
});

test('bad rwseg.json fields are errors naming the file and the field', (t) => {
  const bad: [unknown, RegExp][] = [
    [{ normalisation: { method: 'histogram' } }, /m\/rwseg\.json: unknown normalisation 'histogram'/],
    [{ normalisation: { method: 'zscore', mean: 1 } }, /needs both 'mean' and 'std' or neither/],
    [{ normalisation: { method: 'zscore', mean: 1, std: 0 } }, /std > 0/],
    [{ normalisation: { method: 'minmax', min: 5, max: 5 } }, /max > min/],
    [{ normalisation: { method: 'percentile', percentiles: [99, 1] } }, /percentiles \[low, high\]/],
    [{ patchSize: [128, -1] }, /'patchSize' must be a list of positive numbers/],
    [{ classes: [1, 2] }, /'classes' must be a list of names or a count/],
    [[1], /expected a JSON object/],
  ];
  for (const [json, message] of bad) t.throws(() => parseModelMetadata(json, 'm/rwseg.json'), { message });
});

test('normalisations: fixed statistics in closed form, per-image ones per channel as training does', (t) => {
  const x = [0, 10, 20, 30, 40, 50];
  t.deepEqual(Array.from(normalise(x, 1, { kind: 'zscore', mean: 20, std: 10 })), [-2, -1, 0, 1, 2, 3]);
  t.deepEqual(Array.from(normalise(x, 1, { kind: 'minmax', min: 0, max: 50 })), [0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround));
  // Two channels interleaved: [0,1], [10,1], [20,1]; each channel is scaled on its own, the constant one to zeros.
  const two = [0, 1, 10, 1, 20, 1];
  t.deepEqual(Array.from(normalise(two, 2, { kind: 'minmax' })), [0, 0, 0.5, 0, 1, 0]);
  const z = normalise(two, 2, { kind: 'zscore' });
  const s = Math.sqrt(200 / 3);
  [-10 / s, 0, 0, 0, 10 / s, 0].forEach((v, i) => t.true(Math.abs(z[i] - v) < 1e-6));
  const viaCore = Float32Array.from(two);
  normalizeChannels(viaCore, 2, { normalization: 'percentile', percentiles: [10, 90] });
  t.deepEqual(normalise(two, 2, { kind: 'percentile', percentiles: [10, 90] }), viaCore);
  t.deepEqual(Array.from(normalise(x, 1, { kind: 'none' })), x);
});
