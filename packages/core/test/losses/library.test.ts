/** Losses as a library user and a plugin author meet them: createRegistry, buildLoss, one compute call, training. */
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildLoss,
  createRegistry,
  definePlugin,
  PLUGIN_API_VERSION,
  tf,
  useBackend,
  type CreateRegistryOptions,
  type LossInput,
  type MapRequest,
  type PluginRegistry,
} from '../../src/index.js';
import { oneHot, referenceMapsPlugin, scalar, SPEC } from '../helpers/losses.js';

test.before(async () => {
  await useBackend('cpu');
});

const CORE_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The registry a library user gets. Until the map plugins ship their generators, the reference maps stand in
 * for the missing names only, so this test runs unchanged against the real maps once they are registered.
 */
async function userRegistry(options: CreateRegistryOptions = {}): Promise<PluginRegistry> {
  const registry = await createRegistry(options);
  const missing = (referenceMapsPlugin.maps ?? []).filter((m) => !registry.hasMap(m.name));
  if (missing.length > 0)
    registry.register(
      definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'test-missing-maps', maps: missing }),
      'test',
    );
  return registry;
}

/** Tensors for a batch from label maps, with every map the loss asked for computed through the registry. */
function inputFor(
  registry: PluginRegistry,
  requests: readonly MapRequest[],
  labels: number[][],
  shape: number[],
  numClasses: number,
  probs: tf.Tensor,
  epoch = 0,
): LossInput {
  const maps: Record<string, tf.Tensor> = {};
  for (const request of requests) {
    const generator = registry.createMapGenerator(request.map, request.options);
    const data = labels.map((l) => generator.generate({ labels: l, shape, numClasses, spacing: shape.map(() => 1) }));
    maps[request.key] = tf.tensor(
      data.flatMap((d) => [...d]),
      [labels.length, ...shape, numClasses],
    );
  }
  return { probs, target: oneHot(labels, shape, numClasses), maps, context: { epoch } };
}

test('library use: createRegistry, buildLoss({ loss: "rrw" }) and one compute call give the spec value', async (t) => {
  const registry = await userRegistry();
  const loss = buildLoss(registry, { loss: 'rrw' });
  const target = oneHot([SPEC.labels], SPEC.shape, SPEC.numClasses);
  const input = inputFor(
    registry,
    loss.requiredMaps,
    [SPEC.labels],
    SPEC.shape,
    SPEC.numClasses,
    tf.softmax(tf.zerosLike(target)),
  );
  t.true(Math.abs(scalar(loss.compute(input)) - 0.15906376) < 1e-6);
  // A registry without the map a named RW loss needs says so, without blaming an option the user never set.
  const bare = await createRegistry({
    builtins: false,
    plugins: [(await import('@rwseg/plugin-loss-region-wise' as string)).default],
  });
  t.regex(
    t.throws(() => bare.createLoss('rrw'))!.message,
    /^loss 'rrw' \(plugin @rwseg\/plugin-loss-region-wise\): needs map 'rrw', which no loaded plugin provides: unknown map 'rrw'/,
  );
  // A bare name is a configuration too.
  t.is(buildLoss(registry, 'dice').name, 'dice');
});

const THIRD_PARTY_SOURCE = `
import { definePlugin, defineLoss, PLUGIN_API_VERSION, tf, z } from '@rwseg/core/plugin';

const meanAbsoluteError = defineLoss({
  name: 'mean-absolute-error',
  description: 'mean |p - y| over samples, pixels and classes',
  options: z.object({ scale: z.number().positive().default(1) }),
  create: ({ scale }) => ({
    name: 'mean-absolute-error',
    requiredMaps: [],
    compute: ({ probs, target }) => tf.mul(scale, tf.mean(tf.abs(tf.sub(probs, target)))),
  }),
});

export default definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'rwseg-plugin-mae', losses: [meanAbsoluteError] });
`;

test('a third-party loss plugin in a temporary folder loads through createRegistry and trains a layers model for a step', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rwseg-loss-plugin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pluginDir = path.join(dir, 'rwseg-plugin-mae');
  mkdirSync(path.join(dir, 'node_modules', '@rwseg'), { recursive: true });
  symlinkSync(CORE_DIR, path.join(dir, 'node_modules', '@rwseg', 'core'), 'dir');
  mkdirSync(pluginDir);
  writeFileSync(
    path.join(pluginDir, 'package.json'),
    JSON.stringify({ name: 'rwseg-plugin-mae', version: '1.0.0', type: 'module', main: 'main.js' }),
  );
  writeFileSync(path.join(pluginDir, 'main.js'), THIRD_PARTY_SOURCE);

  const registry = await userRegistry({ plugins: [pluginDir] });
  t.true(registry.hasLoss('mean-absolute-error'));
  const loss = buildLoss(registry, {
    combine: [{ loss: 'mean-absolute-error', options: { scale: 2 } }, { loss: 'rrw' }],
    weights: 'gradual',
  });

  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
    ],
  });
  const labels = [Array.from({ length: 36 }, (_, i) => (i % 6 < 2 ? 0 : i % 6 < 4 ? 1 : 2))];
  const image = tf.tensor(
    labels[0]!.map((l) => l - 1),
    [1, 6, 6, 1],
  );
  const fixed = inputFor(registry, loss.requiredMaps, labels, [6, 6], 3, tf.zeros([1, 6, 6, 3]));
  const value = () => loss.compute({ ...fixed, probs: model.apply(image) as tf.Tensor });
  const before = scalar(value());
  const optimizer = tf.train.adam(0.1);
  const cost = optimizer.minimize(() => value() as tf.Scalar, true);
  t.true(Math.abs(scalar(cost!) - before) < 1e-6, 'the step computes the same loss');
  const after = scalar(value());
  t.true(after < before - 1e-3, `loss went from ${before} to ${after}`);
});
