/**
 * A pool of worker threads that computes RW maps (any registered map generator) and distance transforms for
 * batches of label maps in parallel. Results come back as transferred buffers (no copy); inputs are copied
 * unless `transfer: true`, which moves their buffers to the worker (the caller's arrays become empty).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { RwsegError } from '../errors.js';
import type { LabelMapInput } from '../plugins/api.js';
import { reviveError, spawnWorker } from '../workers/pool.js';
import type { PoolJob, PoolReply, PoolWorkerData } from './pool-protocol.js';

export interface MapWorkerPoolOptions {
  /** Number of workers (default: available cores, at least 1). */
  readonly size?: number;
  /** Extra plugins the workers load, as package names or absolute paths (built-ins are always loaded unless `builtins: false`). */
  readonly plugins?: readonly string[];
  /** Where package names resolve from (default: the working directory). */
  readonly baseDir?: string;
  readonly builtins?: boolean;
}

export interface SubmitOptions {
  /** Move the input buffers to the worker instead of copying them. */
  readonly transfer?: boolean;
}

interface Pending {
  readonly resolve: (value: Float32Array | Float64Array) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
}

export class MapWorkerPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending & { slot: Slot }>();
  private nextId = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(options: MapWorkerPoolOptions = {}) {
    const size = options.size ?? Math.max(1, availableParallelism());
    if (!Number.isInteger(size) || size < 1)
      throw new RwsegError('INVALID_OPTIONS', `map worker pool: size must be a positive integer, got ${String(size)}`, {
        size,
      });
    const data: PoolWorkerData = {
      plugins: [...(options.plugins ?? [])],
      baseDir: options.baseDir ?? process.cwd(),
      builtins: options.builtins ?? true,
    };
    this.slots = Array.from({ length: size }, () => {
      const worker = spawnWorker(new URL('./pool-worker.js', import.meta.url), data);
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (reply: PoolReply) => this.settle(reply));
      worker.on('error', (error) => this.failSlot(slot, error));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.closing) this.failSlot(slot, new Error(`map worker exited with code ${code}`));
      });
      // Idle workers must not keep the process alive; a busy one is ref'd while it has jobs.
      worker.unref();
      return slot;
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** One registered map over one label map, channels-last Float32 [...shape, K]. */
  generate(
    map: string,
    options: Record<string, unknown>,
    input: LabelMapInput,
    submit: SubmitOptions = {},
  ): Promise<Float32Array> {
    return this.submit(
      { kind: 'map', map, options, input },
      submit.transfer ? [input.labels] : [],
    ) as Promise<Float32Array>;
  }

  /** The same map over a batch of label maps, spread over the workers; results in input order. */
  generateBatch(
    map: string,
    options: Record<string, unknown>,
    inputs: readonly LabelMapInput[],
    submit: SubmitOptions = {},
  ): Promise<Float32Array[]> {
    return Promise.all(inputs.map((input) => this.generate(map, options, input, submit)));
  }

  /** euclideanDistanceTransform in a worker. */
  distanceTransform(
    mask: ArrayLike<number>,
    shape: readonly number[],
    spacing: readonly number[],
    submit: SubmitOptions = {},
  ): Promise<Float64Array> {
    return this.submit(
      { kind: 'edt', mask, shape: [...shape], spacing: [...spacing] },
      submit.transfer ? [mask] : [],
    ) as Promise<Float64Array>;
  }

  /** Waits for the jobs in flight, then stops every worker. Further submissions are refused. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inflight]);
      await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    })();
    return this.closing;
  }

  private submit(job: PoolJob, transferables: ArrayLike<number>[]): Promise<Float32Array | Float64Array> {
    if (this.closing) return Promise.reject(new RwsegError('INVALID_INPUT', 'map worker pool is closed', {}));
    const slot = this.slots.reduce((best, s) => (s.busy < best.busy ? s : best));
    const id = this.nextId++;
    const buffers = transferables.flatMap((t) =>
      ArrayBuffer.isView(t) ? [(t as unknown as ArrayBufferView).buffer as ArrayBuffer] : [],
    );
    const promise = new Promise<Float32Array | Float64Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ id, job }, buffers);
    });
    this.inflight.add(promise);
    const forget = () => this.inflight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private settle(reply: PoolReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    this.release(pending.slot);
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(reviveError(reply.error));
  }

  private failSlot(slot: Slot, error: Error): void {
    for (const [id, pending] of this.pending) {
      if (pending.slot !== slot) continue;
      this.pending.delete(id);
      this.release(slot);
      pending.reject(error);
    }
  }

  private release(slot: Slot): void {
    if (--slot.busy === 0) slot.worker.unref();
  }
}
