/**
 * The validation loss (training/validation-loss.ts): the run's Loss on the sliding windows validation already
 * predicts, checked against the same Loss computed directly on model.predict of hand-cut windows, with the maps
 * made by the map plugin from the window's labels; and its way into history.jsonl, summary.json and loss.svg.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildLoss,
  buildUNet,
  createProgressWriter,
  createRandom,
  createRegistry,
  diceOnlyMetrics,
  readRunHistory,
  tf,
  train,
  trainingCurveSvgs,
  useBackend,
  validate,
  ValidationLoss,
  type CurveHistoryEntry,
  type PluginRegistry,
  type ValidationCase,
} from '../../src/index.js';
import { diskCase, diskSource, diskValidationCases, oneHot, testLoss, TINY_UNET } from '../helpers/toy-training.js';

const PATCH: [number, number] = [16, 16];
let registry: PluginRegistry;

test.before(async () => {
  await useBackend('cpu');
  registry = await createRegistry({ packageJson: false });
});

/** Rows [r0, r0 + 16) and columns [c0, c0 + 16) of an [h, w] array; outside it (padding) 0. */
function cut(values: ArrayLike<number>, w: number, h: number, r0: number, c0: number): Float32Array {
  const out = new Float32Array(PATCH[0] * PATCH[1]);
  for (let y = 0; y < PATCH[0]; y++) {
    for (let x = 0; x < PATCH[1]; x++) {
      const [r, c] = [r0 + y, c0 + x];
      if (r >= 0 && r < h && c >= 0 && c < w) out[y * PATCH[1] + x] = values[r * w + c]!;
    }
  }
  return out;
}

function diskValidationCase(id: string, seed: number, h: number, w: number): ValidationCase {
  const c = diskCase(createRandom(seed), h, w);
  return {
    id,
    image: { data: c.image, shape: [h, w], spacing: [1, 1] },
    labels: { data: c.labels, shape: [h, w], spacing: [1, 1] },
  };
}

test('the validation loss is the loss of the model output on each validation window, averaged per case', async (t) => {
  // The paper's Gradual combination of cross-entropy and the rectified RW loss: its weights change with the
  // epoch and the rrw part needs a distance map of the labels.
  const loss = buildLoss(registry, { combine: ['cross-entropy', 'rrw'], weights: 'gradual' });
  t.is(loss.requiredMaps.length, 1);
  const maps = loss.requiredMaps.map((m) => registry.createMapGenerator(m.map, { ...m.options }));
  const model = buildUNet(TINY_UNET, PATCH);
  // 16 x 24: two windows (columns 0 and 8, 50% overlap); 12 x 16: one window, two rows of padding each side.
  const cases = [diskValidationCase('wide', 3, 16, 24), diskValidationCase('short', 4, 12, 16)];
  const windows = [
    [
      [0, 0],
      [0, 8],
    ],
    [[-2, 0]],
  ];
  const direct = (epoch: number) =>
    cases.map((c, i) => {
      const [h, w] = c.image.shape as [number, number];
      const values = windows[i]!.map(([r0, c0]) => {
        const labels = Int32Array.from(cut(c.labels.data, w, h, r0!, c0!));
        const map = maps[0]!.generate({ labels, shape: PATCH, numClasses: 2, spacing: [1, 1] });
        return tf.tidy(() => {
          const image = tf.tensor(cut(c.image.data, w, h, r0!, c0!), [1, ...PATCH, 1]);
          const probs = model.predict(image) as tf.Tensor;
          const shape = [1, ...PATCH, 2];
          const target = tf.tensor(oneHot(labels, 2), shape);
          const mapTensors = { [loss.requiredMaps[0]!.key]: tf.tensor(map, shape) };
          return loss.compute({ probs, target, maps: mapTensors, context: { epoch } }).dataSync()[0]!;
        });
      });
      return values.reduce((a, b) => a + b, 0) / values.length;
    });

  const validationLoss = new ValidationLoss({ loss, maps, numClasses: 2 });
  const run = (epoch: number) =>
    validate(model, cases, {
      patch: PATCH,
      numClasses: 2,
      metrics: diceOnlyMetrics,
      loss: { loss: validationLoss, epoch },
    });
  // Epoch 0 fills the map cache; epoch 50 (cross-entropy and rrw weighted 0.5 each) reads it.
  const first = (await run(0)).result;
  const later = (await run(50)).result;
  for (const [result, epoch] of [
    [first, 0],
    [later, 50],
  ] as const) {
    const expected = direct(epoch);
    result.cases.forEach((c, i) => t.true(Math.abs(c.loss! - expected[i]!) < 1e-5, `${c.id} at epoch ${epoch}`));
    const mean = (expected[0]! + expected[1]!) / 2;
    t.true(Math.abs(result.loss! - mean) < 1e-5, `epoch ${epoch}: ${result.loss} vs ${mean}`);
  }
  t.true(Math.abs(first.loss! - later.loss!) > 1e-3, 'the schedule weights change the value');
  model.dispose();
});

test('a 2D model on a 3D case: each slice is a window, its labels and spacing those of the slice', async (t) => {
  const loss = buildLoss(registry, 'rrw');
  const maps = loss.requiredMaps.map((m) => registry.createMapGenerator(m.map, { ...m.options }));
  const model = buildUNet(TINY_UNET, PATCH);
  // Slices along axis 0 of a [3, 16, 16] volume with anisotropic in-plane spacing, which the map must see.
  const slices = [5, 6, 7].map((seed) => diskCase(createRandom(seed), ...PATCH));
  const volume = (key: 'image' | 'labels') => {
    const out = key === 'image' ? new Float32Array(3 * 256) : new Int32Array(3 * 256);
    slices.forEach((c, i) => out.set(c[key], i * 256));
    return out;
  };
  const spacing = [4, 1, 0.5];
  const c: ValidationCase = {
    id: 'volume',
    image: { data: volume('image') as Float32Array, shape: [3, ...PATCH], spacing },
    labels: { data: volume('labels'), shape: [3, ...PATCH], spacing },
  };
  const expected =
    slices
      .map((s) =>
        tf.tidy(() => {
          const shape = [1, ...PATCH, 2];
          const map = maps[0]!.generate({ labels: s.labels, shape: PATCH, numClasses: 2, spacing: [1, 0.5] });
          const probs = model.predict(tf.tensor(s.image, [1, ...PATCH, 1])) as tf.Tensor;
          const input = {
            probs,
            target: tf.tensor(oneHot(s.labels, 2), shape),
            maps: { [loss.requiredMaps[0]!.key]: tf.tensor(map, shape) },
            context: { epoch: 0 },
          };
          return loss.compute(input).dataSync()[0]!;
        }),
      )
      .reduce((a, b) => a + b, 0) / 3;
  const { result } = await validate(model, [c], {
    patch: PATCH,
    sliceAxis: 0,
    numClasses: 2,
    metrics: diceOnlyMetrics,
    loss: { loss: new ValidationLoss({ loss, maps, numClasses: 2 }), epoch: 0 },
  });
  t.true(Math.abs(result.loss! - expected) < 1e-5, `${result.loss} vs ${expected}`);
  model.dispose();
});

test('a 3D model on a 3D case: the loss of each 3D window, cut as the engine cuts it', async (t) => {
  const loss = buildLoss(registry, 'rrw');
  const maps = loss.requiredMaps.map((m) => registry.createMapGenerator(m.map, { ...m.options }));
  const window = [8, 8, 8];
  const model = buildUNet({ ...TINY_UNET, dims: 3, normalization: 'instance' }, window);
  // [8, 8, 12]: two windows along the last axis, starting at 0 and 4; anisotropic spacing for the maps.
  const shape = [8, 8, 12];
  const spacing = [2, 1, 1];
  const rng = createRandom(9);
  const labels = new Int32Array(8 * 8 * 12);
  const image = new Float32Array(labels.length);
  labels.forEach((_, i) => {
    const [z, y, x] = [Math.floor(i / 96), Math.floor(i / 12) % 8, i % 12];
    labels[i] = (2 * (z - 4)) ** 2 + (y - 4) ** 2 + (x - 6) ** 2 <= 9 ? 1 : 0;
    image[i] = labels[i]! + 0.3 * (rng.next() - 0.5);
  });
  const cut3d = <T extends Float32Array | Int32Array>(values: T, x0: number): T => {
    const out = new (values.constructor as new (n: number) => T)(512);
    for (let i = 0; i < 512; i++)
      out[i] = values[Math.floor(i / 64) * 96 + (Math.floor(i / 8) % 8) * 12 + (i % 8) + x0]!;
    return out;
  };
  const perWindow = [0, 4].map((x0) =>
    tf.tidy(() => {
      const windowLabels = cut3d(labels, x0);
      const mapShape = [1, ...window, 2];
      const map = maps[0]!.generate({ labels: windowLabels, shape: window, numClasses: 2, spacing });
      const probs = model.predict(tf.tensor(cut3d(image, x0), [1, ...window, 1])) as tf.Tensor;
      const input = {
        probs,
        target: tf.tensor(oneHot(windowLabels, 2), mapShape),
        maps: { [loss.requiredMaps[0]!.key]: tf.tensor(map, mapShape) },
        context: { epoch: 0 },
      };
      return loss.compute(input).dataSync()[0]!;
    }),
  );
  const expected = (perWindow[0]! + perWindow[1]!) / 2;
  const c: ValidationCase = {
    id: 'ball',
    image: { data: image, shape, spacing },
    labels: { data: labels, shape, spacing },
  };
  const { result } = await validate(model, [c], {
    patch: window,
    numClasses: 2,
    metrics: diceOnlyMetrics,
    loss: { loss: new ValidationLoss({ loss, maps, numClasses: 2 }), epoch: 0 },
  });
  t.true(Math.abs(result.loss! - expected) < 1e-5, `${result.loss} vs ${expected}`);
  model.dispose();
});

test('without a validation loss the result has none', async (t) => {
  const model = buildUNet(TINY_UNET, PATCH);
  const { result } = await validate(model, diskValidationCases(2, 1, PATCH), {
    patch: PATCH,
    numClasses: 2,
    metrics: diceOnlyMetrics,
  });
  t.is(result.loss, undefined);
  t.is(result.cases[0]!.loss, undefined);
  model.dispose();
});

test('training writes the validation loss to history.jsonl and summary.json and plots it beside the loss', async (t) => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'rwseg-valloss-'));
  const result = await train({
    model: buildUNet(TINY_UNET, PATCH),
    loss: testLoss(),
    openData: (_epoch, seed) => diskSource(seed, 2, PATCH),
    epochs: 3,
    iterationsPerEpoch: 2,
    learningRate: 0.01,
    seed: 7,
    outDir,
    validation: {
      cases: diskValidationCases(8, 2, PATCH),
      every: 2,
      patch: PATCH,
      numClasses: 2,
      metrics: diceOnlyMetrics,
    },
  });
  const history = readRunHistory(outDir);
  // Validated at epoch 2 (every 2) and 3 (the last); epoch 1 has neither Dice nor a validation loss.
  t.deepEqual(
    history.map((e) => [e.epoch, e.validation !== undefined, Number.isFinite(e.validationLoss)]),
    [
      [1, false, false],
      [2, true, true],
      [3, true, true],
    ],
  );
  t.false('validationLoss' in history[0]!);
  t.deepEqual(
    result.history.map((e) => e.validationLoss),
    history.map((e) => e.validationLoss),
  );
  const summary = JSON.parse(readFileSync(path.join(outDir, 'summary.json'), 'utf8'));
  const modelEntry = history.find((e) => e.epoch === summary.modelEpoch)!;
  t.is(summary.finalValidation.loss, modelEntry.validationLoss);
  const svg = readFileSync(path.join(outDir, 'plots', 'loss.svg'), 'utf8');
  t.deepEqual(
    [...svg.matchAll(/data-name="([^"]*)"/g)].map((m) => m[1]),
    ['training loss', 'validation loss'],
  );
  t.regex(svg, new RegExp(`best epoch ${summary.bestEpoch} `));
});

test('a history from before the validation loss still plots: the training loss alone', (t) => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'rwseg-valloss-old-'));
  const file = path.join(outDir, 'history.jsonl');
  const classes = [{ classIndex: 1, dice: { mean: 0.5 }, hd95: { mean: 3 } }];
  const lines = [
    { epoch: 1, loss: 0.9, lr: 0.01, gradNorm: 1, seconds: 2 },
    { epoch: 2, loss: 0.7, lr: 0.01, gradNorm: 1, seconds: 2, validation: { meanDice: 0.5, classes } },
  ];
  writeFileSync(file, lines.map((l) => JSON.stringify(l) + '\n').join(''));
  const history = readRunHistory(file);
  t.is(history.length, 2);
  const svg = trainingCurveSvgs(history as unknown as CurveHistoryEntry[])['loss.svg']!;
  t.deepEqual(
    [...svg.matchAll(/data-name="([^"]*)"/g)].map((m) => m[1]),
    ['training loss'],
  );
  t.is([...svg.matchAll(/<text x="[\d.]+" y="[\d.]+">([^<]*)<\/text>/g)].filter((m) => /loss/.test(m[1]!)).length, 1);
  t.regex(svg, /best epoch 2 \(mean Dice 0\.500\)/);
});

test('the epoch progress line ends its validation Dice with the validation loss', (t) => {
  const written: string[] = [];
  const write = createProgressWriter({ write: (s: string) => written.push(s), isTTY: false }, 'run', { now: () => 0 });
  write({ type: 'start', startEpoch: 0, epochs: 2, iterationsPerEpoch: 1 });
  const classes = [{ classIndex: 1, dice: { mean: 0.75, sd: 0, n: 1 } }] as never;
  write({ type: 'epoch', entry: { epoch: 1, loss: 0.5, lr: 0.01, gradNorm: 1, seconds: 1 } });
  const validation = { meanDice: 0.75, classes };
  write({
    type: 'epoch',
    entry: { epoch: 2, loss: 0.4, lr: 0.01, gradNorm: 1, seconds: 1, validationLoss: 0.61234, validation },
  });
  const lines = written.join('').split('\n').filter(Boolean);
  t.regex(lines[1]!, /^run epoch 1\/2 loss 0\.5000 lr \S+ [\d.]+ it\/s ETA \S+$/);
  t.regex(lines[2]!, /^run epoch 2\/2 loss 0\.4000 lr \S+ [\d.]+ it\/s val Dice 1:0\.750 val loss 0\.6123 ETA \S+$/);
});
