/**
 * A data-parallel training run that fails in its gradient worker, in a child process: prints the error's code and
 * message as JSON and then simply returns, so the process exits only if the trainer terminated its worker threads.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildUNet, createRegistry, isRwsegError, train, useBackend } from '../../src/index.js';
import { diskBatch, TINY_UNET } from './toy-training.js';

await useBackend('cpu');
const plugin = fileURLToPath(new URL('./worker-failing-plugin.js', import.meta.url));
const registry = await createRegistry({ packageJson: false, plugins: [plugin] });
const batch = diskBatch(3, 2, [16, 16]);
try {
  await train({
    model: buildUNet(TINY_UNET, [16, 16]),
    loss: registry.createLoss('test-main-thread-only'),
    openData: () => ({ next: async () => batch, close: async () => {} }),
    epochs: 2,
    iterationsPerEpoch: 2,
    learningRate: 0.01,
    seed: 1,
    outDir: mkdtempSync(path.join(tmpdir(), 'rwseg-dp-fail-')),
    dataParallel: { threads: 2, loss: 'test-main-thread-only', plugins: [plugin] },
  });
  console.log(JSON.stringify({ code: 'none' }));
} catch (error) {
  console.log(
    JSON.stringify({ code: isRwsegError(error) ? error.code : 'not an RwsegError', message: (error as Error).message }),
  );
}
