import test from 'ava';
import { createRegistry, isRwsegError, type PluginRegistry } from '@rwseg/core';
import { type LabelMapInput } from '@rwseg/core/plugin';

let registry: PluginRegistry;
test.before(async () => {
  registry = await createRegistry({ packageJson: false });
});

test('active-contour: 0 where the voxel is of the class, 1 elsewhere, channels-last', (t) => {
  const labels = [0, 2, 2, 0, 1, 0];
  const map = registry
    .createMapGenerator('active-contour')
    .generate({ labels, shape: [2, 3], numClasses: 4, spacing: [1, 1] });
  t.true(map instanceof Float32Array);
  const expected = labels.flatMap((l) => [0, 1, 2, 3].map((k) => (k === l ? 0 : 1)));
  t.deepEqual([...map], expected);
  // Class 3 is absent: all 1.
  t.true([0, 1, 2, 3, 4, 5].every((i) => map[i * 4 + 3] === 1));
});

test('active-contour: a class filling the patch is 0 on its channel, the others 1', (t) => {
  const map = registry
    .createMapGenerator('active-contour')
    .generate({ labels: new Uint8Array(8).fill(1), shape: [2, 2, 2], numClasses: 2, spacing: [1, 1, 3] });
  t.deepEqual([...map], new Array(8).fill([1, 0]).flat());
});

test('active-contour rejects bad label maps naming the problem', (t) => {
  const base: LabelMapInput = { labels: [0, 1], shape: [2], numClasses: 2, spacing: [1] };
  const cases: [Partial<LabelMapInput>, RegExp][] = [
    [{ labels: [0, 0.5] }, /map 'active-contour': label 0.5 at voxel 1 .* is not an integer/],
    [{ labels: [0, 2] }, /not below numClasses=2/],
    [{ shape: [3] }, /needs 3 voxels but the data has 2/],
    [{ spacing: [0] }, /spacing\[0\] must be a finite positive number/],
  ];
  for (const [override, message] of cases) {
    const error = t.throws(() => registry.createMapGenerator('active-contour').generate({ ...base, ...override }));
    t.true(isRwsegError(error, 'INVALID_INPUT'));
    t.regex(error!.message, message);
  }
});
