/** What every built-in loss shares: gradients, the option vocabulary, and errors naming plugin and option. */
import test from 'ava';
import {
  finiteDifferenceLogitGradient,
  isRwsegError,
  logitGradient,
  tf,
  useBackend,
  type PluginRegistry,
} from '../../src/index.js';
import { GRADIENT_CASES, gradientCase, lossRegistry, maxAbsDiff, scalar } from '../helpers/losses.js';

let registry: PluginRegistry;
test.before(async () => {
  await useBackend('cpu');
  registry = await lossRegistry();
});

const K = 3;

for (const [name, options] of GRADIENT_CASES) {
  test(`${name} ${JSON.stringify(options)}: gradient wrt logits through softmax matches central finite differences`, (t) => {
    const { loss, logits, rest } = gradientCase(registry, name, options, 17);
    const analytic = logitGradient(loss, logits, rest);
    const numeric = finiteDifferenceLogitGradient(loss, logits, rest);
    const scale = Math.max(...analytic.map(Math.abs));
    t.true(scale > 1e-4, 'the gradient is not trivially zero');
    t.true(
      maxAbsDiff(analytic, numeric) < 2e-3 * Math.max(scale, 1e-2),
      `max diff ${maxAbsDiff(analytic, numeric)}, scale ${scale}`,
    );
  });
}

test('every loss: reduction none gives [B, K] terms, sum adds them, includeBackground false drops column 0, and a weight of the wrong length names plugin and option', (t) => {
  // Generalized Dice combines the classes inside its ratio (one term per sample) and dc-and-ce / dc-and-bce are
  // scalar combinations: their own tests cover their reductions.
  for (const name of registry.lossNames().filter((n) => n !== 'generalized-dice' && !n.startsWith('dc-and-'))) {
    // Map keys depend on the map's options only, so the default loss's maps serve every variant below.
    const { logits, rest } = gradientCase(registry, name, {}, 3);
    const { maps } = rest;
    const probs = tf.softmax(logits);
    // Lovász-softmax pools the batch by default, as smp does; per image it has [B, K] terms.
    const own = name === 'lovasz-softmax' ? { perImage: true } : {};
    const none = registry.createLoss(name, { ...own, reduction: 'none', includeBackground: true });
    const terms = none.compute({ ...rest, maps, probs });
    t.deepEqual(terms.shape, [2, K], name);
    const sum = scalar(
      registry
        .createLoss(name, { ...own, reduction: 'sum', includeBackground: true })
        .compute({ ...rest, maps, probs }),
    );
    t.true(Math.abs(sum - scalar(tf.sum(terms))) < 1e-5, name);
    const foreground = registry
      .createLoss(name, { ...own, reduction: 'none', includeBackground: false })
      .compute({ ...rest, maps, probs });
    t.deepEqual(foreground.arraySync(), tf.slice(terms, [0, 1], [2, K - 1]).arraySync(), name);
    const wrong = registry.createLoss(name, { weight: [1, 1, 1, 1] });
    const error = t.throws(() => wrong.compute({ ...rest, maps, probs }), undefined, name);
    t.true(isRwsegError(error, 'INVALID_OPTIONS'), name);
    t.regex(
      error!.message,
      new RegExp(
        `loss '${name}' \\(plugin @rwseg/plugin-loss-[a-z-]+\\): option 'weight' has 4 values but the input has 3 classes`,
      ),
    );
  }
});

test('bad options: unknown loss, unknown option, wrong type and negative gamma are RwsegErrors naming plugin and option', (t) => {
  const unknown = t.throws(() => registry.createLoss('dicee'));
  t.true(isRwsegError(unknown, 'UNKNOWN_NAME'));
  t.regex(unknown!.message, /unknown loss 'dicee'; registered losses: .*dice/);
  const wrongType = t.throws(() => registry.createLoss('dice', { smooth: 'a lot' }));
  t.true(isRwsegError(wrongType, 'INVALID_OPTIONS'));
  t.regex(wrongType!.message, /loss 'dice' \(plugin @rwseg\/plugin-loss-dice\): option 'smooth'/);
  const reduction = t.throws(() => registry.createLoss('cross-entropy', { reduction: 'average' }));
  t.regex(reduction!.message, /loss 'cross-entropy' \(plugin @rwseg\/plugin-loss-cross-entropy\): option 'reduction'/);
  const gamma = t.throws(() => registry.createLoss('focal', { gamma: -1 }));
  t.true(isRwsegError(gamma, 'INVALID_OPTIONS'));
  t.regex(gamma!.message, /loss 'focal' \(plugin @rwseg\/plugin-loss-focal\): option 'gamma'/);
  const extra = t.throws(() => registry.createLoss('rrw', { map: 'boundary' }));
  t.regex(extra!.message, /loss 'rrw' \(plugin @rwseg\/plugin-loss-region-wise\): unknown option 'map'/);
  const weight = t.throws(() => registry.createLoss('dice', { weight: [1, -2, 1] }));
  t.regex(weight!.message, /option 'weight\.1'/);
  const frequency = t.throws(() => registry.createLoss('weighted-cross-entropy', { weight: 'frequencies' }));
  t.regex(frequency!.message, /plugin @rwseg\/plugin-loss-cross-entropy\): option 'weight'/);
});

test('every loss lists its options with their defaults (what `rwseg plugins --json` shows)', (t) => {
  const described = Object.fromEntries(
    registry
      .describeAll()
      .filter((d) => d.kind === 'loss')
      .map((d) => [d.name, d.options as { properties: Record<string, { default?: unknown }> }]),
  );
  t.deepEqual(Object.keys(described).sort(), [
    'boundary',
    'cross-entropy',
    'dc-and-bce',
    'dc-and-ce',
    'dice',
    'focal',
    'focal-tversky',
    'generalized-dice',
    'hausdorff-dt',
    'lovasz-softmax',
    'region-wise',
    'rrw',
    'rw-class-balance',
    'tversky',
    'weighted-cross-entropy',
  ]);
  t.is(described.focal!.properties.gamma!.default, 2);
  t.is(described.focal!.properties.alpha!.default, 1);
  t.is(described.dice!.properties.preset!.default, 'region-wise');
  t.is(described.boundary!.properties.includeBackground!.default, false);
  t.is(described.boundary!.properties.map!.default, 'boundary');
  t.is(described['region-wise']!.properties.map!.default, 'rrw');
  t.is(described['weighted-cross-entropy']!.properties.weight!.default, 'frequency');
  for (const [name, schema] of Object.entries(described)) {
    if (!name.startsWith('dc-and-')) t.is(schema.properties.reduction!.default, 'mean', name);
    t.is(schema.properties.validateInputs!.default, true, name);
  }
});

test('3D inputs [B, D, H, W, K] give what the same voxels laid out in 2D give, for every loss', (t) => {
  for (const name of registry.lossNames()) {
    const { loss, logits, rest } = gradientCase(
      registry,
      name,
      name.startsWith('dc-and-') ? {} : { reduction: 'none' },
      29,
    );
    const volume = (x: tf.Tensor) => tf.reshape(x, [2, 3, 1, 3, 3]);
    const flat = loss.compute({ ...rest, probs: tf.softmax(logits) });
    const maps = Object.fromEntries(Object.entries(rest.maps).map(([key, map]) => [key, volume(map)]));
    const deep = loss.compute({
      target: volume(rest.target),
      maps,
      probs: volume(tf.softmax(logits)),
      context: rest.context,
    });
    t.true(maxAbsDiff(flat.dataSync(), deep.dataSync()) < 1e-7, name);
  }
});
