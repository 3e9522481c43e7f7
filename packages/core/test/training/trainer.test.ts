import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildUNet,
  diceOnlyMetrics,
  isRwsegError,
  listCheckpoints,
  loadModelDir,
  predictProbabilities,
  readHistory,
  tf,
  TfjsWindowPredictor,
  train,
  useBackend,
} from '../../src/index.js';
import {
  childTrainingOptions,
  diskBatch,
  diskSource,
  diskValidationCases,
  testLoss,
  TINY_UNET,
} from '../helpers/toy-training.js';

test.before(async () => {
  await useBackend('cpu');
});

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'rwseg-train-'));

test('training steps on a fixed batch decrease the loss', async (t) => {
  const batch = diskBatch(11, 2, [16, 16]);
  const losses: number[] = [];
  await train({
    model: buildUNet(TINY_UNET, [16, 16]),
    loss: testLoss(),
    openData: () => ({ next: async () => batch, close: async () => {} }),
    epochs: 1,
    iterationsPerEpoch: 12,
    learningRate: 0.01,
    schedule: { name: 'constant' },
    seed: 1,
    outDir: tempDir(),
    onEvent: (e) => {
      if (e.type === 'iteration') losses.push(e.loss);
    },
  });
  t.is(losses.length, 12);
  t.true(losses.at(-1)! < 0.7 * losses[0]!, `loss went ${losses[0]} -> ${losses.at(-1)}`);
});

// Serial: concurrent tests would block this process's event loop with tensor work while it watches the child.
test.serial(
  'a run killed with -9 resumes from its last checkpoint and ends where an uninterrupted run ends',
  async (t) => {
    const outDir = tempDir();
    // The child pauses (test-only hook) once the checkpoint of epoch 3 is on disk, so the kill lands at a known point.
    const pausedAt = 3;
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../helpers/train-child.js', import.meta.url)), outDir, '8'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, RWSEG_TEST_PAUSE_AFTER_EPOCH: String(pausedAt) },
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    const marker = path.join(outDir, `test-paused-after-epoch-${pausedAt}`);
    const deadline = Date.now() + 120_000;
    while (!existsSync(marker) && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    t.is(child.exitCode, null, `the child was still running when paused; its stderr: ${stderr}`);
    child.kill('SIGKILL');
    await exited;
    t.true(existsSync(marker), `the child reached the end of epoch ${pausedAt}; its stderr: ${stderr}`);
    t.deepEqual(
      listCheckpoints(path.join(outDir, 'checkpoints')).map((f) => path.basename(f)),
      ['epoch-0003.ckpt', 'epoch-0002.ckpt'],
    );

    const events: { startEpoch: number; resumedFrom?: string }[] = [];
    // The same epoch count as the child: the poly learning rate depends on it.
    const resumedEpochs = 8;
    const resumed = await train({
      ...childTrainingOptions(outDir, resumedEpochs, true),
      onEvent: (e) => e.type === 'start' && events.push(e),
    });
    const saved = events[0]!.startEpoch;
    t.is(saved, pausedAt);
    t.regex(events[0]!.resumedFrom!, /epoch-0003\.ckpt$/);
    t.deepEqual(
      readHistory(path.join(outDir, 'history.jsonl')).map((e) => e.epoch),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    t.is(resumed.epochsRun, resumedEpochs - saved);

    // Same seed, same data stream per epoch, optimizer state restored: the weights match a run never interrupted.
    const straight = childTrainingOptions(tempDir(), resumedEpochs, false);
    await train(straight);
    const a = (await loadModelDir(path.join(outDir, 'model'))).model.getWeights();
    const b = straight.model.getWeights();
    a.forEach((w, i) => t.true(tf.max(tf.abs(tf.sub(w, b[i]!))).dataSync()[0]! < 1e-5, `weight ${i} differs`));
  },
);

test('a truncated checkpoint gives an error naming it; the previous one still resumes', async (t) => {
  const outDir = tempDir();
  await train(childTrainingOptions(outDir, 3, false));
  const latest = path.join(outDir, 'checkpoints', 'epoch-0003.ckpt');
  truncateSync(latest, Math.floor(statSync(latest).size / 2));
  const error = await t.throwsAsync(train(childTrainingOptions(outDir, 4, true)));
  t.true(isRwsegError(error, 'IO_ERROR'));
  t.regex(error!.message, /epoch-0003\.ckpt is unreadable: truncated/);
  t.regex(error!.message, /previous checkpoint .*epoch-0002\.ckpt is intact/);

  const events: number[] = [];
  await train({
    ...childTrainingOptions(outDir, 4, path.join(outDir, 'checkpoints', 'epoch-0002.ckpt')),
    onEvent: (e) => e.type === 'start' && events.push(e.startEpoch),
  });
  t.deepEqual(events, [2]);
  t.deepEqual(
    readHistory(path.join(outDir, 'history.jsonl')).map((e) => e.epoch),
    [1, 2, 3, 4],
  );
});

test('a NaN loss stops training with the epoch, the loss and the bad map named', async (t) => {
  const map = (n: number) => Float32Array.from({ length: n }, (_, i) => (i === 5 ? Number.NaN : 1));
  const error = await t.throwsAsync(
    train({
      model: buildUNet(TINY_UNET, [16, 16]),
      loss: testLoss({ map: 'weights-map' }),
      openData: (epoch) => ({
        next: async () =>
          diskBatch(
            3,
            2,
            [16, 16],
            epoch === 1 ? { 'weights-map': map } : { 'weights-map': (n) => new Float32Array(n) },
          ),
        close: async () => {},
      }),
      epochs: 3,
      iterationsPerEpoch: 1,
      learningRate: 0.01,
      seed: 1,
      outDir: tempDir(),
    }),
  );
  t.true(isRwsegError(error, 'NUMERICAL_ERROR'));
  t.regex(error!.message, /loss 'test-dice-ce' is NaN at epoch 2, iteration 0/);
  t.regex(error!.message, /non-finite values in map\(s\) weights-map/);
});

test('validation writes history, plots, overlays and a loadable best model; sliding-window predictions reproduce', async (t) => {
  const outDir = tempDir();
  const cases = diskValidationCases(9, 2, [20, 24]);
  const result = await train({
    model: buildUNet(TINY_UNET, [16, 16]),
    loss: testLoss(),
    openData: (_e, seed) => diskSource(seed, 2, [16, 16]),
    epochs: 4,
    iterationsPerEpoch: 4,
    learningRate: 0.02,
    seed: 2,
    outDir,
    config: { hello: 'config' },
    validation: { cases, every: 2, patch: [16, 16], numClasses: 2, metrics: diceOnlyMetrics },
  });
  const history = readHistory(path.join(outDir, 'history.jsonl'));
  t.deepEqual(
    history.map((e) => e.validation !== undefined),
    [false, true, false, true],
  );
  t.is(result.bestDice, Math.max(...history.filter((e) => e.validation).map((e) => e.validation!.meanDice)));
  for (const f of [
    'config.json',
    'summary.json',
    'plots/loss.svg',
    'plots/validation-dice.svg',
    'plots/overlays/val-0.png',
    'plots/overlays/val-1.png',
    'checkpoints/best.ckpt',
    'model/model.json',
  ]) {
    t.true(existsSync(path.join(outDir, f)), f);
  }
  t.regex(
    readFileSync(path.join(outDir, 'plots/loss.svg'), 'utf8'),
    /<path class="series" data-name="training loss" d="M[^"]*L/,
  );
  t.deepEqual(JSON.parse(readFileSync(path.join(outDir, 'config.json'), 'utf8')), { hello: 'config' });

  // The saved model is the best one: validating it again gives the best Dice.
  const { model } = await loadModelDir(path.join(outDir, 'model'));
  const dices = [];
  for (const c of cases) {
    const { probabilities: probs } = await predictProbabilities(
      new TfjsWindowPredictor(model),
      c.image.data,
      c.image.shape,
      1,
      { patch: [16, 16] },
    );
    const labels = new Int32Array(probs.length / 2).map((_, v) => (probs[2 * v + 1]! > probs[2 * v]! ? 1 : 0));
    dices.push(diceOnlyMetrics(labels, c.labels.data, c.image.shape, [1, 1], { numClasses: 2 })[0]!.dice);
  }
  t.true(Math.abs((dices[0]! + dices[1]!) / 2 - result.bestDice!) < 1e-6);
});

test('resuming a finished run validates its final weights again instead of reporting no final validation', async (t) => {
  const outDir = tempDir();
  const cases = diskValidationCases(4, 2, [16, 16]);
  const options = () => ({
    model: buildUNet(TINY_UNET, [16, 16]),
    loss: testLoss(),
    openData: (_e: number, seed: number) => diskSource(seed, 2, [16, 16]),
    epochs: 2,
    iterationsPerEpoch: 2,
    learningRate: 0.02,
    seed: 3,
    outDir,
    validation: { cases, every: 1, patch: [16, 16], numClasses: 2, metrics: diceOnlyMetrics },
  });
  const first = await train(options());
  const again = await train({ ...options(), resume: true });
  t.is(again.startEpoch, 2);
  t.is(again.epochsRun, 0);
  t.truthy(again.finalValidation);
  t.is(again.finalValidation!.meanDice, first.finalValidation!.meanDice);
  const summary = JSON.parse(readFileSync(path.join(outDir, 'summary.json'), 'utf8'));
  t.is(summary.finalValidation.meanDice, first.finalValidation!.meanDice);
});
