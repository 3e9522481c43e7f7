/**
 * The services container: the pipeline resolves its logger, clock, backend selection and registry from it, so a
 * test swaps one by rebinding its token, and what the run records changes accordingly.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createServices,
  parsePipeline,
  readHistory,
  resolveRegistry,
  runPipelineConfig,
  TOKENS,
  type Clock,
  type Logger,
  type PluginRegistry,
} from '../../src/index.js';

test('a clock and a logger rebound in the container are the ones the pipeline and trainer use', async (t) => {
  const services = createServices();
  // Every reading advances one second: epoch and iteration durations become exact counts of clock reads.
  let ms = 0;
  const clock: Clock = { now: () => (ms += 1000) };
  const messages: string[] = [];
  const record = (message: string) => void messages.push(message);
  const logger: Logger = { debug: record, info: record, warn: record };
  services.rebind<Clock>(TOKENS.Clock).toConstantValue(clock);
  services.rebind<Logger>(TOKENS.Logger).toConstantValue(logger);

  const outDir = mkdtempSync(path.join(tmpdir(), 'rwseg-services-'));
  const config = parsePipeline({
    name: 'tiny-services',
    seed: 3,
    backend: 'cpu',
    dataset: { kind: 'synthetic', shape: [16, 16], train: 2, validation: 1 },
    preprocessing: { patch: [16, 16] },
    model: { depth: 2, baseFilters: 2 },
    loss: 'dice',
    training: { epochs: 1, iterationsPerEpoch: 2, batchSize: 1, workers: 0 },
    evaluation: { every: 1, overlays: 0 },
  });
  const iterations: number[] = [];
  await runPipelineConfig(config, {
    services,
    out: outDir,
    onEvent: (_, event) => void (event.type === 'iteration' && iterations.push(event.seconds)),
  });
  // Reads: epoch start, one per iteration, epoch end.
  t.deepEqual(iterations, [1, 2]);
  t.is(readHistory(path.join(outDir, 'history.jsonl'))[0]!.seconds, 3);
  // The backend selection resolved from the same container logged through the rebound logger.
  t.true(
    messages.some((m) => /backend/.test(m)),
    messages.join('\n'),
  );
  // And the registry the run used is the container's singleton, plugins loaded once.
  const registry: PluginRegistry = await resolveRegistry(services);
  t.is(registry, services.get<PluginRegistry>(TOKENS.Registry));
  t.true(registry.hasLoss('dice'));
});
