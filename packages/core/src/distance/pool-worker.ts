/**
 * The worker side of MapWorkerPool: builds its own plugin registry once (plugins are code, they cannot be sent
 * over a message port), then answers jobs one by one, transferring each result's buffer back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRegistry } from '../services/container.js';
import { serializeError } from '../errors.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { euclideanDistanceTransform, EdtScratch } from './edt.js';
import type { PoolReply, PoolRequest, PoolWorkerData } from './pool-protocol.js';

const config = workerData as PoolWorkerData;
const scratch = new EdtScratch();
let registry: Promise<PluginRegistry> | undefined;

function registryOnce(): Promise<PluginRegistry> {
  registry ??= createRegistry({
    plugins: [...config.plugins],
    baseDir: config.baseDir,
    builtins: config.builtins,
    packageJson: false,
  });
  return registry;
}

async function handle({ id, job }: PoolRequest): Promise<PoolReply> {
  try {
    if (job.kind === 'edt') {
      return { id, ok: true, result: euclideanDistanceTransform(job.mask, job.shape, job.spacing, { scratch }) };
    }
    const generator = (await registryOnce()).createMapGenerator(job.map, job.options);
    return { id, ok: true, result: generator.generate(job.input) };
  } catch (error) {
    return { id, ok: false, error: serializeError(error) };
  }
}

parentPort!.on('message', (request: PoolRequest) => {
  void handle(request).then((reply) => {
    parentPort!.postMessage(reply, reply.ok ? [reply.result.buffer as ArrayBuffer] : []);
  });
});
