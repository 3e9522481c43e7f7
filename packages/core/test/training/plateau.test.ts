import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildUNet,
  diceOnlyMetrics,
  parsePipeline,
  plateauState,
  readHistory,
  train,
  useBackend,
} from '../../src/index.js';
import { diskSource, diskValidationCases, testLoss, TINY_UNET } from '../helpers/toy-training.js';

const at = (dices: (number | undefined)[]) =>
  dices.map((d, i) => ({ epoch: i + 1, ...(d === undefined ? {} : { validation: { meanDice: d } }) }));

test('plateau: the last improvement of more than minDelta, and the validations since it', (t) => {
  const rule = { patience: 2, minDelta: 0.01 };
  t.deepEqual(plateauState([], rule), { since: 0, reached: false });
  // 0.5 improves (first), 0.505 is within minDelta, 0.6 improves, then two without: reached.
  t.deepEqual(plateauState(at([0.5, 0.505, 0.6]), rule), { lastImprovement: 3, since: 0, reached: false });
  t.deepEqual(plateauState(at([0.5, 0.505, 0.6, 0.605, 0.59]), rule), {
    lastImprovement: 3,
    since: 2,
    reached: true,
  });
  // Epochs without validation do not count; NaN counts as no improvement.
  t.deepEqual(plateauState(at([0.5, undefined, undefined, Number.NaN]), rule), {
    lastImprovement: 1,
    since: 1,
    reached: false,
  });
  // minDelta 0: any strict gain improves; equal Dice does not.
  t.deepEqual(plateauState(at([0.5, 0.5, 0.50001]), { patience: 1, minDelta: 0 }), {
    lastImprovement: 3,
    since: 0,
    reached: false,
  });
});

test('plateau: a pipeline gives the rule with minDelta defaulted, and refuses a bad patience', (t) => {
  const base = {
    name: 'p',
    dataset: { kind: 'synthetic', shape: [16, 16], train: 2, validation: 1 },
    preprocessing: { patch: [16, 16] },
    loss: 'dice',
  };
  const config = parsePipeline({ ...base, training: { epochs: 9, iterationsPerEpoch: 1, plateau: { patience: 3 } } });
  t.deepEqual(config.training.plateau, { patience: 3, minDelta: 0.001 });
  const error = t.throws(() =>
    parsePipeline({ ...base, training: { epochs: 9, iterationsPerEpoch: 1, plateau: { patience: 0 } } }),
  );
  t.regex(error!.message, /training\.plateau\.patience/);
});

test.serial('plateau: training ends at the plateau, records it, and a resume trains no further', async (t) => {
  await useBackend('cpu');
  const outDir = mkdtempSync(path.join(tmpdir(), 'rwseg-plateau-'));
  const cases = diskValidationCases(2, 2, [16, 16]);
  // minDelta 1: no epoch after the first can improve, so with patience 2 the run ends after epoch 3 of 8.
  const options = (resume: boolean) => ({
    model: buildUNet(TINY_UNET, [16, 16]),
    loss: testLoss(),
    openData: (_e: number, seed: number) => diskSource(seed, 2, [16, 16]),
    epochs: 8,
    iterationsPerEpoch: 1,
    learningRate: 0.01,
    seed: 4,
    outDir,
    resume,
    plateau: { patience: 2, minDelta: 1 },
    validation: { cases, every: 1, patch: [16, 16], numClasses: 2, metrics: diceOnlyMetrics },
  });
  const result = await train(options(false));
  t.is(result.epochsRun, 3);
  t.deepEqual(
    readHistory(path.join(outDir, 'history.jsonl')).map((e) => e.epoch),
    [1, 2, 3],
  );
  t.deepEqual(result.plateau, { epoch: 3, patience: 2, minDelta: 1 });
  const summary = JSON.parse(readFileSync(path.join(outDir, 'summary.json'), 'utf8'));
  t.deepEqual(summary.plateau, { epoch: 3, patience: 2, minDelta: 1 });
  t.is(summary.epochs, 8);
  const again = await train(options(true));
  t.is(again.startEpoch, 3);
  t.is(again.epochsRun, 0);
  t.is(readHistory(path.join(outDir, 'history.jsonl')).length, 3);
});
