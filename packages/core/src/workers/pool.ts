/**
 * How rwseg starts worker threads, in one place for the data loader, the data-parallel gradient workers and the
 * map worker pool: the worker's flags, the start-up handshake, errors crossing the thread boundary, and the rule
 * that only plugin specifiers (never plugin objects) cross into a worker.
 */
import { Worker } from 'node:worker_threads';
import { RwsegError, type RwsegErrorCode, type SerializedError } from '../errors.js';
import type { PluginSpec } from '../plugins/config.js';
import type { RwsegPlugin } from '../plugins/api.js';

/** A worker's first message: it is ready, or it failed to build what it needs (registry, model, loss). */
export type StartupMessage = ReadyMessage | { type: 'init-error'; error: SerializedError };

/** 'ready', with whatever the worker reports about what it built (e.g. its loss's signature). */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly [field: string]: unknown;
}

/** Starts the worker script `file` with `workerData`, with the parent's flags minus those for a main script. */
export function spawnWorker(file: URL, workerData: unknown): Worker {
  // Flags for a main script given on the command line (--input-type) make no sense for, and break, a worker file.
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
  return new Worker(file, { workerData, execArgv });
}

/**
 * Resolves with the message when `worker` posts 'ready'; rejects with `failure(what, cause)` when it posts 'init-error', crashes or
 * exits first. The listeners it adds are removed once it settles.
 */
export function awaitReady(
  worker: Worker,
  failure: (what: string, cause?: SerializedError) => Error,
): Promise<ReadyMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => settle(failure(`it exited (code ${code})`));
    const onError = (error: Error) => settle(failure(error.message));
    const onMessage = (message: StartupMessage | { type: string }) => {
      if (message.type === 'ready') settle(undefined, message as ReadyMessage);
      else if (message.type === 'init-error')
        settle(
          failure((message as { error: SerializedError }).error.message, (message as { error: SerializedError }).error),
        );
      else settle(failure(`unexpected message ${message.type}`));
    };
    const settle = (error?: Error, ready?: ReadyMessage) => {
      worker.off('exit', onExit).off('error', onError).off('message', onMessage);
      if (error) reject(error);
      else resolve(ready!);
    };
    worker.on('exit', onExit).on('error', onError).once('message', onMessage);
  });
}

/**
 * Starts `count` workers of `file` and waits for each one's handshake; if any fails, all are terminated and the
 * first failure is thrown. `failure(i, what, cause)` makes the error for worker i; `check(ready, i)` may throw to
 * refuse what worker i reports it built.
 */
export async function startWorkers(
  file: URL,
  workerData: unknown,
  count: number,
  failure: (index: number, what: string, cause?: SerializedError) => Error,
  check?: (ready: ReadyMessage, index: number) => void,
): Promise<Worker[]> {
  const workers = Array.from({ length: count }, () => spawnWorker(file, workerData));
  // A late 'error' from a worker being terminated after a failed start must not crash the process as unhandled.
  const quiet = () => {};
  for (const worker of workers) worker.on('error', quiet);
  // Awaited before the check: `check?.(await ...)` would skip the await itself whenever there is no check.
  const started = await Promise.allSettled(
    workers.map(async (worker, i) => {
      const ready = await awaitReady(worker, (what, cause) => failure(i, what, cause));
      check?.(ready, i);
    }),
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw failed.reason;
  }
  for (const worker of workers) worker.off('error', quiet);
  return workers;
}

/** The error a worker sent back, as an RwsegError with its code (or `fallback` when it had none). */
export function reviveError(error: SerializedError, fallback: RwsegErrorCode = 'WORKER_FAILED'): RwsegError {
  return new RwsegError((error.code as RwsegErrorCode | undefined) ?? fallback, error.message, error.details);
}

/** Plugins are code: only package names, paths and specs can be sent to a worker, which loads them itself. */
export function checkPluginsCrossThreads(
  plugins: readonly (string | PluginSpec | RwsegPlugin)[],
  option: string,
): void {
  for (const plugin of plugins) {
    if (typeof plugin !== 'string' && !('specifier' in plugin)) {
      throw new RwsegError(
        'INVALID_OPTIONS',
        `${option}: plugin objects cannot cross into worker threads; give the plugin as a package name or a path`,
        { option },
      );
    }
  }
}
