import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createRegistry,
  definePlugin,
  defineLoss,
  defineMap,
  isRwsegError,
  PLUGIN_API_VERSION,
  PluginLoader,
  PluginRegistry,
  RwsegError,
  tf,
  z,
  useBackend,
  type RwsegPlugin,
} from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const toyMap = defineMap({
  name: 'toy-map',
  description: 'ones where the label is the class',
  options: z.object({ scale: z.number().positive().default(1) }),
  generate: ({ labels, numClasses }, { scale }) => {
    const out = new Float32Array(labels.length * numClasses);
    for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]!] = scale;
    return out;
  },
});

const toyLoss = defineLoss({
  name: 'toy-loss',
  description: 'mean of probs times the toy map',
  options: z.object({ scale: z.number().positive().default(2), reduction: z.enum(['mean', 'sum']).default('mean') }),
  create: (options, tools) => {
    const map = tools.requestMap('toy-map', { scale: options.scale });
    return {
      name: 'toy-loss',
      requiredMaps: [map],
      compute: ({ probs, maps }) =>
        options.reduction === 'mean' ? tf.mean(tf.mul(probs, maps[map.key]!)) : tf.sum(tf.mul(probs, maps[map.key]!)),
    };
  },
});

const toyPlugin = (overrides: Partial<RwsegPlugin> = {}): RwsegPlugin =>
  definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'toy', losses: [toyLoss], maps: [toyMap], ...overrides });

function registryWithToy(): PluginRegistry {
  const registry = new PluginRegistry();
  registry.register(toyPlugin(), 'test');
  return registry;
}

test('resolves a loss by name with defaults, and it declares the map it needs with that map’s options', (t) => {
  const registry = registryWithToy();
  const loss = registry.createLoss('toy-loss');
  t.is(loss.requiredMaps.length, 1);
  t.is(loss.requiredMaps[0]!.map, 'toy-map');
  t.deepEqual(loss.requiredMaps[0]!.options, { scale: 2 });
  // The loader computes the map through the registry and the loss consumes it by key.
  const generator = registry.createMapGenerator('toy-map', loss.requiredMaps[0]!.options);
  t.is(generator.key, loss.requiredMaps[0]!.key);
  const map = generator.generate({ labels: [0, 1], shape: [2], numClasses: 2, spacing: [1] });
  t.deepEqual([...map], [2, 0, 0, 2]);
  const value = loss.compute({
    probs: tf.tensor([
      [0.5, 0.5],
      [0.25, 0.75],
    ]),
    target: tf.tensor([
      [1, 0],
      [0, 1],
    ]),
    maps: { [generator.key]: tf.tensor(map, [2, 2]) },
    context: { epoch: 0 },
  });
  t.true(Math.abs((value.dataSync()[0] as number) - (0.5 * 2 + 0.75 * 2) / 4) < 1e-7);
});

test('map request keys do not depend on option order', (t) => {
  const registry = registryWithToy();
  t.is(registry.requestMap('toy-map', { scale: 3 }).key, registry.requestMap('toy-map', { scale: 3 }).key);
  t.not(registry.requestMap('toy-map', { scale: 3 }).key, registry.requestMap('toy-map', { scale: 4 }).key);
});

test('an unknown loss or map name is rejected, listing the known names', (t) => {
  const registry = registryWithToy();
  const loss = t.throws(() => registry.createLoss('dcie'), { instanceOf: RwsegError });
  t.is(loss.code, 'UNKNOWN_NAME');
  t.regex(loss.message, /unknown loss 'dcie'; registered losses: toy-loss/);
  const map = t.throws(() => registry.createMapGenerator('rrw'), { instanceOf: RwsegError });
  t.regex(map.message, /unknown map 'rrw'; registered maps: toy-map/);
});

test('a second plugin registering the same loss name is rejected, naming both plugins', (t) => {
  const registry = registryWithToy();
  const error = t.throws(() => registry.register(toyPlugin({ name: 'other', maps: [] }), '/tmp/other'), {
    instanceOf: RwsegError,
  });
  t.is(error.code, 'DUPLICATE_NAME');
  t.regex(
    error.message,
    /loss 'toy-loss' from plugin 'other' \(\/tmp\/other\) is already registered by plugin 'toy' \(test\)/,
  );
  // Nothing of the rejected plugin is half-registered.
  t.deepEqual(
    registry.plugins.map((p) => p.name),
    ['toy'],
  );
});

test('a plugin that registers the same map twice itself is rejected', (t) => {
  const registry = new PluginRegistry();
  const error = t.throws(() => registry.register(toyPlugin({ maps: [toyMap, toyMap] }), 'x'), {
    instanceOf: RwsegError,
  });
  t.is(error.code, 'DUPLICATE_NAME');
  t.regex(error.message, /map 'toy-map'.*already registered by plugin 'toy' itself/);
});

test('registering the same plugin twice is rejected', (t) => {
  const registry = registryWithToy();
  const error = t.throws(() => registry.register(toyPlugin(), 'again'), { instanceOf: RwsegError });
  t.regex(error.message, /plugin 'toy' is registered twice: from test and from again/);
});

test('options that fail the schema name the plugin, the loss and the option', (t) => {
  const registry = registryWithToy();
  const wrongType = t.throws(() => registry.createLoss('toy-loss', { scale: 'big' }), { instanceOf: RwsegError });
  t.is(wrongType.code, 'INVALID_OPTIONS');
  t.regex(wrongType.message, /loss 'toy-loss' \(plugin toy\): option 'scale': /);
  t.deepEqual(wrongType.details.options, ['scale']);
  const negative = t.throws(() => registry.createLoss('toy-loss', { scale: -1 }), { instanceOf: RwsegError });
  t.regex(negative.message, /option 'scale'.*(>0|positive|greater)/i);
  const badEnum = t.throws(() => registry.createLoss('toy-loss', { reduction: 'median' }), { instanceOf: RwsegError });
  t.regex(badEnum.message, /option 'reduction'/);
  const unknown = t.throws(() => registry.createLoss('toy-loss', { sacle: 2 }), { instanceOf: RwsegError });
  t.regex(unknown.message, /unknown option 'sacle'; known options: scale, reduction/);
  const notObject = t.throws(() => registry.lossOptions('toy-loss', [1] as unknown as Record<string, unknown>), {
    instanceOf: RwsegError,
  });
  t.regex(notObject.message, /options must be an object, got an array/);
});

test('a map’s options are validated when a loss requests it, naming the map', (t) => {
  const registry = registryWithToy();
  const error = t.throws(() => registry.requestMap('toy-map', { scale: 0 }), { instanceOf: RwsegError });
  t.regex(error.message, /map 'toy-map' \(plugin toy\): option 'scale'/);
});

test('a plugin with an unsupported API version is refused', (t) => {
  const registry = new PluginRegistry();
  const error = t.throws(() => registry.register(toyPlugin({ apiVersion: 99 }), 'pkg-x'), { instanceOf: RwsegError });
  t.is(error.code, 'UNSUPPORTED_API_VERSION');
  t.regex(error.message, /plugin 'toy' \(pkg-x\) declares plugin API version 99, but this rwseg supports version 1/);
});

test('malformed plugin objects are refused naming the first wrong field', (t) => {
  const registry = new PluginRegistry();
  const cases: [unknown, RegExp][] = [
    [null, /expected an object, got null/],
    [{ name: 'x' }, /'apiVersion' must be a number/],
    [{ apiVersion: 1 }, /'name' must be a non-empty string/],
    [{ apiVersion: 1, name: 'x', losses: {} }, /'losses' must be an array/],
    [
      { apiVersion: 1, name: 'x', losses: [{ ...toyLoss, name: 'Bad Name' }] },
      /losses\[0\]\.name must be a lower-case name/,
    ],
    [
      { apiVersion: 1, name: 'x', maps: [{ ...toyMap, description: undefined }] },
      /maps\[0\] \('toy-map'\) needs a 'description'/,
    ],
    [
      { apiVersion: 1, name: 'x', maps: [{ ...toyMap, options: { scale: 1 } }] },
      /needs 'options', a zod object schema/,
    ],
    [{ apiVersion: 1, name: 'x', losses: [{ ...toyLoss, create: undefined }] }, /needs a 'create' function/],
    [{ apiVersion: 1, name: 'x', maps: [{ ...toyMap, generate: 3 }] }, /needs a 'generate' function/],
  ];
  for (const [candidate, message] of cases) {
    const error = t.throws(() => registry.register(candidate as RwsegPlugin, 'src'), { instanceOf: RwsegError });
    t.is(error.code, 'INVALID_PLUGIN');
    t.regex(error.message, message);
  }
});

test('describe() lists options as JSON Schema with defaults', (t) => {
  const registry = registryWithToy();
  const info = registry.describe('loss', 'toy-loss');
  t.is(info.plugin, 'toy');
  const properties = info.options.properties as Record<string, { default?: unknown; type?: string }>;
  t.is(properties.scale!.default, 2);
  t.is(properties.scale!.type, 'number');
  t.deepEqual(
    registry.describeAll().map((c) => `${c.kind}:${c.name}`),
    ['loss:toy-loss', 'map:toy-map'],
  );
});

function writePlugin(dir: string, body: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: path.basename(dir), type: 'module', exports: { '.': { import: './main.js' } } }),
  );
  writeFileSync(path.join(dir, 'main.js'), body);
}

test('the loader loads a plugin from a local path and reports load failures clearly', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'rwseg-loader-'));
  writePlugin(
    path.join(root, 'good'),
    `export default { apiVersion: ${PLUGIN_API_VERSION}, name: 'good', losses: [], maps: [] };`,
  );
  writePlugin(path.join(root, 'nodefault'), `export const plugin = {};`);
  writePlugin(path.join(root, 'throws'), `throw new Error('boom at import');`);
  writePlugin(path.join(root, 'oldapi'), `export default { apiVersion: 0, name: 'old' };`);
  const loader = new PluginLoader();

  const good = await loader.load('./good', root);
  t.is(good.plugin.name, 'good');
  t.is(good.source, path.join(root, 'good'));

  const missing = await t.throwsAsync(loader.load('./absent', root), { instanceOf: RwsegError });
  t.is(missing.code, 'PLUGIN_LOAD_FAILED');
  t.regex(missing.message, /absent': no such file or directory/);

  const noDefault = await t.throwsAsync(loader.load('./nodefault', root), { instanceOf: RwsegError });
  t.is(noDefault.code, 'INVALID_PLUGIN');
  t.regex(noDefault.message, /nodefault has no valid default export: the module has no default export/);

  const throwing = await t.throwsAsync(loader.load('./throws', root), { instanceOf: RwsegError });
  t.is(throwing.code, 'PLUGIN_LOAD_FAILED');
  t.regex(throwing.message, /cannot load plugin '\.\/throws': boom at import/);

  const notInstalled = await t.throwsAsync(loader.load('rwseg-plugin-that-does-not-exist', root), {
    instanceOf: RwsegError,
  });
  t.regex(notInstalled.message, /cannot load plugin 'rwseg-plugin-that-does-not-exist'/);

  // The API version check happens at registration, after a successful load.
  const old = await loader.load('./oldapi', root);
  const error = t.throws(() => new PluginRegistry().register(old.plugin, old.source));
  t.true(isRwsegError(error, 'UNSUPPORTED_API_VERSION'));
});

test('createRegistry loads built-ins, package.json plugins and explicit ones, by package name or path', async (t) => {
  const project = mkdtempSync(path.join(tmpdir(), 'rwseg-project-'));
  writePlugin(
    path.join(project, 'node_modules', 'rwseg-plugin-by-name'),
    `export default { apiVersion: 1, name: 'by-name' };`,
  );
  writePlugin(path.join(project, 'local-plugin'), `export default { apiVersion: 1, name: 'by-path' };`);
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'user-project', rwseg: { plugins: ['rwseg-plugin-by-name'] } }),
  );
  const registry = await createRegistry({ baseDir: project, plugins: ['./local-plugin', toyPlugin()] });
  const names = registry.plugins.map((p) => p.name);
  t.true(names.includes('@rwseg/plugin-loss-region-wise'), 'built-ins resolve from rwseg’s own install');
  t.deepEqual(names.slice(-3), ['by-name', 'by-path', 'toy']);
  t.true(registry.hasLoss('toy-loss'));
});

test('a malformed rwseg section in package.json is a clear configuration error', async (t) => {
  const project = mkdtempSync(path.join(tmpdir(), 'rwseg-project-'));
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ rwseg: { plugins: 'not-a-list' } }));
  const error = await t.throwsAsync(createRegistry({ baseDir: project, builtins: false }), { instanceOf: RwsegError });
  t.is(error.code, 'INVALID_CONFIG');
  t.regex(error.message, /"rwseg.plugins" must be an array/);
});
