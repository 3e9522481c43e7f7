import test from 'ava';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadModelDir,
  readHistory,
  STOPPED_CHECKPOINT,
  tf,
  train,
  useBackend,
  type TrainingEvent,
} from '../../src/index.js';
import { childTrainingOptions } from '../helpers/toy-training.js';

test.before(async () => {
  await useBackend('cpu');
});

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'rwseg-stop-'));
const EPOCHS = 4;

/** Trains with a stop request raised after step `iteration` (0-based) of 1-based epoch `epoch`. */
async function stoppedAt(outDir: string, epoch: number, iteration: number) {
  const stop = { aborted: false, reason: 'SIGUSR1' };
  const onEvent = (e: TrainingEvent) => {
    if (e.type === 'iteration' && e.epoch === epoch && e.iteration === iteration) stop.aborted = true;
  };
  return train({ ...childTrainingOptions(outDir, EPOCHS, false), stop, onEvent });
}

async function expectSameAsUninterrupted(t: import('ava').ExecutionContext, outDir: string) {
  const events: TrainingEvent[] = [];
  const resumed = await train({ ...childTrainingOptions(outDir, EPOCHS, true), onEvent: (e) => events.push(e) });
  t.is(resumed.stopped, undefined);
  const straightDir = tempDir();
  const straight = childTrainingOptions(straightDir, EPOCHS, false);
  await train(straight);
  // The history (loss, lr, gradient norm per epoch) and the final weights match a run never stopped.
  const strip = (dir: string) =>
    readHistory(path.join(dir, 'history.jsonl')).map(({ epoch, loss, lr, gradNorm }) => ({
      epoch,
      loss,
      lr,
      gradNorm,
    }));
  t.deepEqual(strip(outDir), strip(straightDir));
  const a = (await loadModelDir(path.join(outDir, 'model'))).model.getWeights();
  const b = straight.model.getWeights();
  a.forEach((w, i) => t.true(tf.max(tf.abs(tf.sub(w, b[i]!))).dataSync()[0]! < 1e-6, `weight ${i} differs`));
  t.false(existsSync(path.join(outDir, 'checkpoints', STOPPED_CHECKPOINT)), 'the mid-epoch checkpoint is removed');
  return events;
}

test.serial(
  'a stop request mid-epoch checkpoints after the step; the resumed run equals an uninterrupted one',
  async (t) => {
    const outDir = tempDir();
    const result = await stoppedAt(outDir, 2, 0);
    t.deepEqual(result.stopped, {
      epoch: 2,
      iteration: 1,
      checkpoint: path.join(outDir, 'checkpoints', STOPPED_CHECKPOINT),
      reason: 'SIGUSR1',
    });
    t.deepEqual(
      result.history.map((e) => e.epoch),
      [1],
    );
    t.true(existsSync(result.stopped!.checkpoint));
    t.false(existsSync(path.join(outDir, 'model', 'model.json')), 'a stopped run has no model yet');
    t.false(existsSync(path.join(outDir, 'summary.json')));
    const events = await expectSameAsUninterrupted(t, outDir);
    const start = events.find((e) => e.type === 'start') as Extract<TrainingEvent, { type: 'start' }>;
    t.is(start.startEpoch, 1);
    t.regex(start.resumedFrom!, /stopped\.ckpt$/);
    // It continues at the step after the one the stop followed.
    const first = events.find((e) => e.type === 'iteration') as Extract<TrainingEvent, { type: 'iteration' }>;
    t.deepEqual([first.epoch, first.iteration], [2, 1]);
  },
);

test.serial('a stop request at an epoch end stops after that epoch checkpoint and resumes exactly too', async (t) => {
  const outDir = tempDir();
  const result = await stoppedAt(outDir, 1, 2);
  t.is(result.stopped!.iteration, 0);
  t.is(result.stopped!.epoch, 2);
  t.regex(result.stopped!.checkpoint, /epoch-0001\.ckpt$/);
  t.false(existsSync(path.join(outDir, 'checkpoints', STOPPED_CHECKPOINT)));
  await expectSameAsUninterrupted(t, outDir);
});
