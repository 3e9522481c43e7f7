/** Schedules, loss configurations (YAML included), combinations and deep supervision. */
import test from 'ava';
import { parse as parseYaml } from 'yaml';
import {
  batchLossInputs,
  buildLoss,
  deepSupervision,
  deepSupervisionWeights,
  isRwsegError,
  parseLossConfig,
  scheduleAt,
  tf,
  useBackend,
  type CombinedLoss,
  type Loss,
  type Batch,
  type LossInput,
  type PluginRegistry,
  type RwsegError,
  type ScheduleSpec,
} from '../../src/index.js';
import { lossRegistry, mapsFor, oneHot, randomLabels, scalar, seededRandom } from '../helpers/losses.js';

let registry: PluginRegistry;
test.before(async () => {
  await useBackend('cpu');
  registry = await lossRegistry();
});

const EPOCHS = [0, 1, 50, 99, 150];
const paperAlpha = (e: number) => Math.max((100 - e) / 100, 0.01);
const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) < tol;

test('schedules at epochs 0, 1, 50, 99, 150: constant, step, linear, cosine, gradual and one-minus', (t) => {
  const cases: [ScheduleSpec, (e: number) => number][] = [
    [0.3, () => 0.3],
    [{ kind: 'constant', value: 2 }, () => 2],
    [{ kind: 'step', values: [1, 0.5, 0.1], milestones: [1, 99] }, (e) => (e < 1 ? 1 : e < 99 ? 0.5 : 0.1)],
    [{ kind: 'gradual' }, paperAlpha],
    [{ kind: 'linear', start: 1, end: 0, epochs: 100, floor: 0.01 }, paperAlpha],
    [{ kind: 'linear', start: 0, end: 2, epochs: 50 }, (e) => 2 * Math.min(e / 50, 1)],
    [
      { kind: 'linear', start: 1, end: 0, epochs: 100, shape: 'cosine' },
      (e) => (1 + Math.cos((Math.PI * Math.min(e, 100)) / 100)) / 2,
    ],
    [{ kind: 'one-minus', of: { kind: 'gradual' } }, (e) => 1 - paperAlpha(e)],
  ];
  for (const [spec, expected] of cases) {
    for (const e of EPOCHS)
      t.true(
        close(scheduleAt(spec, e), expected(e)),
        `${JSON.stringify(spec)} at ${e}: ${scheduleAt(spec, e)} vs ${expected(e)}`,
      );
  }
  // The paper's values, spelled out.
  t.deepEqual(
    EPOCHS.map((e) => Number(scheduleAt({ kind: 'gradual' }, e).toFixed(12))),
    [1, 0.99, 0.5, 0.01, 0.01],
  );
  t.true(
    isRwsegError(
      t.throws(() => scheduleAt(1, -1)),
      'INVALID_INPUT',
    ),
  );
});

test('configurations are validated with the path of the problem named', (t) => {
  const cases: [unknown, RegExp][] = [
    [
      { combine: [{ loss: 'dice' }, { los: 'rrw' }] },
      /^loss\.combine\[1\]: expected a 'loss' or a 'combine' key, got keys 'los'/,
    ],
    [
      { combine: [{ loss: 'dice' }, { loss: 'rrw' }], weights: [1] },
      /^loss\.weights: has 1 entries but combine has 2 losses/,
    ],
    [
      { combine: [{ loss: 'dice' }, { loss: 'rrw' }, 'focal'], weights: 'gradual' },
      /^loss\.weights: 'gradual' weighs exactly two losses/,
    ],
    [
      { combine: [{ loss: 'dice' }, { loss: 'rrw' }], weights: [1, { kind: 'linear', start: 1 }] },
      /^loss\.weights\[1\]\.end: .*expected number/,
    ],
    [
      { combine: ['dice', 'rrw'], weights: 'gradul' },
      /^loss\.weights: expected 'equal', 'gradual' or one number or schedule per loss, got "gradul"/,
    ],
    [
      { combine: ['dice', 'rrw'], weights: [{ kind: 'one-minus', of: { kind: 'cosine' } }, 1] },
      /^loss\.weights\[0\]\.of: expected a number or a schedule \{ kind: constant \| step/,
    ],
    [
      { combine: ['dice'], weights: [{ kind: 'step', values: [1], milestones: [3] }] },
      /^loss\.weights\[0\]\.values: step schedule needs one more value than milestones/,
    ],
    [{ combine: [] }, /^loss\.combine: /],
    [{ loss: 'dice', option: {} }, /^loss: .*'option'/],
    [{ combine: [{ combine: [{ loss: 3 }] }] }, /^loss\.combine\[0\]\.combine\[0\]\.loss: /],
    [[{ loss: 'dice' }], /^loss: expected a loss name, .* got an array/],
  ];
  for (const [config, pattern] of cases) {
    const error = t.throws(() => parseLossConfig(config), undefined, JSON.stringify(config));
    t.true(isRwsegError(error, 'INVALID_CONFIG'));
    t.regex(error!.message, pattern);
  }
  const unknown = t.throws(() => buildLoss(registry, { combine: [{ loss: 'dice' }, { loss: 'rw' }] }));
  t.true(isRwsegError(unknown, 'UNKNOWN_NAME'));
  t.regex(unknown!.message, /^loss\.combine\[1\]: unknown loss 'rw'/);
  const option = t.throws(() => buildLoss(registry, { combine: [{ loss: 'focal', options: { gamma: -2 } }, 'dice'] }));
  t.regex(option!.message, /^loss\.combine\[0\]: loss 'focal' \(plugin @rwseg\/plugin-loss-focal\): option 'gamma'/);
  t.is((option as RwsegError).details.configPath, 'loss.combine[0]');
});

/** B = 2 random 4 x 4 label maps with their target, probabilities and every map a config may ask for. */
function batchFor(loss: Loss, seed: number, epoch = 0): LossInput {
  const random = seededRandom(seed);
  const labels = [randomLabels(random, 16, 3), randomLabels(random, 16, 3)];
  const maps = Object.fromEntries(
    loss.requiredMaps.map((r) => [r.key, mapsFor(registry, r.map, r.options, labels, [4, 4], 3)]),
  );
  const probs = tf.softmax(
    tf.tensor(
      Array.from({ length: 96 }, () => random() * 4 - 2),
      [2, 4, 4, 3],
    ),
  );
  return { probs, target: oneHot(labels, [4, 4], 3), maps, context: { epoch } };
}

test("the paper's eight combinations parse from YAML and compute alpha(e) A + (1 - alpha(e)) B or A + B", (t) => {
  const rwLosses: Record<string, [string, Record<string, unknown>]> = {
    // The paper's Boundary runs: the RW loss over the authors' boundary-rw map, all classes, divided by B*K*N.
    boundary: ['region-wise', { map: 'boundary-rw' }],
    rrw: ['rrw', {}],
  };
  let built = 0;
  for (const base of ['dice', 'cross-entropy']) {
    for (const [rwName, [rwLoss, rwOptions]] of Object.entries(rwLosses)) {
      for (const weights of ['equal', 'gradual']) {
        const options =
          Object.keys(rwOptions).length === 0 ? '' : `\n      options:\n        map: ${String(rwOptions.map)}`;
        const yaml = `# ${base} + ${rwName}, ${weights}\nloss:\n  combine:\n    - loss: ${base}\n    - loss: ${rwLoss}${options}\n  weights: ${weights}\n`;
        const loss = buildLoss(registry, (parseYaml(yaml) as { loss: unknown }).loss) as CombinedLoss;
        const a = registry.createLoss(base);
        const b = registry.createLoss(rwLoss, rwOptions);
        t.deepEqual(
          loss.requiredMaps.map((r) => r.key),
          b.requiredMaps.map((r) => r.key),
        );
        for (const epoch of [0, 50, 150]) {
          const input = batchFor(loss, 31, epoch);
          const alpha = weights === 'equal' ? 1 : paperAlpha(epoch);
          const beta = weights === 'equal' ? 1 : 1 - paperAlpha(epoch);
          const expected = alpha * scalar(a.compute(input)) + beta * scalar(b.compute(input));
          t.true(Math.abs(scalar(loss.compute(input)) - expected) < 1e-6, `${base}+${rwName} ${weights} at ${epoch}`);
          t.deepEqual(loss.weightsAt(epoch), [alpha, beta]);
        }
        built++;
      }
    }
  }
  t.is(built, 8);
});

test('a combination needs each map once: requiredMaps is the union by key, and nesting and schedules compose', (t) => {
  const yaml = `
combine:
  - loss: rrw
  - loss: region-wise            # the same map as rrw: one key
  - loss: boundary
    options: { map: boundary-rw, includeBackground: true }
  - combine: [{ loss: region-wise, options: { map: boundary-rw } }, dice]
    weights: [{ kind: step, values: [0, 1], milestones: [10] }, 0.5]
weights: [1, 2, { kind: linear, start: 0, end: 1, epochs: 10 }, 3]
`;
  const loss = buildLoss(registry, parseYaml(yaml)) as CombinedLoss;
  t.deepEqual(loss.requiredMaps.map((r) => r.map).sort(), ['boundary-rw', 'rrw']);
  const parts = [
    'rrw',
    ['region-wise', {}],
    ['boundary', { map: 'boundary-rw', includeBackground: true }],
    ['region-wise', { map: 'boundary-rw' }],
    ['dice', {}],
  ] as const;
  const values = (input: LossInput) =>
    parts.map((p) =>
      scalar((typeof p === 'string' ? registry.createLoss(p) : registry.createLoss(p[0], { ...p[1] })).compute(input)),
    );
  for (const epoch of [0, 5, 20]) {
    const input = batchFor(loss, 5, epoch);
    const [rrw, rw, boundary, boundaryRw, dice] = values(input);
    const inner = (epoch < 10 ? 0 : 1) * boundaryRw! + 0.5 * dice!;
    const expected = rrw! + 2 * rw! + Math.min(epoch / 10, 1) * boundary! + 3 * inner;
    t.true(Math.abs(scalar(loss.compute(input)) - expected) < 1e-5, `epoch ${epoch}`);
  }
  const notScalar = buildLoss(registry, { combine: [{ loss: 'dice', options: { reduction: 'none' } }, 'rrw'] });
  const error = t.throws(() => notScalar.compute(batchFor(notScalar, 1)));
  t.regex(error!.message, /^loss\.combine\[0\]: loss 'dice' returned shape \[2, 3\]; combinations need scalars/);
});

test('deep supervision: nnU-Net weights 1/2^i with the lowest scale at 0, normalized; one input per scale', (t) => {
  t.deepEqual(deepSupervisionWeights(1), [1]);
  t.deepEqual(deepSupervisionWeights(2), [1, 0]);
  const five = deepSupervisionWeights(5);
  [1, 0.5, 0.25, 0.125, 0].forEach((w, i) => t.true(close(five[i]!, w / 1.875)));

  const loss = buildLoss(registry, { combine: ['dice', 'rrw'] });
  const supervised = deepSupervision(loss, { scales: 3 });
  t.deepEqual(supervised.requiredMaps, loss.requiredMaps);
  // Scale i's labels are the full-resolution labels nearest-downsampled by 2^i; its maps come from them.
  const random = seededRandom(8);
  const full = [randomLabels(random, 64, 3)];
  const inputs = [8, 4, 2].map((size) => {
    const step = 8 / size;
    const labels = [
      Array.from({ length: size * size }, (_, i) => full[0]![Math.floor(i / size) * step * 8 + (i % size) * step]!),
    ];
    const maps = Object.fromEntries(
      loss.requiredMaps.map((r) => [r.key, mapsFor(registry, r.map, r.options, labels, [size, size], 3)]),
    );
    const probs = tf.softmax(tf.randomNormal([1, size, size, 3], 0, 1, 'float32', size));
    return { probs, target: oneHot(labels, [size, size], 3), maps, context: { epoch: 0 } };
  });
  const expected = (scalar(loss.compute(inputs[0]!)) * 1 + scalar(loss.compute(inputs[1]!)) * 0.5) / 1.5;
  t.true(Math.abs(scalar(supervised.compute(inputs)) - expected) < 1e-6);
  const custom = deepSupervision(loss, { scales: 3, weights: [2, 1, 1] });
  t.deepEqual(custom.weights, [0.5, 0.25, 0.25]);
  const expectedCustom = inputs.reduce((acc, input, i) => acc + custom.weights[i]! * scalar(loss.compute(input)), 0);
  t.true(Math.abs(scalar(custom.compute(inputs)) - expectedCustom) < 1e-6);

  t.regex(
    t.throws(() => supervised.compute(inputs.slice(0, 2)))!.message,
    /expected 3 inputs \(one per scale\), got 2/,
  );
  t.regex(
    t.throws(() => deepSupervision(loss, { scales: 2, weights: [1] }))!.message,
    /option 'weights' has 1 values but there are 2 scales/,
  );
  t.regex(t.throws(() => deepSupervision(loss, { scales: 0 }))!.message, /option 'scales' must be an integer >= 1/);
});

test('batchLossInputs wraps each scale of a loader batch (target and maps by key) for the deep-supervised loss', (t) => {
  const loss = buildLoss(registry, { combine: ['dice', 'rrw'] });
  const random = seededRandom(12);
  const scales = [4, 2].map((size) => {
    const labels = [randomLabels(random, size * size, 3), randomLabels(random, size * size, 3)];
    const maps = Object.fromEntries(
      loss.requiredMaps.map((r) => [
        r.key,
        mapsFor(registry, r.map, r.options, labels, [size, size], 3).dataSync() as Float32Array,
      ]),
    );
    return {
      shape: [size, size],
      labels: Int32Array.from(labels.flat()),
      target: oneHot(labels, [size, size], 3).dataSync() as Float32Array,
      maps,
    };
  });
  const batch: Batch = {
    size: 2,
    image: new Float32Array(32),
    channels: 1,
    numClasses: 3,
    spacing: [1, 1],
    scales,
    caseIds: ['a', 'b'],
  };
  const probs = [4, 2].map((size) => tf.softmax(tf.randomNormal([2, size, size, 3], 0, 1, 'float32', size)));
  const inputs = batchLossInputs(batch, probs, loss.requiredMaps, { epoch: 3 });
  t.deepEqual(
    inputs.map((i) => i.target.shape),
    [
      [2, 4, 4, 3],
      [2, 2, 2, 3],
    ],
  );
  t.deepEqual([...inputs[1]!.target.dataSync()], [...scales[1]!.target]);
  const value = scalar(deepSupervision(loss, { scales: 2, weights: [2, 1] }).compute(inputs));
  t.true(Math.abs(value - (2 * scalar(loss.compute(inputs[0]!)) + scalar(loss.compute(inputs[1]!))) / 3) < 1e-6);
  const missing = t.throws(() =>
    batchLossInputs({ ...batch, scales: [{ ...scales[0]!, maps: {} }] }, probs.slice(0, 1), loss.requiredMaps, {
      epoch: 0,
    }),
  );
  t.regex(missing!.message, /batch scale 0 lacks map 'rrw'/);
  t.regex(
    t.throws(() => batchLossInputs({ ...batch, scales: scales.slice(0, 1) }, probs, loss.requiredMaps, { epoch: 0 }))!
      .message,
    /2 outputs but the batch holds targets for 1 scales/,
  );
});
