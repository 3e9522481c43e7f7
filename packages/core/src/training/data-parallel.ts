/**
 * Data-parallel training over worker threads (docs/backends.md, "Using both cores"). TF.js wasm computes on one
 * thread under Node, so a second core helps only through a second TF.js engine: a worker thread. The training
 * thread keeps the model and the optimizer; per step it splits the batch along its sample axis, posts the current
 * trainable weights (one Float32Array) and one share to each worker, computes its own share meanwhile, and averages
 * the shares' gradients weighted by their sample counts. Clipping and the optimizer step then run as with one thread.
 *
 * What differs from one thread (as PyTorch DDP without SyncBatchNorm): batch norm normalizes each share with its own
 * statistics, and only the training thread's share updates the moving statistics; a loss that is not a mean over
 * samples (Dice pooled over the batch) is averaged over shares instead of computed on the whole batch.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendName } from '@rwseg/tfjs-training-backends';
import type { Batch } from '../data/batch.js';
import { RwsegError, type SerializedError } from '../errors.js';
import { lossSignature, type LossSpec } from '../losses/loss-spec.js';
import type { Loss } from '../plugins/api.js';
import { tf } from '../tf.js';
import { checkPluginsCrossThreads, startWorkers } from '../workers/pool.js';
import {
  checkBatchScales,
  lossAndGradients,
  splitBatch,
  type GradientContext,
  type LossAndGradients,
} from './gradients.js';

/** The loss spec the trainer's loss was built from (workers build theirs from it), and the thread count. */
export interface DataParallelOptions extends LossSpec {
  /** Compute threads including the training thread (>= 1); 1 runs no workers. */
  readonly threads: number;
}

/** What a worker is started with (workerData). */
export interface GradientWorkerConfig {
  readonly backend: BackendName;
  readonly modelTopology: string;
  /** The trainer's trainable variable shapes, checked against the rebuilt model. */
  readonly variableShapes: string;
  readonly loss: LossSpec['loss'];
  readonly plugins: NonNullable<LossSpec['plugins']>;
  readonly baseDir?: string;
  readonly dsWeights: readonly number[];
}

export interface StepRequest {
  readonly step: number;
  readonly epoch: number;
  readonly weights: Float32Array;
  readonly share: Batch;
}

export type StepReply =
  | { type: 'ready'; loss: string }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'grads'; step: number; value: number; perScale: number[]; grads: Float32Array }
  | { type: 'error'; step: number; error: SerializedError };

/** Backends whose TF.js engine works in a worker thread and computes on one core. */
const PARALLEL_BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

/**
 * `training.threads` resolved: 'auto' is the number of cores capped by the batch size on wasm (one core per engine),
 * and 1 elsewhere: tensorflow already computes on every core, webgpu on the GPU, and the pure-JS cpu backend is a
 * reference backend too slow to train on whatever its thread count.
 */
export function resolveThreads(
  choice: number | 'auto',
  backend: BackendName,
  batchSize: number,
  cores = availableParallelism(),
): number {
  if (choice === 'auto') return backend === 'wasm' ? Math.max(1, Math.min(cores, batchSize)) : 1;
  return choice;
}

/** Checks a thread count against the backend and batch size, naming the option. */
export function checkThreads(threads: number, backend: string, batchSize?: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RwsegError('INVALID_CONFIG', `training.threads ${threads} must be a positive integer or 'auto'`, {
      option: 'training.threads',
    });
  }
  if (threads > 1 && !PARALLEL_BACKENDS.includes(backend as BackendName)) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `training.threads ${threads} needs the wasm or cpu backend, not ${backend}: ${backend === 'tensorflow' ? 'tensorflow already computes on every core' : backend === 'webgpu' ? 'webgpu computes on the GPU' : 'its engine does not run in worker threads'}; use threads 1`,
      { option: 'training.threads', backend },
    );
  }
  if (batchSize !== undefined && threads > batchSize) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `training.threads ${threads} exceeds training.batchSize ${batchSize}: each thread computes at least one sample of the batch`,
      { option: 'training.threads' },
    );
  }
}

interface Slot {
  readonly worker: Worker;
  /** 1-based: the training thread is thread 0. */
  readonly index: number;
  pending?: { step: number; resolve(reply: Extract<StepReply, { type: 'grads' }>): void; reject(error: Error): void };
}

/** The trainer's gradient workers: started once per run, closed (terminated) when the run ends or fails. */
export class GradientWorkers {
  private steps = 0;
  private failure: RwsegError | undefined;
  private closing = false;

  private constructor(
    private readonly slots: Slot[],
    readonly threads: number,
  ) {
    for (const slot of slots) {
      slot.worker.on('message', (reply: StepReply) => {
        const pending = slot.pending;
        if (!pending || (reply.type !== 'grads' && reply.type !== 'error') || reply.step !== pending.step) return;
        slot.pending = undefined;
        if (reply.type === 'grads') pending.resolve(reply);
        else pending.reject(this.workerError(slot, `failed at a step: ${reply.error.message}`, reply.error));
      });
      // A crash outside a step (an uncaught exception, process.exit in a plugin): fail the current and every later step.
      slot.worker.on('error', (error) => this.fail(slot, `crashed: ${error.message}`));
      slot.worker.on('exit', (code) => {
        if (!this.closing) this.fail(slot, `exited unexpectedly (code ${code})`);
      });
    }
  }

  /**
   * Starts threads - 1 workers for `model` and its loss; every one has built its model and loss when this resolves.
   * Given the trainer's `loss`, each worker's must have the same signature (name and maps), or none starts.
   */
  static async start(
    model: tfl.LayersModel,
    dsWeights: readonly number[],
    options: DataParallelOptions,
    loss?: Loss,
  ): Promise<GradientWorkers> {
    const backend = tf.getBackend() as BackendName;
    checkThreads(options.threads, backend);
    checkPluginsCrossThreads(options.plugins ?? [], 'training.threads > 1: plugins');
    const config: GradientWorkerConfig = {
      backend,
      modelTopology: JSON.stringify(model.toJSON(null, false)),
      variableShapes: model.trainableWeights.map((w) => w.shape.join('x')).join(','),
      loss: options.loss,
      plugins: [...(options.plugins ?? [])],
      ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }),
      dsWeights: [...dsWeights],
    };
    const file = new URL('./gradient-worker.js', import.meta.url);
    const expected = loss && lossSignature(loss);
    const workers = await startWorkers(
      file,
      config,
      options.threads - 1,
      (i, what, cause) => workerFailure(i + 1, options.threads, `failed to start: ${what}`, cause),
      (ready, i) => {
        if (expected !== undefined && ready.loss !== expected) {
          throw new RwsegError(
            'INVALID_CONFIG',
            `data-parallel gradient worker ${i + 1} built loss ${String(ready.loss)} from the loss spec, but the trainer's loss is ${expected}: build both from one spec`,
            { worker: i + 1 },
          );
        }
      },
    );
    const slots = workers.map((worker, i) => ({ worker, index: i + 1 }));
    return new GradientWorkers(slots, options.threads);
  }

  /**
   * The batch's loss and gradients over all threads: the same value (up to rounding) as `lossAndGradients` on the
   * whole batch for a loss that is a mean over samples, in a model without batch statistics.
   */
  async lossAndGradients(
    model: tfl.LayersModel,
    loss: Loss,
    batch: Batch,
    ctx: GradientContext,
  ): Promise<LossAndGradients> {
    if (this.failure) throw this.failure;
    checkBatchScales(batch, ctx.dsWeights.length);
    const shares = splitBatch(batch, this.threads);
    const step = ++this.steps;
    const weights = await flatten(ctx.variables);
    // The training thread takes the last share, the smallest when the split is uneven: it also averages and steps.
    const mine = shares.pop()!;
    const remote = shares.map((share, i) => {
      const slot = this.slots[i]!;
      const own = i === shares.length - 1 ? weights : weights.slice();
      const { copy, transfer } = detach(share);
      return new Promise<Extract<StepReply, { type: 'grads' }>>((resolve, reject) => {
        slot.pending = { step, resolve, reject };
        slot.worker.postMessage({ step, epoch: ctx.epoch, weights: own, share: copy } satisfies StepRequest, [
          own.buffer as ArrayBuffer,
          ...transfer,
        ]);
      });
    });
    // The training thread's own share, while the workers compute theirs.
    const local = await lossAndGradients(model, loss, mine, ctx).catch(async (error: unknown) => {
      await Promise.allSettled(remote);
      throw error;
    });
    let replies: Extract<StepReply, { type: 'grads' }>[];
    try {
      replies = await Promise.all(remote);
    } catch (error) {
      tf.dispose(local.grads);
      await Promise.allSettled(remote);
      throw error;
    }
    const weightOf = (share: Batch) => share.size / batch.size;
    let offset = 0;
    const grads = ctx.variables.map((v, j) => {
      const from = offset;
      offset += v.size;
      return tf.tidy(() =>
        replies.reduce(
          (sum, reply, r) =>
            tf.add(sum, tf.mul(tf.tensor(reply.grads.subarray(from, from + v.size), v.shape), weightOf(shares[r]!))),
          tf.mul(local.grads[j]!, weightOf(mine)),
        ),
      );
    });
    tf.dispose(local.grads);
    const mean = (own: number, pick: (reply: Extract<StepReply, { type: 'grads' }>) => number) =>
      replies.reduce((sum, reply, r) => sum + pick(reply) * weightOf(shares[r]!), own * weightOf(mine));
    return {
      value: mean(local.value, (reply) => reply.value),
      perScale: local.perScale.map((v, s) => mean(v, (reply) => reply.perScale[s]!)),
      grads,
    };
  }

  /** Terminates every worker (the process can exit); idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private fail(slot: Slot, what: string): void {
    const error = this.workerError(slot, what);
    this.failure ??= error;
    for (const s of this.slots) {
      s.pending?.reject(error);
      s.pending = undefined;
    }
  }

  private workerError(slot: Slot, what: string, cause?: SerializedError): RwsegError {
    return workerFailure(slot.index, this.threads, what, cause);
  }
}

/** The one error a failing worker becomes, naming the worker and the thread count. */
function workerFailure(index: number, threads: number, what: string, cause?: SerializedError): RwsegError {
  return new RwsegError(
    'WORKER_FAILED',
    `data-parallel gradient worker ${index} (training.threads ${threads}) ${what}`,
    { worker: index, ...(cause ? { cause } : {}) },
  );
}

/** The variables' values, concatenated in order, in one buffer that can be transferred. */
async function flatten(variables: readonly tf.Variable[]): Promise<Float32Array> {
  const flat = tf.tidy(() => tf.concat(variables.map((v) => tf.reshape(v, [-1]))));
  const data = (await flat.data()) as Float32Array;
  flat.dispose();
  // The cpu backend hands out its own buffer, which for a single variable is the variable's: never transfer that.
  return variables.length === 1 ? data.slice() : data;
}

/** A share with its arrays copied out of the batch's buffers (a view would clone the whole buffer), and their buffers. */
function detach(share: Batch): { copy: Batch; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const own = <T extends Float32Array | Int32Array>(array: T): T => {
    const copy = array.slice() as T;
    transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  };
  const scales = share.scales.map((s) => ({
    shape: s.shape,
    labels: own(s.labels),
    target: own(s.target),
    maps: Object.fromEntries(Object.entries(s.maps).map(([k, m]) => [k, own(m)])),
  }));
  return { copy: { ...share, image: own(share.image), scales }, transfer };
}
