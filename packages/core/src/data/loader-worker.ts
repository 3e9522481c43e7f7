/** The loader's worker thread: builds its own producer (and plugin registry) and answers batch requests. */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError, type SerializedError } from '../errors.js';
import { batchTransferList } from './batch-builder.js';
import { BatchProducer, type ProducerConfig } from './batch-producer.js';

export { serializeError, type SerializedError };

const port = parentPort!;
try {
  const producer = await BatchProducer.create(workerData as ProducerConfig);
  port.on('message', (message: { type: 'batch'; index: number }) => {
    producer.produce(message.index).then(
      (batch) => port.postMessage({ type: 'batch', index: message.index, batch }, batchTransferList(batch)),
      (error: unknown) => port.postMessage({ type: 'error', index: message.index, error: serializeError(error) }),
    );
  });
  port.postMessage({ type: 'ready' });
} catch (error) {
  port.postMessage({ type: 'init-error', error: serializeError(error) });
}
