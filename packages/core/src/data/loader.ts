/**
 * The training data loader: a pool of worker threads, each with its own plugin registry, that load, preprocess,
 * sample, augment, one-hot encode and compute the loss's maps per patch and per deep-supervision scale. Batches
 * come back as transferred buffers (no copy) through a bounded prefetch queue, in stream order, so the same seed
 * gives the same batches with any number of workers (0 = everything in the calling thread).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { RwsegError, type SerializedError } from '../errors.js';
import type { MapRequest } from '../plugins/api.js';
import type { AugmentOptions } from './augment.js';
import type { Batch, BatchSource } from './batch.js';
import { BatchProducer, type LoaderRegistryOptions, type ProducerConfig } from './batch-producer.js';
import type { CaseRef, DatasetInfo } from './dataset.js';
import type { PreprocessOptions } from './preprocess.js';
import { checkPluginsCrossThreads, reviveError, startWorkers } from '../workers/pool.js';

export interface LoaderOptions {
  dataset: DatasetInfo;
  /** Cases to draw from (default: all training cases), e.g. a split's train list. */
  cases?: readonly CaseRef[];
  /** Spatial patch shape: [H, W] or [D, H, W]. 2D patches from 3D cases are slices along `sliceAxis`. */
  patchShape: readonly number[];
  batchSize: number;
  seed?: number;
  /** Axis of a [Z, Y, X] volume that 2D patches are sliced along (default 0). */
  sliceAxis?: number;
  /** Share of each batch centered on foreground (default 1/3, as nnU-Net). */
  foregroundFraction?: number;
  preprocess?: PreprocessOptions;
  /** Augmentation settings, or false for none. */
  augment?: AugmentOptions | false;
  /** The maps the loss declared (loss.requiredMaps). */
  maps?: readonly MapRequest[];
  /** Deep-supervision scales including full resolution (default 1). */
  scales?: number;
  /** Where workers load the map plugins from (default: built-ins plus the package.json of the working directory). */
  registry?: LoaderRegistryOptions;
  /** Worker threads (default: available parallelism minus one for the training step, at least 1). 0 = no threads. */
  workers?: number;
  /** Batches made ahead of the consumer (default 2 per worker, at least 2). */
  prefetch?: number;
  /** Preprocessed-case cache per worker in bytes (default 1 GiB). */
  cacheBytes?: number;
}

export interface DataLoader extends BatchSource {
  readonly workers: number;
}

function invalid(option: string, message: string): RwsegError {
  return new RwsegError('INVALID_OPTIONS', `loader option ${option}: ${message}`, { option });
}

function toError(error: SerializedError): RwsegError {
  return reviveError(error, 'INVALID_INPUT');
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

function producerConfig(options: LoaderOptions): ProducerConfig {
  const { dataset, patchShape, batchSize } = options;
  const cases = options.cases ?? dataset.training;
  if (cases.length === 0) throw invalid('cases', `dataset ${dataset.name} has no cases to draw from`);
  if (patchShape.length < 2 || patchShape.length > 3 || patchShape.some((p) => !Number.isInteger(p) || p < 1)) {
    throw invalid('patchShape', `[${patchShape.join(', ')}] must be 2 or 3 positive integers`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw invalid('batchSize', `${batchSize} must be a positive integer`);
  const foregroundFraction = options.foregroundFraction ?? 1 / 3;
  if (!(foregroundFraction >= 0 && foregroundFraction <= 1))
    throw invalid('foregroundFraction', `${foregroundFraction} must be in [0, 1]`);
  const scales = options.scales ?? 1;
  if (!Number.isInteger(scales) || scales < 1) throw invalid('scales', `${scales} must be a positive integer`);
  checkPluginsCrossThreads(options.registry?.plugins ?? [], 'loader option registry.plugins');
  return {
    dataset,
    cases,
    patchShape,
    batchSize,
    scales,
    foregroundFraction,
    seed: options.seed ?? 0,
    sliceAxis: options.sliceAxis ?? 0,
    preprocess: options.preprocess ?? {},
    augment: options.augment ?? {},
    maps: (options.maps ?? []).map((m) => ({ map: m.map, options: m.options })),
    registry: options.registry ?? {},
    cacheBytes: options.cacheBytes ?? 2 ** 30,
  };
}

interface Pending {
  resolve(batch: Batch): void;
  reject(error: Error): void;
  promise: Promise<Batch>;
  worker: WorkerSlot;
}

interface WorkerSlot {
  worker: Worker;
  outstanding: number;
}

class ThreadedLoader implements DataLoader {
  private readonly pending = new Map<number, Pending>();
  private delivered = 0;
  private scheduled = 0;
  private failure: RwsegError | undefined;
  private closed = false;

  constructor(
    private readonly slots: WorkerSlot[],
    private readonly prefetch: number,
  ) {
    for (const slot of slots) {
      slot.worker.on('message', (message: { type: string; index: number; batch?: Batch; error?: SerializedError }) => {
        const entry = this.pending.get(message.index);
        // After close() a late batch must not unref a worker that terminate() is still waiting on.
        if (!entry || this.closed) return;
        this.settled(slot);
        if (message.type === 'batch') entry.resolve(message.batch!);
        else entry.reject(toError(message.error!));
      });
      // A dead thread is rwseg's failure, not the input's (a bad case arrives as an 'error' message instead).
      slot.worker.on('error', (error) => {
        const message = `data loader worker crashed: ${error.message}`;
        this.fail(new RwsegError('WORKER_FAILED', message, {}, { cause: error }));
      });
      slot.worker.on('exit', (code) => {
        if (this.closed) return;
        this.fail(new RwsegError('WORKER_FAILED', `data loader worker exited unexpectedly (code ${code})`));
      });
    }
  }

  get workers(): number {
    return this.slots.length;
  }

  private settled(slot: WorkerSlot): void {
    // An idle worker must not keep the process alive if the caller forgets close().
    if (--slot.outstanding === 0) slot.worker.unref();
  }

  private fail(error: RwsegError): void {
    if (this.failure) return;
    this.failure = error;
    for (const entry of this.pending.values()) entry.reject(error);
  }

  private schedule(): void {
    while (!this.failure && this.scheduled - this.delivered < this.prefetch) {
      const index = this.scheduled++;
      const slot = this.slots.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
      let resolve!: (batch: Batch) => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<Batch>((res, rej) => ((resolve = res), (reject = rej)));
      // Errors are delivered by next(); a batch made ahead and never asked for must not crash the process.
      promise.catch(() => undefined);
      this.pending.set(index, { resolve, reject, promise, worker: slot });
      if (slot.outstanding++ === 0) slot.worker.ref();
      slot.worker.postMessage({ type: 'batch', index });
    }
  }

  async next(): Promise<Batch> {
    if (this.closed) throw new RwsegError('INVALID_INPUT', 'data loader is closed');
    if (this.failure) throw this.failure;
    this.schedule();
    const index = this.delivered++;
    const entry = this.pending.get(index)!;
    try {
      return await entry.promise;
    } finally {
      this.pending.delete(index);
      this.schedule();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A next() still waiting must settle rather than hang once its worker is gone.
    const closed = new RwsegError('INVALID_INPUT', 'data loader was closed while a batch was pending');
    for (const entry of this.pending.values()) entry.reject(closed);
    // Held referenced until 'exit': an unreferenced worker lets the process end with terminate() still pending.
    await Promise.all(this.slots.map((slot) => (slot.worker.ref(), slot.worker.terminate())));
  }
}

class InlineLoader implements DataLoader {
  readonly workers = 0;
  private index = 0;
  private closed = false;

  constructor(private readonly producer: BatchProducer) {}

  async next(): Promise<Batch> {
    if (this.closed) throw new RwsegError('INVALID_INPUT', 'data loader is closed');
    return this.producer.produce(this.index++);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Starts the loader. Options are validated and every worker has loaded its plugins before this resolves, so a bad
 * option or plugin fails here, before training starts; a bad case fails the next() that needs it, naming the case.
 */
export async function createLoader(options: LoaderOptions): Promise<DataLoader> {
  const config = producerConfig(options);
  const workers = options.workers ?? defaultWorkerCount();
  if (!Number.isInteger(workers) || workers < 0) throw invalid('workers', `${workers} must be a non-negative integer`);
  if (workers === 0) return new InlineLoader(await BatchProducer.create(config));
  const prefetch = options.prefetch ?? Math.max(2, 2 * workers);
  if (!Number.isInteger(prefetch) || prefetch < 1) throw invalid('prefetch', `${prefetch} must be a positive integer`);
  // A worker that could not build its producer reports the producer's error (a bad option or plugin) as is.
  const started = await startWorkers(
    new URL('./loader-worker.js', import.meta.url),
    config,
    workers,
    (_, what, cause) =>
      cause
        ? reviveError(cause, 'INVALID_INPUT')
        : new RwsegError('WORKER_FAILED', `data loader worker failed to start: ${what}`),
  );
  for (const worker of started) worker.unref();
  return new ThreadedLoader(
    started.map((worker) => ({ worker, outstanding: 0 })),
    prefetch,
  );
}
