/** rwseg.json through core's one reader: the current artifact, older files migrated, bad fields named. */
import test from 'ava';
import { normalizeChannels } from '@rwseg/core/data';
import { normalize, parseModelMetadata } from '../src/index.js';

test("the exporter's rwseg-model-metadata/1 is migrated: {index, name} classes, British normalisation, tensor names", (t) => {
  const meta = parseModelMetadata(
    {
      schema: 'rwseg-model-metadata/1',
      classes: [
        { index: 1, name: 'liver' },
        { index: 0, name: 'background' },
      ],
      normalisation: { method: 'zscore', mean: 71.2, std: 12.5 },
      patchSize: [128, 128],
      spacing: [0.8, 0.8],
      model: {
        inputs: [{ name: 'input', shape: [-1, -1, -1, 1] }],
        outputs: [{ name: 'output', shape: [-1, -1, -1, 2] }],
      },
      loss: { name: 'rrw' },
    },
    'rwseg.json',
  );
  t.deepEqual(meta.classes, ['background', 'liver']);
  t.deepEqual(meta.normalization, { method: 'zscore', scope: 'fixed', mean: [71.2], std: [12.5] });
  t.deepEqual(meta.patchSize, [128, 128]);
  t.deepEqual(meta.spacing, [0.8, 0.8]);
  t.is(meta.artifact!.dims, 2);
  t.is(meta.artifact!.inputChannels, 1);
});

test('spacing null and patchSize null are valid: such a model is servable', (t) => {
  const meta = parseModelMetadata(
    {
      schema: 'rwseg-model-metadata/1',
      classes: ['background', 'cell'],
      spacing: null,
      patchSize: null,
      normalisation: { method: 'zscore', scope: 'per-image-and-channel' },
      model: { inputs: [{ name: 'input', shape: ['batch', 'height', 'width', 1] }], outputs: [{ name: 'output' }] },
    },
    'rwseg.json',
  );
  t.is(meta.spacing, undefined);
  t.is(meta.patchSize, undefined);
  t.deepEqual(meta.normalization, { method: 'zscore', scope: 'per-image-and-channel' });
});

test('bad rwseg.json fields are errors naming the file and the field', (t) => {
  const model = { inputs: [{ name: 'input', shape: [-1, -1, -1, 1] }], outputs: [{ name: 'output' }] };
  const bad: [unknown, RegExp][] = [
    [
      { model, classes: ['a', 'b'], normalisation: { method: 'histogram' } },
      /m\/rwseg\.json: field 'normalization\.method'/,
    ],
    [
      { model, classes: ['a', 'b'], normalisation: { method: 'zscore', mean: 1 } },
      /field 'normalisation\.std': give both 'mean' and 'std'/,
    ],
    [
      { model, classes: ['a', 'b'], normalisation: { method: 'zscore', mean: 1, std: 0 } },
      /field 'normalization\.std\[0\]'/,
    ],
    [{ model, classes: ['a', 'b'], patchSize: [128, -1] }, /field 'patchSize\[1\]'/],
    [{ model, classes: [1, 2] }, /field 'classes'/],
    [{ classes: ['a', 'b'] }, /field 'model\.inputs': .*does not say whether the model is 2D or 3D: re-export/],
    [{ schema: 'rwseg-model/9' }, /field 'schema': 'rwseg-model\/9' is not a model format this rwseg reads/],
    [[1], /expected a JSON object/],
  ];
  for (const [json, message] of bad) t.throws(() => parseModelMetadata(json, 'm/rwseg.json'), { message });
});

test('normalizations: fixed statistics in closed form, per-image ones per channel as training does', (t) => {
  const x = [0, 10, 20, 30, 40, 50];
  t.deepEqual(
    Array.from(normalize(x, 1, { method: 'zscore', scope: 'fixed', mean: [20], std: [10] })),
    [-2, -1, 0, 1, 2, 3],
  );
  t.deepEqual(
    Array.from(normalize(x, 1, { method: 'minmax', scope: 'fixed', min: [0], max: [50] })),
    [0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround),
  );
  // Two channels interleaved: [0,1], [10,1], [20,1]; each channel is scaled on its own, the constant one to zeros.
  const two = [0, 1, 10, 1, 20, 1];
  t.deepEqual(
    Array.from(normalize(two, 2, { method: 'minmax', scope: 'per-image-and-channel' })),
    [0, 0, 0.5, 0, 1, 0],
  );
  // Fixed statistics per channel: channel 0 by (x - 10) / 10, channel 1 by (x - 1) / 2.
  t.deepEqual(
    Array.from(normalize(two, 2, { method: 'zscore', scope: 'fixed', mean: [10, 1], std: [10, 2] })),
    [-1, 0, 0, 0, 1, 0],
  );
  const z = normalize(two, 2, { method: 'zscore', scope: 'per-image-and-channel' });
  const s = Math.sqrt(200 / 3);
  [-10 / s, 0, 0, 0, 10 / s, 0].forEach((v, i) => t.true(Math.abs(z[i]! - v) < 1e-6));
  const viaCore = Float32Array.from(two);
  normalizeChannels(viaCore, 2, { normalization: 'percentile', percentiles: [10, 90] });
  t.deepEqual(
    normalize(two, 2, { method: 'percentile', scope: 'per-image-and-channel', percentiles: [10, 90] }),
    viaCore,
  );
  t.deepEqual(Array.from(normalize(x, 1, { method: 'none' })), x);
});
