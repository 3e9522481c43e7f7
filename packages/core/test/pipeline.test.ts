import test from 'ava';
import { createPatchSource, defineMap, definePlugin, parsePipeline, PLUGIN_API_VERSION, PluginRegistry, syntheticCases, useBackend, z } from '../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

// A map whose value at a voxel is its class index + 1 in that class's channel: it lets the test check that
// maps follow the labels of their own scale.
const labelEcho = defineMap({
  name: 'label-echo',
  description: 'class index + 1 in the channel of the voxel class',
  options: z.object({}),
  generate: ({ labels, numClasses }) => {
    const out = new Float32Array(labels.length * numClasses);
    for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]!] = labels[i]! + 1;
    return out;
  },
});

function source(seed: number, scales = 3) {
  const registry = new PluginRegistry();
  registry.register(definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'echo', maps: [labelEcho] }), 'test');
  const cases = syntheticCases({ shape: [40, 36], numClasses: 3, count: 4, seed: 1 });
  const generator = registry.createMapGenerator('label-echo');
  return Object.assign(createPatchSource({ cases, patch: [16, 32], batchSize: 3, numClasses: 3, scales, maps: [generator], seed }), { mapKey: generator.key });
}

test('patch batches carry image, one-hot targets and maps at every scale, each consistent with its labels', async (t) => {
  const patches = source(5);
  const batch = await patches.next();
  t.is(batch.size, 3);
  t.is(batch.image.length, 3 * 16 * 32);
  t.deepEqual(
    batch.scales.map((s) => s.shape),
    [
      [16, 32],
      [8, 16],
      [4, 8],
    ],
  );
  for (const s of batch.scales) {
    const map = s.maps[patches.mapKey]!;
    t.is(s.target.length, s.labels.length * 3);
    for (let i = 0; i < s.labels.length; i++) {
      const k = s.labels[i]!;
      t.is(s.target[i * 3 + k], 1);
      t.is(map[i * 3 + k], k + 1);
    }
  }
  // Scale 1 is every second voxel of scale 0 along each axis.
  const [s0, s1] = batch.scales;
  t.is(s1!.labels[1 * 16 + 3], s0!.labels[2 * 32 + 6]);
  t.true(batch.scales[0]!.labels.some((l) => l > 0), 'foreground oversampling yields foreground');
});

test('patch sources are reproducible per seed', async (t) => {
  const [a, b, c] = [source(7), source(7), source(8)];
  t.deepEqual((await a.next()).image, (await b.next()).image);
  t.notDeepEqual((await a.next()).image, (await c.next()).image);
});

test('synthetic cases contain every class and are reproducible', (t) => {
  const [one] = syntheticCases({ shape: [64, 64], numClasses: 3, count: 1, seed: 3 });
  const again = syntheticCases({ shape: [64, 64], numClasses: 3, count: 1, seed: 3 })[0]!;
  t.deepEqual(one!.image.data, again.image.data);
  for (const k of [0, 1, 2]) t.true(one!.labels.data.includes(k), `class ${k}`);
});

test('pipeline errors name the YAML path; losses are validated with their own paths', (t) => {
  const base = { dataset: { kind: 'synthetic', shape: [32, 32] }, preprocessing: { patch: [32, 32] }, loss: 'rrw', training: { epochs: 1, iterationsPerEpoch: 1 } };
  t.is(parsePipeline(base).training.batchSize, 2);
  t.regex(t.throws(() => parsePipeline({ ...base, model: { depth: 'deep' } }))!.message, /pipeline: model\.depth: /);
  t.regex(t.throws(() => parsePipeline({ ...base, dataset: { kind: 'nifti-zoo' } }))!.message, /pipeline: dataset\.kind: /);
  t.regex(t.throws(() => parsePipeline({ ...base, loss: { combine: 'rrw' } }))!.message, /loss\.combine/);
  t.regex(t.throws(() => parsePipeline({ ...base, loss: undefined }))!.message, /loss: required/);
});
