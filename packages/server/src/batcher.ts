/**
 * Dynamic batching: requests for one model version that arrive within `maxQueueDelayMs` of each other, and
 * whose inputs agree on every axis but the first, are concatenated along the batch axis and run as one
 * session.run; the outputs are split back by each request's row count. The queue is bounded so overload
 * becomes a fast 503 instead of unbounded memory and latency.
 */
import type { NumericArray } from './datatypes.js';

export interface HostTensor {
  type: string;
  dims: readonly number[];
  data: NumericArray | string[];
}

export type TensorMap = Record<string, HostTensor>;

export type RunFn = (feeds: TensorMap, fetches: readonly string[]) => Promise<TensorMap>;

export interface BatcherOptions {
  maxBatchSize: number;
  maxQueueDelayMs: number;
  /** Requests waiting (not yet running) before new ones are refused. */
  maxQueue: number;
  /** False when the model's inputs have a fixed first axis, so nothing may be merged. */
  batchable: boolean;
  /** Called with the number of requests and rows in every run (metrics, tests). */
  onBatch?: (requests: number, rows: number) => void;
  onQueueDepth?: (depth: number) => void;
}

export class QueueFullError extends Error {
  constructor(readonly depth: number) {
    super(`the inference queue is full (${depth} requests waiting); retry later`);
  }
}

/** The request's deadline passed before its session.run started (503: retry elsewhere). */
export class QueueTimeoutError extends Error {}

/** The request's deadline passed while its session.run was running (504); the run finishes unobserved. */
export class RunTimeoutError extends Error {}

/**
 * What cancels a request: the part of AbortSignal the batcher uses, so an AbortController's signal serves, and so
 * does the server's lighter per-request signal (request-context.ts).
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** How one request is bounded while it waits and runs. */
export interface SubmitOptions {
  /** Time left for this request, in ms: queued past it is a QueueTimeoutError, running past it a RunTimeoutError. */
  timeoutMs?: number;
  /** Aborting withdraws a queued request and answers a running one at once with the signal's reason. */
  signal?: CancelSignal;
  /** Called when the request's session.run starts. */
  onStart?: () => void;
}

interface Pending {
  onStart?: () => void;
  feeds: TensorMap;
  fetches: readonly string[];
  rows: number;
  key: string;
  arrived: number;
  resolve: (out: TensorMap) => void;
  reject: (error: unknown) => void;
}

/** A key that is equal exactly when two requests may share a batch. */
function mergeKey(feeds: TensorMap, fetches: readonly string[]): string {
  const parts = Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name].type}:${feeds[name].dims.slice(1).join('x')}`);
  return `${parts.join('|')}>${[...fetches].sort().join(',')}`;
}

function batchRows(feeds: TensorMap): number {
  const first = Object.values(feeds)[0];
  return first && first.dims.length > 0 ? first.dims[0] : 1;
}

function concatData(parts: HostTensor[]): NumericArray | string[] {
  if (Array.isArray(parts[0].data)) return parts.flatMap((p) => p.data as string[]);
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const Ctor = (parts[0].data as NumericArray).constructor as { new (n: number): NumericArray };
  const out = new Ctor(total);
  let offset = 0;
  for (const p of parts) {
    (out as Float32Array).set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  return out;
}

/** One request's rows of a batch output: a view, not a copy (the batch output belongs to nobody else). */
function sliceRows(tensor: HostTensor, start: number, rows: number): HostTensor {
  const perRow = tensor.dims.slice(1).reduce((n, d) => n * d, 1);
  const data = Array.isArray(tensor.data)
    ? tensor.data.slice(start * perRow, (start + rows) * perRow)
    : (tensor.data as NumericArray).subarray(start * perRow, (start + rows) * perRow);
  return { type: tensor.type, dims: [rows, ...tensor.dims.slice(1)], data };
}

export class DynamicBatcher {
  private queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: RunFn,
    private readonly options: BatcherOptions,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.running > 0 || this.queue.length > 0;
  }

  /** Queues one request; rejects with QueueFullError at once when the queue is full. */
  submit(feeds: TensorMap, fetches: readonly string[], options: SubmitOptions = {}): Promise<TensorMap> {
    const { timeoutMs, signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new QueueFullError(this.queue.length));
    return new Promise<TensorMap>((resolve, reject) => {
      const pending: Pending = {
        feeds,
        fetches,
        rows: batchRows(feeds),
        // Only a batch of several requests needs to know which may share it.
        key: this.options.batchable && this.options.maxBatchSize > 1 ? mergeKey(feeds, fetches) : '',
        arrived: performance.now(),
        resolve,
        reject,
        onStart: options.onStart,
      };
      // A waiting request is withdrawn; one already in session.run cannot be stopped, so its caller is answered
      // now and the result is dropped when it arrives.
      const withdraw = (error: unknown, ifRunning: unknown) => {
        const index = this.queue.indexOf(pending);
        if (index >= 0) {
          this.queue.splice(index, 1);
          this.reportDepth();
          this.notifyIdle();
          pending.reject(error);
        } else pending.reject(ifRunning);
      };
      const timer =
        timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs)
          ? setTimeout(
              () =>
                withdraw(
                  new QueueTimeoutError(`the request waited ${Math.round(timeoutMs)} ms in the queue without starting`),
                  new RunTimeoutError(`inference did not finish within ${Math.round(timeoutMs)} ms`),
                ),
              timeoutMs,
            )
          : undefined;
      const onAbort = () => withdraw(signal!.reason, signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      let settled = false;
      const done = () => {
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      pending.resolve = (out) => {
        if (settled) return;
        done();
        resolve(out);
      };
      pending.reject = (error) => {
        if (settled) return;
        done();
        reject(error);
      };
      this.queue.push(pending);
      this.reportDepth();
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running (graceful shutdown). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private reportDepth(): void {
    this.options.onQueueDepth?.(this.queue.length);
  }

  private schedule(): void {
    if (this.running > 0 || this.queue.length === 0 || this.timer) return;
    const rows = this.queue.reduce((n, p) => n + p.rows, 0);
    // The delay counts from the oldest waiting request, so requests that already waited out a run go at once.
    const wait =
      this.options.batchable && rows < this.options.maxBatchSize
        ? this.queue[0].arrived + this.options.maxQueueDelayMs - performance.now()
        : 0;
    if (wait <= 0) {
      // Even with no delay, let the current I/O phase finish so requests parsed together can merge.
      this.timer = setImmediate(() => this.dispatch());
    } else {
      this.timer = setTimeout(() => this.dispatch(), wait);
    }
  }

  private takeBatch(): Pending[] {
    const head = this.queue.shift()!;
    const batch = [head];
    if (!this.options.batchable) return batch;
    let rows = head.rows;
    for (let i = 0; i < this.queue.length && rows < this.options.maxBatchSize;) {
      const candidate = this.queue[i];
      if (candidate.key === head.key && rows + candidate.rows <= this.options.maxBatchSize) {
        batch.push(candidate);
        rows += candidate.rows;
        this.queue.splice(i, 1);
      } else i++;
    }
    return batch;
  }

  private async dispatch(): Promise<void> {
    this.timer = undefined;
    if (this.queue.length === 0) return this.notifyIdle();
    const batch = this.takeBatch();
    this.reportDepth();
    this.running++;
    const rows = batch.reduce((n, p) => n + p.rows, 0);
    this.options.onBatch?.(batch.length, rows);
    for (const p of batch) p.onStart?.();
    try {
      if (batch.length === 1) {
        batch[0].resolve(await this.run(batch[0].feeds, batch[0].fetches));
      } else {
        const feeds: TensorMap = {};
        for (const name of Object.keys(batch[0].feeds)) {
          const parts = batch.map((p) => p.feeds[name]);
          feeds[name] = { type: parts[0].type, dims: [rows, ...parts[0].dims.slice(1)], data: concatData(parts) };
        }
        const out = await this.run(feeds, batch[0].fetches);
        let start = 0;
        for (const p of batch) {
          const mine: TensorMap = {};
          for (const [name, tensor] of Object.entries(out)) {
            if (tensor.dims[0] !== rows)
              throw new Error(
                `output '${name}' has ${tensor.dims[0]} rows for a batch of ${rows}; the model cannot be batched`,
              );
            mine[name] = sliceRows(tensor, start, p.rows);
          }
          start += p.rows;
          p.resolve(mine);
        }
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.running--;
      if (this.queue.length > 0) this.schedule();
      else this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.busy) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
