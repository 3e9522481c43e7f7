// A data-parallel gradient worker thread that dies in a 3D step: the run stops naming the worker and the checkpoint
// that survives, the checkpoints on disk are intact, and a resumed run trains through to the end.
import test from 'ava';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildUNet,
  createLoader,
  createRegistry,
  isRwsegError,
  listCheckpoints,
  readCheckpoint,
} from '../../src/index.js';
import {
  readHistory,
  syntheticDatasetInfo,
  train,
  useBackend,
  type Batch,
  type TrainingOptions,
} from '../../src/index.js';

const PATCH = [16, 16, 16];
const plugin = fileURLToPath(new URL('../helpers/worker-exiting-plugin.js', import.meta.url));

test.before(async () => {
  await useBackend('wasm');
});

test.serial('a gradient worker thread that exits mid-step stops the run naming it; resume continues', async (t) => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'rwseg-worker-exit-'));
  const marker = path.join(outDir, 'worker-exited');
  const lossConfig = { loss: 'test-worker-exits', options: { marker, dieAtEpoch: 1 } };
  const registry = await createRegistry({ packageJson: false, plugins: [plugin] });
  const info = syntheticDatasetInfo({ dim: 3, size: [20, 20, 20], cases: 4, numClasses: 3, seed: 3 });
  const loader = await createLoader({ dataset: info, patchShape: PATCH, batchSize: 2, seed: 1, workers: 0 });
  const batches: Batch[] = [await loader.next(), await loader.next()];
  await loader.close();
  const options = (resume: boolean, onEvent?: TrainingOptions['onEvent']): TrainingOptions => ({
    model: buildUNet({ dims: 3, depth: 2, baseFilters: 4, numClasses: 3, normalization: 'instance', seed: 1 }, PATCH),
    loss: registry.createLoss(lossConfig.loss, lossConfig.options),
    openData: (epoch) => ({ next: async () => batches[epoch % 2]!, close: async () => {} }),
    epochs: 3,
    iterationsPerEpoch: 2,
    learningRate: 0.01,
    seed: 1,
    outDir,
    resume,
    dataParallel: { threads: 2, loss: lossConfig, plugins: [plugin] },
    ...(onEvent ? { onEvent } : {}),
  });

  const error = await t.throwsAsync(train(options(false)));
  t.true(isRwsegError(error, 'WORKER_FAILED'), String(error));
  t.regex(error!.message, /data-parallel gradient worker 1 \(training\.threads 2\) exited unexpectedly \(code 7\)/);
  t.regex(error!.message, /the last checkpoint .*epoch-0001\.ckpt is intact and --resume continues from it/);
  t.true(existsSync(marker), 'the worker died in the second epoch');
  const checkpoints = listCheckpoints(path.join(outDir, 'checkpoints'));
  t.deepEqual(
    checkpoints.map((f) => path.basename(f)),
    ['epoch-0001.ckpt'],
  );
  t.is(readCheckpoint(checkpoints[0]!).epoch, 1);
  // Epochs are 1-based in the history: epoch 1 finished before the worker died in epoch 2.
  t.deepEqual(
    readHistory(path.join(outDir, 'history.jsonl')).map((e) => e.epoch),
    [1],
  );

  // The marker is there: the resumed run's worker trains through epochs 2 and 3.
  const starts: { startEpoch: number; resumedFrom?: string }[] = [];
  const resumed = await train(options(true, (e) => e.type === 'start' && starts.push(e)));
  t.is(starts[0]!.startEpoch, 1);
  t.regex(starts[0]!.resumedFrom!, /epoch-0001\.ckpt$/);
  t.is(resumed.epochsRun, 2);
  const history = readHistory(path.join(outDir, 'history.jsonl'));
  t.deepEqual(
    history.map((e) => e.epoch),
    [1, 2, 3],
  );
  t.true(history.every((e) => Number.isFinite(e.loss)));
});
